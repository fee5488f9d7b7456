import {
  ago, centsOf, dateTime, dollars, isStale, isoDay, lastSync, linesText, money, monthToDate, nextStep, priceText, reportUrl, splitBarcodes,
} from "./format";

const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

describe("money", () => {
  it("writes Canadian dollars in English", () => {
    expect(money(123456, "en")).toBe("$1,234.56");
    expect(money(-5, "en")).toBe("-$0.05");
    expect(money(0, "en")).toBe("$0.00");
  });
  it("writes Canadian dollars in French", () => {
    expect(plain(money(123456, "fr"))).toBe("1 234,56 $");
    expect(plain(money(99, "fr"))).toBe("0,99 $");
  });
});

describe("product form helpers", () => {
  it("turns cents into the dollars the API takes", () => {
    expect(dollars(1299)).toBe("12.99");
    expect(dollars(5)).toBe("0.05");
    expect(dollars(100000)).toBe("1000.00");
    expect(dollars(-250)).toBe("-2.50");
  });
  it("reads a keyed price", () => {
    expect(priceText(" 12,99 $")).toBe("12.99");
    expect(priceText("$4.5")).toBe("4.5");
    expect(priceText("abc")).toBe("abc");
  });
  it("splits barcodes on spaces, commas and semicolons", () => {
    expect(splitBarcodes(" 123 456,789;; 123 ")).toEqual(["123", "456", "789"]);
    expect(splitBarcodes("")).toEqual([]);
  });
});

describe("periods", () => {
  it("is this month to date by default", () => {
    expect(monthToDate(new Date(2026, 2, 9, 15, 0))).toEqual({ from: "2026-03-01", to: "2026-03-09" });
    expect(monthToDate(new Date(2026, 0, 1, 0, 5))).toEqual({ from: "2026-01-01", to: "2026-01-01" });
  });
  it("writes local days", () => {
    expect(isoDay(new Date(2026, 11, 31, 23, 59))).toBe("2026-12-31");
    expect(dateTime(new Date(2026, 10, 22, 14, 5).getTime())).toBe("2026-11-22 14:05");
  });
  it("builds the report and CSV addresses", () => {
    expect(reportUrl("2026-03-01", "2026-03-09")).toBe("/api/reports/sales?from=2026-03-01&to=2026-03-09&top=10");
    expect(reportUrl("2026-03-01", "2026-03-09", true)).toBe("/api/reports/sales?from=2026-03-01&to=2026-03-09&top=10&format=csv");
  });
});

describe("registers and orders", () => {
  it("takes the later of push and pull", () => {
    expect(lastSync(null, null)).toBeNull();
    expect(lastSync(5, null)).toBe(5);
    expect(lastSync(null, 7)).toBe(7);
    expect(lastSync(9, 7)).toBe(9);
  });
  it("calls a register stale after an hour of silence", () => {
    const now = 10 * 3600_000;
    expect(isStale(null, now)).toBe(true);
    expect(isStale(now - 3600_000, now)).toBe(false);
    expect(isStale(now - 3600_001, now)).toBe(true);
  });
  it("says how long ago", () => {
    const now = 1_000_000_000;
    expect(ago(now - 5 * 60_000, now, "en")).toMatch(/5 min/);
    expect(ago(now - 3 * 3600_000, now, "fr")).toMatch(/3/);
    expect(ago(now + 10_000, now, "en")).toMatch(/0/);
  });
  it("moves an order on by the step the server allows", () => {
    expect(nextStep({ next: ["picked"] })).toBe("picked");
    expect(nextStep({ next: ["shipped"] })).toBe("shipped");
    expect(nextStep({ next: ["delivered"] })).toBe("delivered");
    expect(nextStep({ next: [] })).toBeNull();
    // An older server sends no steps; a step this page has no button for is not offered.
    expect(nextStep({})).toBeNull();
    expect(nextStep({ next: ["returned"] })).toBeNull();
  });
  it("lists lines", () => {
    expect(linesText([{ sku: "A", quantity: 2 }, { sku: "B", quantity: 1 }])).toBe("A ×2, B ×1");
  });
});

describe("centsOf", () => {
  it("reads dollars as keyed in French or English", () => {
    expect(centsOf("12,50 $")).toBe(1250);
    expect(centsOf("$3.5")).toBe(350);
    expect(centsOf("7")).toBe(700);
  });
  it("refuses what is not an amount", () => {
    expect(centsOf("")).toBeNull();
    expect(centsOf("-1")).toBeNull();
    expect(centsOf("1.234")).toBeNull();
    expect(centsOf("abc")).toBeNull();
  });
});
