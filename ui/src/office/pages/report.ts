// The sales report for a period: per store and channel, totals, top products, stock per
// location; a CSV download and a printable layout.

import { api } from "../api";
import { badDay, dayInput } from "../dates";
import { markField } from "../dom";
import { count, esc, money, monthToDate, reportUrl, type Lang } from "../format";
import { t, type Word } from "../i18n";
import { placeName, type PageFactory } from "../page";
import type { Fig, Location, SalesReport } from "../types";

const MONEY_FIELDS = ["net_sales", "gst", "qst", "collected", "net_refunds", "refunded"] as const;
const COUNT_FIELDS = ["sales", "returns", "redated"] as const;
const HEADS: Record<(typeof MONEY_FIELDS)[number] | (typeof COUNT_FIELDS)[number], Word> = {
  sales: "sales",
  returns: "returns",
  redated: "redated",
  net_sales: "netSales",
  gst: "gst",
  qst: "qst",
  collected: "collected",
  net_refunds: "netRefunds",
  refunded: "refunded",
};

export const reportPage: PageFactory = (ctx) => {
  const { lang, root } = ctx;
  const period = monthToDate(new Date());
  root.innerHTML = `
    <h1>${esc(t("page_report", lang))}</h1>
    <form id="report-form" class="toolbar" novalidate>
      <div class="field"><label for="report-from">${esc(t("from", lang))}</label>${dayInput("report-from", "from", period.from, lang, true)}</div>
      <div class="field"><label for="report-to">${esc(t("to", lang))}</label>${dayInput("report-to", "to", period.to, lang, true)}</div>
      <button type="submit" id="report-run" class="primary">${esc(t("run", lang))}</button>
      <a id="report-csv" class="button" href="${esc(reportUrl(period.from, period.to, true))}" download="sales-${period.from}-${period.to}.csv">${esc(t("csv", lang))}</a>
      <button type="button" id="report-print">${esc(t("print", lang))}</button>
    </form>
    <div class="report-body"></div>`;
  const form = root.querySelector<HTMLFormElement>("#report-form")!;
  const body = root.querySelector<HTMLElement>(".report-body")!;
  const from = root.querySelector<HTMLInputElement>("#report-from")!;
  const to = root.querySelector<HTMLInputElement>("#report-to")!;
  const csv = root.querySelector<HTMLAnchorElement>("#report-csv")!;
  /** The period on show: the form's dates once "show" is pressed. */
  let shown = { ...period };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const bad = badDay(form);
    if (bad) {
      markField(form, bad.name);
      bad.focus();
      ctx.fail(new Error(t("isoDateNeeded", lang)));
      return;
    }
    shown = { from: from.value, to: to.value };
    ctx.reload();
  });
  root.querySelector("#report-print")!.addEventListener("click", () => window.print());

  return {
    async refresh() {
      const [report, locations] = await Promise.all([
        api.get<SalesReport>(reportUrl(shown.from, shown.to)).catch((e) => {
          ctx.fail(e, form);
          throw e;
        }),
        ctx.locations().catch(() => [] as Location[]),
      ]);
      csv.href = reportUrl(report.from, report.to, true);
      csv.download = `sales-${report.from}-${report.to}.csv`;
      body.innerHTML = renderReport(report, locations, lang);
    },
  };
};

export function renderReport(r: SalesReport, locations: Location[], lang: Lang): string {
  const w = (word: Word, vars?: Record<string, string | number>) => esc(t(word, lang, vars));
  const fields = [...COUNT_FIELDS.slice(0, 2), ...MONEY_FIELDS, COUNT_FIELDS[2]] as const;
  const channel = (code: string) => (locations.find((l) => l.code === code)?.kind === "online" ? "online" : "store");
  const row = (f: Fig, store: string, head: string, ch: string) =>
    `<tr data-report-row="${esc(store)}"><th scope="row">${head}</th><td data-store="${esc(store)}" data-field="channel">${ch}</td>${fields
      .map((k) =>
        (MONEY_FIELDS as readonly string[]).includes(k)
          ? `<td class="num" data-store="${esc(store)}" data-field="${k}" data-cents="${f[k]}">${esc(money(f[k], lang))}</td>`
          : `<td class="num" data-store="${esc(store)}" data-field="${k}" data-value="${f[k]}">${esc(count(f[k], lang))}</td>`,
      )
      .join("")}</tr>`;

  const stores = `
    <table class="grid report">
      <caption>${w("byStore")}</caption>
      <thead><tr><th scope="col">${w("store")}</th><th scope="col">${w("channel")}</th>${fields
        .map((k) => `<th scope="col" class="num">${w(HEADS[k])}</th>`)
        .join("")}</tr></thead>
      <tbody>${r.stores
        .map((f) => {
          const ch = channel(f.store);
          return row(f, f.store, esc(placeName(f.store, locations)), `<span class="tag">${w(ch === "online" ? "channel_online" : "channel_store")}</span>`);
        })
        .join("")}</tbody>
      <tfoot>${row(r.total, "ALL", w("total"), w("allStores"))}</tfoot>
    </table>`;

  // Ranked by the server by revenue (net sales less net refunds, before tax).
  const top = r.top_products.length
    ? `<table class="grid top-products"><caption>${w("topProducts")}</caption>
        <thead><tr><th scope="col">#</th><th scope="col">${w("product")}</th><th scope="col" class="num">${w("revenueCol")}</th><th scope="col" class="num">${w("units")}</th></tr></thead>
        <tbody>${r.top_products
          .map(
            (p, i) =>
              `<tr data-top-sku="${esc(p.sku)}" data-rank="${i + 1}"><td>${i + 1}</td><td>${p.name ? `${esc(p.name)} <span class="muted">(${esc(p.sku)})</span>` : esc(p.sku)}</td><td class="num" data-cents="${p.net}">${esc(money(p.net, lang))}</td><td class="num" data-value="${p.units}">${esc(count(p.units, lang))}</td></tr>`,
          )
          .join("")}</tbody></table>`
    : `<h2>${w("topProducts")}</h2><p class="muted">${w("none")}</p>`;

  const stock = r.stock.length
    ? `<table class="grid"><caption>${w("stockByLocation")}</caption>
        <thead><tr><th scope="col">${w("location")}</th><th scope="col" class="num">${w("units")}</th></tr></thead>
        <tbody>${r.stock
          .map(
            (s) =>
              `<tr data-stock-location="${esc(s.location)}"><td>${esc(placeName(s.location, locations))}</td><td class="num" data-value="${s.units}">${esc(count(s.units, lang))}</td></tr>`,
          )
          .join("")}</tbody></table>`
    : `<h2>${w("stockByLocation")}</h2><p class="muted">${w("none")}</p>`;

  return `
    <p class="period" data-from="${esc(r.from)}" data-to="${esc(r.to)}">${w("period", { from: r.from, to: r.to })}</p>
    <section class="card scroll">${stores}</section>
    <div class="columns">
      <section class="card">${top}</section>
      <section class="card">${stock}</section>
    </div>`;
}
