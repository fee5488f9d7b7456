import { Problem } from "../api";
import { importHtml, refusalHtml, reportHtml, type ImportReport } from "./imports";

function dom(html: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = html;
  return div;
}

describe("the import panel", () => {
  it("offers exports to every role and the file picker only to editors", () => {
    const reader = dom(importHtml("fr", false));
    expect(reader.querySelectorAll('a[href="/api/products/export?separator=semicolon"]')).toHaveLength(1);
    expect(reader.querySelector("input[type=file]")).toBeNull();
    const editor = dom(importHtml("en", true));
    expect(editor.querySelectorAll("input[type=file]")).toHaveLength(2);
    expect(editor.querySelector<HTMLButtonElement>(".import-go")!.disabled).toBe(true);
  });

  it("previews the counts and the changed cells, escaped", () => {
    const report: ImportReport = {
      rows: 3, new: 1, changed: 1, unchanged: 1, imported: false,
      first_changes: [{ line: 3, key: "A<1>", status: "changed", cells: [{ column: "price", before: "4.00", after: "4.25" }] }],
    };
    const page = dom(reportHtml(report, "fr"));
    expect(page.querySelector(".import-counts")!.textContent).toBe("3 lignes : 1 nouvelles, 1 modifiées, 1 inchangées.");
    const cells = [...page.querySelectorAll("tbody td")].map((td) => td.textContent);
    expect(cells).toEqual(["3", "A<1>", "modifié", "price : 4.00 → 4.25"]);
  });

  it("says in one sentence that nothing was imported, then names each refused row", () => {
    const problem = new Problem(422, {
      detail: "1 row(s) refused",
      error_count: 1,
      errors: [{ line: 6002, column: "price", reason: "a price is between 0.00 and 1000000.00" }],
    });
    const page = dom(refusalHtml(problem, "en"));
    expect(page.querySelector(".import-refused")!.textContent).toBe("1 row(s) refused: nothing was imported. Fix the file and try again.");
    expect(page.querySelector(".import-errors li")!.textContent).toBe("Line 6002, column price: a price is between 0.00 and 1000000.00");
  });
});
