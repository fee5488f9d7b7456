// The dashboard: revenue per location (today, week, month), the weekly trend, stock-outs,
// overstock, open alerts and registers that have gone quiet.

import { alertText } from "../alert_text";
import { api } from "../api";
import { drawTrend } from "../chart";
import { keepingInputs } from "../dom";
import { ago, count, dateTime, esc, money, type Lang } from "../format";
import { t, tOr } from "../i18n";
import { placeName, type PageFactory } from "../page";
import type { Dashboard, Location } from "../types";

type Chart = ReturnType<typeof drawTrend>;

export const dashboardPage: PageFactory = (ctx) => {
  const { lang, root } = ctx;
  let chart: Chart | null = null;
  ctx.onLeave(() => chart?.destroy());
  root.innerHTML = `<h1>${esc(t("page_dashboard", lang))}</h1><div class="dash-body"></div>`;
  const body = root.querySelector<HTMLElement>(".dash-body")!;

  return {
    async refresh() {
      const [d, locations] = await Promise.all([api.get<Dashboard>("/api/dashboard"), ctx.locations().catch(() => [] as Location[])]);
      chart?.destroy();
      chart = null;
      keepingInputs(body, () => {
        body.innerHTML = renderDashboard(d, locations, lang);
      });
      const canvas = body.querySelector<HTMLCanvasElement>("#trend-chart")!;
      const names = new Map(d.revenue.map((r) => [r.location, r.name]));
      chart = drawTrend(
        canvas,
        d.trend.weeks,
        d.trend.series.map((s) => ({ label: names.get(s.location) ?? s.location, cents: s.cents })),
        lang,
      );
    },
  };
};

