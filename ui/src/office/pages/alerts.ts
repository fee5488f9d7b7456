// Alerts: filter by kind, acknowledge, and for low or negative stock at a location start a
// transfer to it from the logistics centre or another store.

import { alertText } from "../alert_text";
import { api, query } from "../api";
import { clearMarks, keepingInputs } from "../dom";
import { ago, count, dateTime, esc, type Lang } from "../format";
import { t, tOr, type Word } from "../i18n";
import { placeName, type PageFactory } from "../page";
import { can } from "../roles";
import type { Alert, Location, StockRow } from "../types";

export const ALERT_KINDS = [
  "negative_stock",
  "low_stock",
  "over_return",
  "unverified_return",
  "clock_skew",
  "transfer_mismatch",
  "unknown_sku",
  "unknown_location",
  "impossible_day",
  "refund_failed",
  "mail_failed",
  "account_locked",
] as const;

/** Whether an alert can be answered with a transfer of stock to its location. */
export function transferable(a: Pick<Alert, "kind" | "location" | "sku" | "resolved_ms">): boolean {
  return (a.kind === "low_stock" || a.kind === "negative_stock") && !!a.location && !!a.sku && a.resolved_ms == null;
}

export const alertsPage: PageFactory = (ctx) => {
  const { lang, root } = ctx;
  const w = (word: Word, vars?: Record<string, string | number>) => esc(t(word, lang, vars));
  const acker = can(ctx.session.role, "ack_alerts");
  const mover = can(ctx.session.role, "create_transfers");
  let alerts: Alert[] = [];
  let locations: Location[] = [];

  root.innerHTML = `
    <h1>${w("page_alerts")}</h1>
    <form id="alert-filter" class="toolbar" novalidate>
      <div class="field"><label for="alert-kind">${w("kind")}</label>
        <select id="alert-kind" name="kind"><option value="">${w("allKinds")}</option>${ALERT_KINDS.map(
          (k) => `<option value="${k}">${esc(t(`kind_${k}`, lang))}</option>`,
        ).join("")}</select></div>
      <div class="check"><input type="checkbox" id="alert-open" name="open" checked /><label for="alert-open">${w("openOnly")}</label></div>
    </form>
    <div id="transfer-box"></div>
    <section class="card scroll"><div class="alerts-list"></div></section>`;
  const list = root.querySelector<HTMLElement>(".alerts-list")!;
  const kind = root.querySelector<HTMLSelectElement>("#alert-kind")!;
  const openOnly = root.querySelector<HTMLInputElement>("#alert-open")!;
  const box = root.querySelector<HTMLElement>("#transfer-box")!;

  root.querySelector("#alert-filter")!.addEventListener("change", () => ctx.reload());
  root.querySelector("#alert-filter")!.addEventListener("submit", (e) => e.preventDefault());

  list.addEventListener("click", async (e) => {
    const target = e.target as HTMLElement;
    const ack = target.closest<HTMLButtonElement>("button[data-ack]");
    if (ack) {
      ack.disabled = true;
      try {
        await api.post("/api/alerts/acknowledge", { kind: ack.dataset.kind, subject: ack.dataset.subject });
        ctx.say(t("acknowledged", lang));
        ctx.reload();
      } catch (err) {
        ack.disabled = false;
        ctx.fail(err);
      }
      return;
    }
    const move = target.closest<HTMLButtonElement>("button[data-transfer-from-alert]");
    if (move) {
      const a = alerts.find((x) => x.kind === move.dataset.kind && x.subject === move.dataset.subject);
      if (a) await openTransfer(a);
    }
  });

  async function openTransfer(a: Alert) {
    const to = a.location!;
    const sku = a.sku!;
    try {
      const rows = await api.get<StockRow[]>(`/api/stock${query({ sku })}`);
      const stock = new Map(rows.map((r) => [r.location, r.quantity]));
      const sources = locations
        .filter((l) => (l.kind === "logistics" || l.kind === "store") && l.code !== to)
        .sort((x, y) => (x.kind === y.kind ? (stock.get(y.code) ?? 0) - (stock.get(x.code) ?? 0) : x.kind === "logistics" ? -1 : 1));
      box.innerHTML = transferFormHtml(to, sku, sources, stock, locations, lang);
      const form = box.querySelector<HTMLFormElement>("#transfer-form")!;
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        clearMarks(form);
        const from = form.querySelector<HTMLSelectElement>("#transfer-from")!.value;
        const quantity = Number(form.querySelector<HTMLInputElement>("#transfer-qty")!.value.trim());
        const submit = form.querySelector<HTMLButtonElement>("#transfer-submit")!;
        submit.disabled = true;
        try {
          await api.post("/api/transfers", { from, to, lines: [{ sku, quantity }] });
          box.innerHTML = "";
          ctx.say(t("transferSent", lang));
          ctx.reload();
        } catch (err) {
          submit.disabled = false;
          ctx.fail(err, form);
        }
      });
      form.querySelector("#transfer-cancel")!.addEventListener("click", () => {
        box.innerHTML = "";
      });
      form.querySelector<HTMLInputElement>("#transfer-qty")!.focus();
    } catch (err) {
      ctx.fail(err);
    }
  }

  return {
    async refresh() {
      const [got, locs] = await Promise.all([
        api.get<Alert[]>(`/api/alerts${query({ open: openOnly.checked ? "true" : "", kind: kind.value })}`),
        ctx.locations(),
      ]);
      alerts = got;
      locations = locs;
      keepingInputs(list, () => {
        list.innerHTML = renderAlerts(alerts, locations, acker, mover, lang, Date.now());
      });
    },
  };
};

