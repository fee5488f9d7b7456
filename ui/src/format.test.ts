import { ago, dateTime, esc, keyedAmount, money, percent, rate, shortId, uuidHead } from "./format";

const NB = "\u00a0";

describe("money", () => {
  it("reads as Québec French and Canadian English", () => {
    expect(money(123456, "fr")).toBe(`1${NB}234,56${NB}$`);
    expect(money(123456, "en")).toBe("$1,234.56");
  });
  it("keeps cents and signs exact", () => {
    expect(money(5, "en")).toBe("$0.05");
    expect(money(-1999, "fr")).toBe(`-19,99${NB}$`);
    expect(money(0, "fr")).toBe(`0,00${NB}$`);
    expect(money(100000000, "en")).toBe("$1,000,000.00");
  });
  it("refuses fractions of a cent", () => {
    expect(() => money(1.5, "en")).toThrow();
  });
  it("writes amounts as the receipts do (shared-model/src/money/locale.rs)", () => {
    expect(money(2217, "fr")).toBe(`22,17${NB}$`);
    expect(money(2217, "en")).toBe("$22.17");
    expect(money(-2217, "fr")).toBe(`-22,17${NB}$`);
    expect(money(-2217, "en")).toBe("-$22.17");
    expect(money(-100000000000000, "fr")).toBe(`-1${NB}000${NB}000${NB}000${NB}000,00${NB}$`);
  });
});

describe("rate", () => {
  it("writes tax rates as the receipts do", () => {
    expect(rate(9975, "fr")).toBe(`9,975${NB}%`);
    expect(rate(9975, "en")).toBe("9.975%");
    expect(rate(5000, "fr")).toBe(`5${NB}%`);
    expect(rate(5000, "en")).toBe("5%");
    expect(rate(12500, "en")).toBe("12.5%");
    expect(() => rate(0.5, "en")).toThrow();
  });
});

describe("keyedAmount", () => {
  it("turns pad entries into the amounts the library reads", () => {
    expect(keyedAmount("20")).toBe("20.00");
    expect(keyedAmount("12.5")).toBe("12.50");
    expect(keyedAmount("12,5")).toBe("12.50");
    expect(keyedAmount(".75")).toBe("0.75");
    expect(keyedAmount("")).toBe("");
  });
  it("refuses what is not an amount", () => {
    expect(() => keyedAmount("1.234")).toThrow();
    expect(() => keyedAmount("12a")).toThrow();
  });
});

describe("percent, ago, shortId, esc", () => {
  it("formats", () => {
    expect(percent(1000, "en")).toBe("10%");
    expect(percent(1250, "fr")).toBe(`12,5${NB}%`);
    expect(ago(0, 42_000, "en")).toBe("42s");
    expect(ago(0, 5 * 60_000, "fr")).toBe(`5${NB}min`);
    expect(ago(0, 3 * 3_600_000, "en")).toBe("3 h");
    expect(ago(0, 72 * 3_600_000, "en")).toBe("3 d");
    expect(ago(10_000, 0, "en")).toBe("0s");
    expect(shortId("0193a0b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b")).toBe("…0c1d2e3f4a5b");
    expect(esc(`<b a="x">&'`)).toBe("&#60;b a=&#34;x&#34;&#62;&#38;&#39;");
  });
});

describe("dateTime", () => {
  it("is year-month-day and 24-hour time", () => {
    const ms = new Date(2026, 10, 22, 9, 5).getTime();
    expect(dateTime(ms)).toBe("2026-11-22 09:05");
  });
});

describe("uuidHead", () => {
  it("keeps a UUID's head, unlike shortId which keeps a receipt id's tail", () => {
    expect(uuidHead("0193a0b4-1c2d-7e3f-8a9b-0c1d2e3f4a5b")).toBe("0193a0b4…");
    expect(uuidHead("PLAT-2026-0042")).toBe("PLAT-2026-0042");
  });
});
