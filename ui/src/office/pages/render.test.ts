import type { AuditEntry, Claim, Dashboard, Location, SalesReport } from "../types";
import { changes, renderAudit, periodMs, sentence } from "./audit";
import { namedLines, renderReplenishment, transferDefaults } from "./replenishment";
import { durationText, renderClaim, renderQueue } from "./claims";
import { renderAlerts, transferable } from "./alerts";
import { renderDashboard } from "./dashboard";
import { renderReport } from "./report";
import { renderUsers } from "./people";
import { renderChainForm } from "./settings";

const LOCATIONS: Location[] = [
  { code: "PLAT", kind: "store", name: "Plateau", address: "" },
  { code: "WEB", kind: "online", name: "Boutique en ligne", address: "" },
  { code: "ENT", kind: "logistics", name: "Entrepôt", address: "" },
];

const fig = (store: string, n: number) => ({
  store, sales: n, returns: 1, net_sales: n * 1000, gst: n * 50, qst: n * 99, collected: n * 1149, net_refunds: 100, refunded: 115, redated: 0,
});

function dom(html: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = html;
  return div;
}

describe("dashboard", () => {
  const d: Dashboard = {
    today: "2026-03-09",
    generated_ms: 0,
    revenue: [{ location: "PLAT", name: "Plateau", kind: "store", today_cents: 12345, week_cents: 50000, month_cents: 90000 }],
    trend: { weeks: ["2026-01-19"], series: [{ location: "PLAT", cents: [4200] }] },
    stock_outs: [],
    overstock: [{ location: "PLAT", sku: "A<1>", name: "<b>x</b>", quantity: 40, max_level: 20 }],
    alerts: [{ kind: "low_stock", subject: "PLAT/A", location: "PLAT", sku: "A", record_id: null, message: "low", code: "stock_low", params: { sku: "A", location: "PLAT", quantity: "2", threshold: "5" }, raised_ms: 0, resolved_ms: null, acknowledged_by: null, acknowledged_ms: null }],
    stale_registers: [{ id: "PLAT-02", store: "PLAT", last_sync_ms: null }],
  };
  const page = dom(renderDashboard(d, LOCATIONS, "en"));
  it("marks revenue cells with location, period and cents", () => {
    const cell = page.querySelector<HTMLElement>('td[data-revenue][data-location="PLAT"][data-period="today"]')!;
    expect(cell.dataset.cents).toBe("12345");
    expect(cell.textContent).toBe("$123.45");
  });
  it("escapes what the API sends", () => {
    const row = page.querySelector('tr[data-overstock][data-location="PLAT"][data-sku="A<1>"]')!;
    expect(row.querySelector("b")).toBeNull();
    expect(row.textContent).toContain("<b>x</b>");
  });
  it("counts alerts and lists stale registers", () => {
    expect(page.querySelector<HTMLElement>("#dashboard-alert-count")!.dataset.count).toBe("1");
    expect(page.querySelector('li[data-alert-kind="low_stock"][data-alert-subject="PLAT/A"]')).not.toBeNull();
    expect(page.querySelector('li[data-stale-register="PLAT-02"]')).not.toBeNull();
    expect(page.querySelector("canvas#trend-chart")!.getAttribute("aria-label")).not.toBe("");
    expect(page.querySelector('details table td[data-cents="4200"]')).not.toBeNull();
  });
  it("words alerts in the page's language", () => {
    const fr = dom(renderDashboard(d, LOCATIONS, "fr"));
    expect(fr.querySelector(".alert-text")!.textContent).toBe("Le stock de A à Plateau (PLAT) est de 2, au seuil de commande (5) ou en dessous.");
  });
});

describe("report", () => {
  const r: SalesReport = {
    from: "2026-03-01", to: "2026-03-09",
    stores: [fig("PLAT", 3), fig("WEB", 2)], total: fig("ALL", 5),
    top_products: [{ sku: "B", name: "Machine <pro>", units: 1, net: 90000 }, { sku: "A", name: "", units: 40, net: 4000 }], stock: [{ location: "ENT", units: 100 }],
  };
  const page = dom(renderReport(r, LOCATIONS, "fr"));
  it("gives each store's figures and the totals", () => {
    expect(page.querySelector<HTMLElement>('td[data-store="PLAT"][data-field="net_sales"]')!.dataset.cents).toBe("3000");
    expect(page.querySelector<HTMLElement>('td[data-store="PLAT"][data-field="sales"]')!.dataset.value).toBe("3");
    expect(page.querySelector<HTMLElement>('td[data-store="ALL"][data-field="collected"]')!.dataset.cents).toBe(String(5 * 1149));
    for (const f of ["net_sales", "gst", "qst", "collected", "net_refunds", "refunded", "redated", "sales", "returns"])
      expect(page.querySelector(`td[data-store="WEB"][data-field="${f}"]`), f).not.toBeNull();
  });
  it("lists top products in the server's order (by revenue) with their names and SKUs", () => {
    const rows = [...page.querySelectorAll<HTMLElement>("tr[data-top-sku]")];
    expect(rows.map((r) => r.dataset.topSku)).toEqual(["B", "A"]);
    expect(rows[0].textContent).toContain("Machine <pro> (B)");
    expect(rows[0].querySelector<HTMLElement>("[data-cents]")!.dataset.cents).toBe("90000");
    expect(rows[1].children[1].textContent).toBe("A");
  });
  it("tells the online shop from stores", () => {
    expect(page.querySelector('td[data-store="WEB"][data-field="channel"]')!.textContent).toBe("En ligne");
    expect(page.querySelector('td[data-store="PLAT"][data-field="channel"]')!.textContent).toBe("Magasin");
  });
});

