import { chooseLang, t, tOr, WORDS, type Word } from "./i18n";
import { ALERT_KINDS } from "./pages/alerts";
import { PAGES } from "./router";

describe("the word table", () => {
  it("has a French and an English text for every key", () => {
    for (const [key, texts] of Object.entries(WORDS)) {
      expect(texts, key).toHaveLength(2);
      expect(texts[0].trim(), `${key} fr`).not.toBe("");
      expect(texts[1].trim(), `${key} en`).not.toBe("");
    }
  });
  it("uses the same holes in both languages", () => {
    const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, [fr, en]] of Object.entries(WORDS)) expect(holes(fr), key).toEqual(holes(en));
  });
  it("names every page, role, alert kind and tax class", () => {
    const needed = [
      ...PAGES.map((p) => `page_${p}`),
      ...["admin", "manager", "logistics"].map((r) => `role_${r}`),
      ...ALERT_KINDS.map((k) => `kind_${k}`),
      ...["standard", "zero_rated", "gst_only"].map((x) => `tax_${x}`),
      ...["picked", "shipped", "delivered"].map((s) => `step_${s}`),
    ];
    for (const k of needed) expect(Object.keys(WORDS), k).toContain(k);
  });
});

describe("t", () => {
  it("fills holes", () => {
    expect(t("reach", "en", { sku: "A1", version: 3, reached: 2, registers: 5 })).toBe("A1 (version 3): reached 2 of 5 registers");
    expect(t("signedInAs", "fr", { user: "marie", role: "Gestionnaire" })).toBe("Connecté : marie (Gestionnaire)");
  });
  it("leaves unknown holes as they are", () => {
    expect(t("period", "en", { from: "2026-01-01" })).toBe("Period: 2026-01-01 to {to}");
  });
  it("falls back for words chosen at run time", () => {
    expect(tOr("kind_low_stock", "fr", "x")).toBe("Stock bas");
    expect(tOr("kind_new_thing", "fr", "new_thing")).toBe("new_thing");
    expect(t("nope" as Word, "en")).toBe("nope");
  });
});

describe("chooseLang", () => {
  it("keeps a remembered choice", () => {
    expect(chooseLang("fr", "en-US")).toBe("fr");
    expect(chooseLang("en", "fr-CA")).toBe("en");
  });
  it("follows the browser otherwise", () => {
    expect(chooseLang(null, "fr-CA")).toBe("fr");
    expect(chooseLang(null, "FR")).toBe("fr");
    expect(chooseLang("de", "en-CA")).toBe("en");
    expect(chooseLang(null, undefined)).toBe("en");
  });
});
