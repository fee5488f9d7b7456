import type { View } from "../api";
import { initialState, selectedAfter } from "../state";
import { problemText } from "../i18n";
import { renderReturn } from "./returns";
import { renderSale } from "./sale";
import { renderStatus } from "./status";

function view(): View {
  return {
    identity: { register: "VMTL-01", store: "VMTL", store_name: "Vieux-Montréal", server: "http://127.0.0.1:8080" },
    cashier: { id: 1001, name: "Zoé" },
    sync: { online: false, pending: 3, oldest_pending_ms: 0, last_sync_ms: null, rejected: [{ seq: 4, kind: "sale", reason: "bad <total>" }] },
    cart: {
      lines: [
        { index: 0, sku: "SKU-1", description: "Café <moulu>", quantity: 2, unit_price: 899, discount_percent_bp: 1000, discount_amount: null, discount: 180, total: 1860 },
      ],
      gross: 1798, discounts: 180, net: 1618, gst: 81, qst: 161, total: 1860,
    },
    payment: { tenders: [], paid: 0, balance: 1860, cash_balance: 1860 },
    last_sale: null,
    parked: [],
    settings: { printer: "", scanner: "wedge", language: "fr", columns: 42 },
  };
}

describe("the sale screen", () => {
  it("shows the library's figures, escaped, in the screen's language", () => {
    const s = initialState();
    s.view = view();
    s.selected = 0;
    const html = renderSale(s);
    expect(html).toContain("Café &#60;moulu&#62;");
    expect(html).toContain('data-total="1860"');
    expect(html).toContain("18,60\u00a0$");
    expect(html).toContain("TPS");
    expect(html).toContain("(10\u00a0%)");
    expect(html).toContain('class="line selected"');
    s.lang = "en";
    expect(renderSale(s)).toContain("$18.60");
    expect(renderSale(s)).toContain("GST");
  });
  it("shows the change and whether the receipt printed", () => {
    const s = initialState();
    s.view = view();
    s.view.last_sale = { id: "x", total: 1860, paid: 2000, change: 140, rounding: 0, printed: false, print_error: "paper out" };
    const html = renderSale(s);
    expect(html).toContain('data-change="140"');
    expect(html).toContain("paper out");
  });
});

describe("the sync indicator", () => {
  it("says offline, pending, and why records were refused", () => {
    const s = initialState();
    s.view = view();
    const html = renderStatus(s, 120_000);
    expect(html).toContain('data-online="false"');
    expect(html).toContain('data-pending="3"');
    expect(html).toContain("2\u00a0min");
    expect(html).toContain("bad &#60;total&#62;");
  });
});

describe("the rest", () => {
  it("selects the new line after a scan, and stays in range after a removal", () => {
    expect(selectedAfter(-1, 0, 1)).toBe(0);
    expect(selectedAfter(0, 1, 2)).toBe(1);
    expect(selectedAfter(2, 3, 2)).toBe(1);
    expect(selectedAfter(0, 1, 0)).toBe(-1);
  });
  it("says known problems in French and unknown ones as the library said them", () => {
    expect(problemText({ code: "bad_pin", message: "wrong cashier number or PIN" }, "fr")).toContain("NIP");
    expect(problemText({ code: "refused", message: "cards pay more" }, "fr")).toBe("cards pay more");
  });
  it("says when a cashier locked out after wrong PINs may try again, on the screen's clock", () => {
    const at = new Date(2026, 10, 22, 14, 35).getTime();
    const locked = { code: "locked_out", message: "too many wrong PINs in a row", retry_at_ms: at };
    expect(problemText(locked, "fr")).toBe("Trop de NIP erronés de suite : ce caissier pourra réessayer à 14:35.");
    expect(problemText(locked, "en")).toContain("may try again at 14:35");
    expect(problemText({ code: "locked_out", message: "as the library said" }, "en")).toBe("as the library said");
  });
});

describe("the return screen", () => {
  it("offers the offline policy for a receipt it cannot check, with the items keyed so far", () => {
    const s = initialState();
    s.view = view();
    s.unverified = { receipt: "r", store: "PLAT", items: [["CAF-ESP-250", 2]] };
    const html = renderReturn(s);
    expect(html).toContain('id="unverified-form"');
    expect(html).toContain("CAF-ESP-250 × 2");
    expect(html).toContain('value="PLAT"');
    expect(html).toContain("200,00");
  });
});
