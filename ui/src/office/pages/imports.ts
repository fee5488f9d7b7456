// Import and export of the catalogue and of opening stock as CSV files, on the products page:
// links to download, and for roles that may edit, a file picker, a preview of what the file
// would change (the server checks every row and writes nothing), then Import.

import { api, Problem } from "../api";
import { esc, type Lang } from "../format";
import { t, tOr, type Word } from "../i18n";
import type { Ctx } from "../page";

/** What the server answers an import or its preview. */
export interface ImportReport {
  rows: number;
  new: number;
  changed: number;
  unchanged: number;
  first_changes: { line: number; key: string; status: string; cells: { column: string; before: string; after: string }[] }[];
  imported: boolean;
}

const KINDS = [
  { id: "products", title: "importProductsTitle", path: "/api/products" },
  { id: "stock", title: "importStockTitle", path: "/api/stock" },
] as const;

/** The panel's HTML: export links for everyone, the import form for editors. */
export function importHtml(lang: Lang, editor: boolean): string {
  const w = (word: Word) => esc(t(word, lang));
  const block = (k: (typeof KINDS)[number]) => `
    <div class="import-block" data-kind="${k.id}">
      <h3>${w(k.title)}</h3>
      <p><a href="${k.path}/export" download>${w("exportCsv")}</a> ·
         <a href="${k.path}/export?separator=semicolon" download>${w("exportCsvSemicolon")}</a></p>
      ${
        editor
          ? `<div class="toolbar">
               <div class="field grow"><label for="import-${k.id}-file">${w("importFile")}</label>
                 <input id="import-${k.id}-file" type="file" accept=".csv,text/csv" /></div>
               <button type="button" class="import-preview">${w("importPreview")}</button>
               <button type="button" class="import-go primary" disabled>${w("importNow")}</button>
             </div>
             <div class="import-result" aria-live="polite"></div>`
          : ""
      }
    </div>`;
  return `<section class="card imports"><h2>${w("importExport")}</h2>${KINDS.map(block).join("")}</section>`;
}

/** What a preview or an import answered, as HTML. */
export function reportHtml(report: ImportReport, lang: Lang): string {
  const vars = { rows: report.rows, new: report.new, changed: report.changed, unchanged: report.unchanged };
  const head = esc(t(report.imported ? "importDone" : "importCounts", lang, vars));
  if (report.imported || report.first_changes.length === 0) return `<p class="import-counts">${head}</p>`;
  const rows = report.first_changes
    .map((c) => {
      const cells = c.cells.map((x) => `${esc(x.column)} : ${esc(x.before)} → ${esc(x.after)}`).join("<br>");
      return `<tr><td>${c.line}</td><td>${esc(c.key)}</td><td>${esc(tOr(`status_${c.status}`, lang, c.status))}</td><td>${cells}</td></tr>`;
    })
    .join("");
  const w = (word: Word) => esc(t(word, lang));
  return `<p class="import-counts">${head}</p>
    <table class="import-changes"><thead><tr><th>${w("importLine")}</th><th>${w("importKey")}</th><th>${w("importStatus")}</th><th>${w("importCells")}</th></tr></thead>
    <tbody>${rows}</tbody></table>`;
}

/** A refused file, as HTML: one sentence, then each refused row. */
export function refusalHtml(problem: Problem, lang: Lang): string {
  const errors = problem.body.errors ?? [];
  const n = problem.body.error_count ?? errors.length;
  const items = errors
    .map((e) => `<li>${esc(t("importError", lang, { line: e.line, column: e.column || "—", reason: e.reason }))}</li>`)
    .join("");
  return `<p class="import-refused">${esc(t("importRefused", lang, { n }))}</p><ul class="import-errors">${items}</ul>`;
}

/** Wires the import forms of the panel inside `root`. */
export function wireImports(ctx: Ctx, root: HTMLElement): void {
  const { lang } = ctx;
  for (const kind of KINDS) {
    const block = root.querySelector<HTMLElement>(`.import-block[data-kind="${kind.id}"]`);
    const input = block?.querySelector<HTMLInputElement>("input[type=file]");
    if (!block || !input) continue;
    const go = block.querySelector<HTMLButtonElement>(".import-go")!;
    const result = block.querySelector<HTMLElement>(".import-result")!;
    input.addEventListener("change", () => {
      go.disabled = true;
      result.innerHTML = "";
    });
    const send = async (dryRun: boolean) => {
      const file = input.files?.[0];
      if (!file) {
        ctx.say(t("importChooseFirst", lang));
        return;
      }
      try {
        const url = `${kind.path}/import${dryRun ? "?dry_run=true" : ""}`;
        const report = await api.upload<ImportReport>(url, file, "text/csv");
        result.innerHTML = reportHtml(report, lang);
        go.disabled = !dryRun || report.new + report.changed === 0;
        const vars = { rows: report.rows, new: report.new, changed: report.changed, unchanged: report.unchanged };
        if (!dryRun) ctx.say(t("importDone", lang, vars));
      } catch (e) {
        go.disabled = true;
        if (e instanceof Problem && e.status === 422 && e.body.errors) {
          result.innerHTML = refusalHtml(e, lang);
          ctx.say(t("importRefused", lang, { n: e.body.error_count ?? e.body.errors.length }));
        } else {
          ctx.fail(e);
        }
      }
    };
    block.querySelector<HTMLButtonElement>(".import-preview")!.addEventListener("click", () => void send(true));
    go.addEventListener("click", () => void send(false));
  }
}