export function renderAlerts(alerts: Alert[], locations: Location[], acker: boolean, mover: boolean, lang: Lang, now: number): string {
  const w = (word: Word, vars?: Record<string, string | number>) => esc(t(word, lang, vars));
  if (!alerts.length) return `<p class="muted" data-count="0">${w("noAlerts")}</p>`;
  return `
    <table class="grid" data-count="${alerts.length}">
      <caption class="visually-hidden">${w("page_alerts")}</caption>
      <thead><tr><th scope="col">${w("kind")}</th><th scope="col">${w("location")}</th><th scope="col">${w("sku")}</th>
        <th scope="col">${w("message")}</th><th scope="col">${w("raised")}</th><th scope="col">${w("status")}</th><th scope="col">${w("actions")}</th></tr></thead>
      <tbody>${alerts
        .map((a) => {
          const status = a.resolved_ms != null
            ? w("resolved", { time: dateTime(a.resolved_ms) })
            : a.acknowledged_by
              ? w("acknowledgedBy", { user: a.acknowledged_by, time: a.acknowledged_ms ? dateTime(a.acknowledged_ms) : "" })
              : `<strong>${w("open")}</strong>`;
          const buttons = [
            acker && !a.acknowledged_by && a.resolved_ms == null
              ? `<button type="button" data-ack data-kind="${esc(a.kind)}" data-subject="${esc(a.subject)}">${w("acknowledge")}</button>`
              : "",
            mover && transferable(a)
              ? `<button type="button" data-transfer-from-alert data-kind="${esc(a.kind)}" data-subject="${esc(a.subject)}" data-location="${esc(a.location ?? "")}" data-sku="${esc(a.sku ?? "")}">${w("transferFor")}</button>`
              : "",
          ].join(" ");
          return `<tr data-alert-kind="${esc(a.kind)}" data-alert-subject="${esc(a.subject)}"${a.acknowledged_by ? ` data-acknowledged-by="${esc(a.acknowledged_by)}"` : ""}>
            <td><span class="tag tag-${esc(a.kind)}">${esc(tOr(`kind_${a.kind}`, lang, a.kind))}</span></td>
            <td>${esc(a.location ? placeName(a.location, locations) : "")}</td><td>${esc(a.sku ?? "")}</td>
            <td class="alert-text" lang="${lang}">${esc(alertText(a, locations, lang))}</td><td title="${esc(dateTime(a.raised_ms))}">${esc(ago(a.raised_ms, now, lang))}</td>
            <td class="ack">${status}</td><td class="actions">${buttons}</td></tr>`;
        })
        .join("")}</tbody>
    </table>`;
}

function transferFormHtml(to: string, sku: string, sources: Location[], stock: Map<string, number>, locations: Location[], lang: Lang): string {
  const w = (word: Word, vars?: Record<string, string | number>) => esc(t(word, lang, vars));
  return `
    <section class="card transfer" aria-labelledby="transfer-title">
      <h2 id="transfer-title">${w("transferTitle", { sku, to: placeName(to, locations) })}</h2>
      <form id="transfer-form" class="toolbar" data-to="${esc(to)}" data-sku="${esc(sku)}" novalidate>
        <div class="field"><label for="transfer-from">${w("transferFrom")}</label>
          <select id="transfer-from" name="from">${sources
            .map(
              (l) =>
                `<option value="${esc(l.code)}" data-quantity="${stock.get(l.code) ?? 0}">${w("stockOf", { name: l.name || l.code, code: l.code, n: count(stock.get(l.code) ?? 0, lang) })}</option>`,
            )
            .join("")}</select></div>
        <div class="field"><label for="transfer-qty">${w("quantity")}</label><input id="transfer-qty" name="quantity" type="number" min="1" step="1" class="qty" /></div>
        <button type="submit" id="transfer-submit" class="primary">${w("send")}</button>
        <button type="button" id="transfer-cancel">${w("cancel")}</button>
      </form>
    </section>`;
}
