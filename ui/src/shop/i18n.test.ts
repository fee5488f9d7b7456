import { chooseLang, t, WORDS } from "./i18n";

describe("the storefront's words", () => {
  it("has every word in both languages, with the same holes", () => {
    for (const [key, [fr, en]] of Object.entries(WORDS)) {
      expect(fr, key).not.toBe("");
      expect(en, key).not.toBe("");
      const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(holes(fr), key).toEqual(holes(en));
    }
  });

  it("says a declined card plainly, and keeps the cart", () => {
    expect(t("declined", "en")).toMatch(/declined.*cart is kept/);
    expect(t("declined", "fr")).toMatch(/refusée.*panier est conservé/);
  });

  it("follows the browser's language unless one was chosen", () => {
    expect(chooseLang(null, "fr-CA")).toBe("fr");
    expect(chooseLang(null, "en-US")).toBe("en");
    expect(chooseLang("en", "fr-CA")).toBe("en");
  });
});