describe("alerts", () => {
  const low = { kind: "low_stock", subject: "PLAT/A", location: "PLAT", sku: "A", record_id: null, message: "m", code: "low_stock", params: {}, raised_ms: 0, resolved_ms: null, acknowledged_by: null, acknowledged_ms: null };
  it("offers a transfer only for open stock alerts with a place and a product", () => {
    expect(transferable(low)).toBe(true);
    expect(transferable({ ...low, kind: "clock_skew" })).toBe(false);
    expect(transferable({ ...low, sku: null })).toBe(false);
    expect(transferable({ ...low, resolved_ms: 5 })).toBe(false);
  });
  it("shows buttons by role and who acknowledged", () => {
    const both = dom(renderAlerts([low], LOCATIONS, true, true, "en", 0));
    expect(both.querySelector('button[data-ack][data-kind="low_stock"][data-subject="PLAT/A"]')).not.toBeNull();
    expect(both.querySelector("button[data-transfer-from-alert]")).not.toBeNull();
    const manager = dom(renderAlerts([{ ...low, acknowledged_by: "marie", acknowledged_ms: 0 }], LOCATIONS, true, false, "en", 0));
    expect(manager.querySelector("button[data-ack]")).toBeNull();
    expect(manager.querySelector("button[data-transfer-from-alert]")).toBeNull();
    expect(manager.textContent).toContain("Acknowledged by marie");
  });
  it("words a coded alert from its parameters, and an older one from its kind", () => {
    const coded = {
      ...low, kind: "over_return", subject: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/0", code: "over_return_sale",
      params: { returned: "3", line: "1", sale: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", sold: "2" },
    };
    const fr = dom(renderAlerts([coded], LOCATIONS, true, true, "fr", 0)).querySelector(".alert-text")!.textContent;
    expect(fr).toBe("3 unité(s) retournée(s) de la ligne 1 de la vente 0190a1b2…, qui en a vendu 2.");
    const en = dom(renderAlerts([coded], LOCATIONS, true, true, "en", 0)).querySelector(".alert-text")!.textContent;
    expect(en).toBe("3 returned of line 1 of sale 0190a1b2…, which sold 2.");
    const old = dom(renderAlerts([low], LOCATIONS, true, true, "fr", 0)).querySelector(".alert-text")!.textContent;
    expect(old).toBe("Stock de A à Plateau (PLAT) au seuil de commande ou en dessous.");
    const unknown = { ...low, kind: "new_kind", code: "new_kind", message: "As the server says" };
    expect(dom(renderAlerts([unknown], LOCATIONS, true, true, "fr", 0)).querySelector(".alert-text")!.textContent).toBe("As the server says");
  });
  it("names a locked account without its prefix", () => {
    const locked = { ...low, kind: "account_locked", subject: "user:marie", code: "account_locked_for", params: { account: "user:marie", failures: "20", window_minutes: "15", lock_minutes: "30" } };
    const text = dom(renderAlerts([locked], LOCATIONS, true, true, "fr", 0)).querySelector(".alert-text")!.textContent!;
    expect(text.startsWith("Le compte marie a eu 20 échecs de connexion en 15 min")).toBe(true);
  });
  it("writes amounts in a refusal in the page's language", () => {
    const refused = { ...low, kind: "refund_failed", subject: "k", code: "claim_refund_refused", params: { cents: "1250", claim: "R-AB", reason: "card expired" } };
    const text = dom(renderAlerts([refused], LOCATIONS, true, true, "fr", 0)).querySelector(".alert-text")!.textContent!;
    expect(text.replace(/[\u00a0\u202f]/g, " ")).toBe("Le remboursement de 12,50 $ sur la réclamation R-AB a été refusé par le processeur de paiement : card expired");
  });
});

describe("people", () => {
  it("offers enable to disabled users and an inline password form", () => {
    const page = dom(renderUsers([{ username: "bob", role: "logistics", disabled: true }, { username: "ann", role: "admin", disabled: false }], "bob", "ann", "en"));
    expect(page.querySelector('button[data-enable="bob"]')).not.toBeNull();
    expect(page.querySelector('form[data-reset-form="bob"] input[data-reset-password="bob"]')).not.toBeNull();
    expect(page.querySelector('button[data-reset="ann"]')).not.toBeNull();
  });
});

describe("claims", () => {
  const claim: Claim = {
    id: "R-ABCD-EFGH",
    version: 3,
    state: "in_progress",
    subject: { channel: "online", order: 12, customer: 4 },
    store: "WEB",
    kind: "damaged_item",
    lines: [{ line_number: 1, sku: "CAF-250", quantity: 1 }, { line_number: 3, sku: "THE-20", quantity: 2 }],
    description: "torn <bag>\nsecond line",
    contact_email: "ana@example.com",
    contact_name: "Ana",
    language: "en",
    assignee: "marie",
    outcome: null,
    reason: null,
    refunded_cents: 0,
    refund_sent_cents: 0,
    filed_ms: 0,
    updated_ms: 0,
    closed_ms: null,
    events: [
      { position: 1, version: 1, type: "submitted", data: {}, actor: "customer:4", request_id: null, at_ms: 0 },
      { position: 2, version: 2, type: "assigned", data: { agent: "marie" }, actor: "marie", request_id: "r", at_ms: 1 },
      { position: 3, version: 3, type: "started", data: null, actor: "marie", request_id: "r", at_ms: 2 },
    ],
    allowed: ["assign", "resolve", "reject"],
    receipt_number: null,
  };

  it("shows the purchase by its number and counts lines from 1", () => {
    const online = dom(renderClaim(claim, true, "marie", "fr", LOCATIONS));
    expect(online.querySelector("#claim-purchase")!.textContent).toBe("W-12");
    expect([...online.querySelectorAll("li[data-line]")].map((l) => l.textContent)).toEqual(["Ligne 1 : 1 × CAF-250", "Ligne 3 : 2 × THE-20"]);
    const store = { ...claim, subject: { channel: "store" as const, receipt: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b" }, receipt_number: "VMTL-01-000123" };
    const page = dom(renderClaim(store, true, "marie", "en", LOCATIONS));
    expect(page.querySelector("#claim-purchase")!.textContent).toBe("VMTL-01-000123");
    expect(page.innerHTML).not.toContain("0190a1b2-c3d4");
    expect(page.querySelector("li[data-line]")!.textContent).toBe("Line 1: 1 × CAF-250");
  });

  it("offers the actions its state allows, and only to an agent", () => {
    const page = dom(renderClaim(claim, true, "marie", "en", LOCATIONS));
    const actions = [...page.querySelectorAll<HTMLFormElement>("form[data-action]")].map((f) => f.dataset.action);
    expect(actions).toEqual(["assign", "resolve", "reject"]);
    expect(page.querySelector("[name='outcome.amount_cents']")).not.toBeNull();
    expect(page.querySelector("#claim-state")!.getAttribute("data-version")).toBe("3");
    expect(page.querySelectorAll("ol.history li")).toHaveLength(3);
    expect(page.innerHTML).not.toContain("<bag>");
    expect(dom(renderClaim(claim, false, "marie", "en", LOCATIONS)).querySelectorAll("form")).toHaveLength(0);
  });

  it("writes the median time to a decision in minutes, hours or days", () => {
    expect(durationText(20_000, "en")).toBe("1 min");
    expect(durationText(5 * 3_600_000, "fr")).toBe("5.0 h");
    expect(durationText(72 * 3_600_000, "en")).toBe("3.0 days");
  });

  it("says how far behind the queue is", () => {
    const fresh = dom(renderQueue([], { position: 4, head: 4, behind: 0 }, LOCATIONS, "en"));
    expect(fresh.querySelector(".freshness")!.textContent).toBe("Up to date");
    const late = dom(renderQueue([], { position: 2, head: 4, behind: 2 }, LOCATIONS, "fr"));
    expect(late.querySelector(".freshness")!.getAttribute("data-behind")).toBe("2");
  });
});

describe("audit", () => {
  it("shows before and after, escaped", () => {
    const entry: AuditEntry = {
      seq: 7, at_ms: 0, actor: "marie", action: "claim.resolve", object: "claim:R-1", request_id: "r1",
      before_state: '{"state":"in_progress"}', after_state: '{"state":"<resolved>"}', prev_hash: "a", hash: "b",
    };
    const page = dom(renderAudit([entry], "en"));
    expect(page.querySelector("tr[data-seq='7']")!.getAttribute("data-action")).toBe("claim.resolve");
    expect(page.innerHTML).toContain("&lt;resolved&gt;");
    expect(dom(renderAudit([], "fr")).textContent).toContain("Aucune entrée.");
  });

  it("reads as a sentence in the page's language, with the changed fields before → after", () => {
    const entry: AuditEntry = {
      seq: 8, at_ms: 0, actor: "marie", action: "product.update", object: "product:CAF-ESP-250", request_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
      before_state: '{"name":"Espresso","price":1299,"description":null,"max_level":0}',
      after_state: '{"name":"Espresso","price":1349,"description":null,"max_level":40}', prev_hash: "a", hash: "b",
    };
    const fr = dom(renderAudit([entry], "fr"));
    expect(fr.querySelector(".sentence")!.textContent).toBe("marie a modifié le produit CAF-ESP-250");
    expect([...fr.querySelectorAll(".changes li")].map((l) => l.textContent!.replace(/[\u00a0\u202f]/g, " "))).toEqual(["prix : 12,99 $ → 13,49 $", "stock maximum : 0 → 40"]);
    expect(fr.textContent).not.toContain("null");
    expect(fr.textContent).not.toContain("0190a1b2");
    expect(sentence(entry, "en")).toBe("marie changed product CAF-ESP-250");
    expect(sentence({ ...entry, actor: "system", action: "transfer.start", object: "transfer:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", after_state: '{"number":7}' }, "fr"))
      .toBe("Le système a envoyé le transfert T-7");
    expect(sentence({ ...entry, action: "thing.new", object: "thing:x" }, "en")).toBe("marie did “thing.new” to thing:x");
    expect(changes(null, '{"role":"manager","disabled":false}')).toEqual([
      { field: "role", before: null, after: "manager" },
      { field: "disabled", before: null, after: false },
    ]);
  });

  it("reads a period of whole days", () => {
    const { from_ms, to_ms } = periodMs("2026-03-01", "2026-03-01");
    expect(to_ms! - from_ms!).toBe(24 * 3600 * 1000 - 1);
    expect(periodMs("", "")).toEqual({ from_ms: null, to_ms: null });
  });
});

describe("settings", () => {
  it("fills the chain's receipt details, escaped, and leaves an unset number empty", () => {
    const page = dom(renderChainForm({ legal_name: "Caisse <inc>", gst_number: "123456789 RT 0001", qst_number: null }, "fr"));
    expect(page.querySelector<HTMLInputElement>("[name=legal_name]")!.value).toBe("Caisse <inc>");
    expect(page.querySelector<HTMLInputElement>("[name=gst_number]")!.value).toBe("123456789 RT 0001");
    expect(page.querySelector<HTMLInputElement>("[name=qst_number]")!.value).toBe("");
    expect(page.querySelector("label[for=chain-gst_number]")!.textContent).toBe("N° d'inscription TPS");
  });
});

describe("replenishment", () => {
  const request = {
    id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", number: 12, store: "PLAT", requested_ms: 0, note: null, status: "pending" as const, decided_by: null,
    lines: [{ sku: "CAF-ESP-250", quantity: 3 }], names: { "CAF-ESP-250": "Espresso 250 g" },
  };
  const transfer = {
    id: "0190a1b2-0000-7e5f-8a9b-0c1d2e3f4a5b", number: 7, from: "ENT", to: "PLAT", lines: [{ sku: "CAF-ESP-250", quantity: 2 }],
    names: { "CAF-ESP-250": "Espresso 250 g" }, shipped_ms: 0, received: false,
  };
  it("shows short numbers and product names, not UUIDs", () => {
    const page = dom(renderReplenishment([request], [], [transfer], new Map(), "ENT", LOCATIONS, true, "fr"));
    expect(page.querySelector(".request-head strong")!.textContent).toBe("R-12");
    expect(page.querySelector('tr[data-request] td')!.textContent).toBe("Espresso 250 g (CAF-ESP-250)");
    expect(page.querySelector("tr[data-transfer] td")!.textContent).toBe("T-7");
    expect(page.querySelector("tr[data-transfer]")!.textContent).toContain("Espresso 250 g (CAF-ESP-250) ×2");
    expect(page.textContent).not.toContain("0190a1b2-c3d4");
    expect(namedLines([{ sku: "X", quantity: 1 }], {})).toBe("X ×1");
  });
  it("sends from the logistics centre to a store by default, never to the same place", () => {
    expect(transferDefaults(LOCATIONS.filter((l) => l.kind !== "online"))).toEqual({ from: "ENT", to: "PLAT" });
    expect(transferDefaults([{ code: "A", kind: "store" }, { code: "B", kind: "store" }])).toEqual({ from: "A", to: "B" });
  });
});