export function renderDashboard(d: Dashboard, locations: Location[], lang: Lang): string {
  const now = Date.now();
  const w = (word: Parameters<typeof t>[0], vars?: Record<string, string | number>) => esc(t(word, lang, vars));
  const cell = (location: string, period: string, cents: number) =>
    `<td class="num" data-revenue data-location="${esc(location)}" data-period="${period}" data-cents="${cents}">${esc(money(cents, lang))}</td>`;
  const sum = (f: (r: Dashboard["revenue"][number]) => number) => d.revenue.reduce((a, r) => a + f(r), 0);

  const revenue = `
    <table class="grid">
      <caption class="visually-hidden">${w("revenue")}</caption>
      <thead><tr><th scope="col">${w("location")}</th><th scope="col">${w("channel")}</th>
        <th scope="col" class="num">${w("today")}</th><th scope="col" class="num">${w("week")}</th><th scope="col" class="num">${w("month")}</th></tr></thead>
      <tbody>${d.revenue
        .map(
          (r) => `<tr data-location="${esc(r.location)}"><th scope="row">${esc(r.name && r.name !== r.location ? `${r.name} (${r.location})` : r.location)}</th>
            <td>${w(r.kind === "online" ? "channel_online" : "channel_store")}</td>
            ${cell(r.location, "today", r.today_cents)}${cell(r.location, "week", r.week_cents)}${cell(r.location, "month", r.month_cents)}</tr>`,
        )
        .join("")}</tbody>
      <tfoot><tr><th scope="row" colspan="2">${w("total")}</th>
        <td class="num" data-revenue-total data-period="today" data-cents="${sum((r) => r.today_cents)}">${esc(money(sum((r) => r.today_cents), lang))}</td>
        <td class="num" data-revenue-total data-period="week" data-cents="${sum((r) => r.week_cents)}">${esc(money(sum((r) => r.week_cents), lang))}</td>
        <td class="num" data-revenue-total data-period="month" data-cents="${sum((r) => r.month_cents)}">${esc(money(sum((r) => r.month_cents), lang))}</td></tr></tfoot>
    </table>`;

  const trendTable = `
    <details class="figures" data-keep="trend">
      <summary>${w("trendTable")}</summary>
      <table class="grid">
        <caption class="visually-hidden">${w("trend")}</caption>
        <thead><tr><th scope="col">${w("location")}</th>${d.trend.weeks.map((wk) => `<th scope="col" class="num">${esc(wk)}</th>`).join("")}</tr></thead>
        <tbody>${d.trend.series
          .map(
            (s) =>
              `<tr data-trend="${esc(s.location)}"><th scope="row">${esc(placeName(s.location, locations))}</th>${s.cents
                .map((c, i) => `<td class="num" data-week="${esc(d.trend.weeks[i] ?? "")}" data-cents="${c}">${esc(money(c, lang))}</td>`)
                .join("")}</tr>`,
          )
          .join("")}</tbody>
      </table>
    </details>`;

  const stockOuts = d.stock_outs.length
    ? `<table class="grid"><thead><tr><th scope="col">${w("location")}</th><th scope="col">${w("sku")}</th><th scope="col">${w("name")}</th><th scope="col" class="num">${w("quantity")}</th></tr></thead>
        <tbody>${d.stock_outs
          .map(
            (s) =>
              `<tr data-stock-out data-location="${esc(s.location)}" data-sku="${esc(s.sku)}"><td>${esc(placeName(s.location, locations))}</td><td>${esc(s.sku)}</td><td>${esc(s.name)}</td><td class="num">${esc(count(s.quantity, lang))}</td></tr>`,
          )
          .join("")}</tbody></table>`
    : `<p class="muted">${w("none")}</p>`;

  const overstock = d.overstock.length
    ? `<table class="grid"><thead><tr><th scope="col">${w("location")}</th><th scope="col">${w("sku")}</th><th scope="col">${w("name")}</th><th scope="col" class="num">${w("quantity")}</th><th scope="col" class="num">${w("maxLevel")}</th></tr></thead>
        <tbody>${d.overstock
          .map(
            (s) =>
              `<tr data-overstock data-location="${esc(s.location)}" data-sku="${esc(s.sku)}"><td>${esc(placeName(s.location, locations))}</td><td>${esc(s.sku)}</td><td>${esc(s.name)}</td><td class="num">${esc(count(s.quantity, lang))}</td><td class="num">${esc(count(s.max_level, lang))}</td></tr>`,
          )
          .join("")}</tbody></table>`
    : `<p class="muted">${w("none")}</p>`;

  const alerts = d.alerts.length
    ? `<ul class="plain">${d.alerts
        .map(
          (a) =>
            `<li data-alert-kind="${esc(a.kind)}" data-alert-subject="${esc(a.subject)}"><span class="tag tag-${esc(a.kind)}">${esc(tOr(`kind_${a.kind}`, lang, a.kind))}</span> <span class="alert-text">${esc(alertText(a, locations, lang))}</span> <span class="muted">${esc(ago(a.raised_ms, now, lang))}</span></li>`,
        )
        .join("")}</ul>`
    : `<p class="muted">${w("none")}</p>`;

  const stale = d.stale_registers.length
    ? `<ul class="plain">${d.stale_registers
        .map(
          (r) =>
            `<li data-stale-register="${esc(r.id)}"><strong>${esc(r.id)}</strong> — ${esc(placeName(r.store, locations))} — ${w("lastSync")} ${esc(r.last_sync_ms == null ? t("never", lang) : ago(r.last_sync_ms, now, lang))}</li>`,
        )
        .join("")}</ul>`
    : `<p class="muted">${w("none")}</p>`;

  return `
    <p class="muted">${w("generatedAt", { day: d.today, time: dateTime(d.generated_ms) })}</p>
    <section class="card"><h2>${w("revenue")}</h2>${revenue}</section>
    <section class="card"><h2>${w("trend")}</h2>
      <div class="chart-box"><canvas id="trend-chart" role="img" aria-label="${w("trendLabel")}"></canvas></div>
      ${trendTable}
    </section>
    <div class="columns">
      <section class="card"><h2>${w("stockOuts")}</h2>${stockOuts}</section>
      <section class="card"><h2>${w("overstock")}</h2>${overstock}</section>
    </div>
    <div class="columns">
      <section class="card"><h2>${w("openAlerts")} <span id="dashboard-alert-count" class="count" data-count="${d.alerts.length}">${d.alerts.length}</span></h2>${alerts}
        <p><a href="#/alerts">${w("seeAll")}</a></p></section>
      <section class="card"><h2>${w("staleRegisters")}</h2>${stale}</section>
    </div>`;
}
