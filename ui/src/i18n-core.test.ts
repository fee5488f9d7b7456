import { chooseLang, fill, lookup, lookupOr } from "./i18n-core";

describe("the pages' shared word lookup", () => {
  const words = { hello: ["Bonjour {name}", "Hello {name}"], plain: ["Oui", "Yes"] } as const;

  it("picks the language and fills the holes it has values for", () => {
    expect(lookup(words, "hello", "fr", { name: "Ana" })).toBe("Bonjour Ana");
    expect(lookup(words, "hello", "en")).toBe("Hello {name}");
    expect(fill("{a} and {b}", { a: 1 })).toBe("1 and {b}");
  });

  it("falls back to the raw value for a word chosen at run time that the table lacks", () => {
    expect(lookupOr(words, "plain", "en", "x")).toBe("Yes");
    expect(lookupOr(words, "status_unknown", "en", "unknown")).toBe("unknown");
  });

  it("keeps a chosen language, else follows the browser's", () => {
    expect(chooseLang("en", "fr-CA")).toBe("en");
    expect(chooseLang(null, "FR")).toBe("fr");
    expect(chooseLang("de", undefined)).toBe("en");
  });
});
