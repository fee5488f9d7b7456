import { hashDetail, hrefOf, mayOpen, PAGES, pagesFor, parseHash } from "./router";

describe("parseHash", () => {
  it("reads every page's hash", () => {
    for (const p of PAGES) expect(parseHash(hrefOf(p))).toBe(p);
  });
  it("falls back to the dashboard", () => {
    expect(parseHash("")).toBe("dashboard");
    expect(parseHash("#")).toBe("dashboard");
    expect(parseHash("#/")).toBe("dashboard");
    expect(parseHash("#/nowhere")).toBe("dashboard");
    expect(parseHash("#/constructor")).toBe("dashboard");
  });
  it("ignores trailing parts and case", () => {
    expect(parseHash("#/report?from=2026-01-01")).toBe("report");
    expect(parseHash("#/Products/ABC")).toBe("products");
    expect(parseHash("#alerts")).toBe("alerts");
  });
});

describe("pages by role", () => {
  it("shows people to admins only", () => {
    expect(mayOpen("admin", "people")).toBe(true);
    expect(mayOpen("manager", "people")).toBe(false);
    expect(mayOpen("logistics", "people")).toBe(false);
  });
  it("lists logistics pages without report, registers or people", () => {
    expect(pagesFor("logistics")).toEqual(["dashboard", "products", "replenishment", "alerts", "orders", "account"]);
  });
  it("lists every page for an admin, in nav order", () => {
    expect(pagesFor("admin")).toEqual([...PAGES]);
  });
  it("gives managers the report and registers", () => {
    expect(pagesFor("manager")).toEqual([
      "dashboard", "report", "products", "replenishment", "alerts", "registers", "orders", "claims", "audit", "account",
    ]);
  });
  it("keeps claims and the audit trail from logistics", () => {
    expect(mayOpen("logistics", "claims")).toBe(false);
    expect(mayOpen("logistics", "audit")).toBe(false);
  });
});

describe("hashDetail", () => {
  it("reads what follows the page", () => {
    expect(hashDetail("#/claims/R-ABCD-EFGH")).toBe("R-ABCD-EFGH");
    expect(hashDetail("#/claims")).toBeNull();
    expect(hashDetail("#/claims/")).toBeNull();
    expect(hashDetail("#/claims/R-1?x=1")).toBe("R-1");
  });
});
