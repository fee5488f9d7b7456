import { esc, money, shortId, type Lang } from "../format";
import { t } from "../i18n";
import type { State } from "../state";

const REASONS = ["changed_mind", "defective", "wrong_item", "damaged_in_transit", "other"] as const;

function refundFields(l: Lang, online = false): string {
  const to = online
    ? `<p class="note" id="online-refund">${t("onlineRefund", l)}</p><input type="hidden" name="refund_to" value="online_card" />`
    : `<label>${t("refundTo", l)}<select name="refund_to">
      ${["cash", "debit", "credit"].map((k) => `<option value="${k}">${t(k as "cash", l)}</option>`).join("")}</select></label>`;
  return `${to}
    <label>${t("reason", l)}<select name="reason">
      ${REASONS.map((r) => `<option value="${r}">${t(r, l)}</option>`).join("")}</select></label>`;
}

export function renderReturn(s: State): string {
  const l = s.lang;
  const done = s.returnDone
    ? `<div class="done" id="return-done" data-refund="${s.returnDone.refund}">
        <strong>${t("refunded", l)} ${money(s.returnDone.refund, l)} (${t(s.returnDone.refund_to as "cash", l)})</strong>
        <span>${s.returnDone.printed ? t("printed", l) : s.returnDone.print_error ? `${t("notPrinted", l)}: ${esc(s.returnDone.print_error)}` : t("noPrinter", l)}</span>
        <small>${esc(shortId(s.returnDone.id))}</small></div>`
    : "";
  const found = s.lookup;
  const lines = found
    ? `<form data-form="return" id="return-form">
      <p>${found.online_order ? `${t("online", l)} ${esc(found.online_order)} · ` : ""}${esc(found.store)} · ${esc(found.business_day)} · ${t("total", l)} ${money(found.total, l)}</p>
      <table class="lines"><thead><tr><th>${t("item", l)}</th><th class="num">${t("sold", l)}</th><th class="num">${t("returned", l)}</th><th class="num">${t("total", l)}</th><th>${t("toReturn", l)}</th><th>${t("restock", l)}</th></tr></thead>
      <tbody>${found.lines
        .map(
          (line) => `<tr><td>${esc(line.description)}</td><td class="num">${line.sold}</td><td class="num">${line.returned}</td><td class="num">${money(line.total, l)}</td>
          <td><input class="small" type="number" min="0" max="${line.returnable}" name="qty-${line.index}" data-return-line="${line.index}" value="0" ${line.returnable ? "" : "disabled"} /></td>
          <td><input type="checkbox" name="restock-${line.index}" checked /></td></tr>`,
        )
        .join("")}</tbody></table>
      <div class="row">
        ${refundFields(l, Boolean(found.online_order))}
        <button class="primary big" type="submit" id="refund">F10 ${t("refund", l)}</button>
      </div></form>`
    : "";
  const u = s.unverified;
  const unverified = u
    ? `<div class="card" id="unverified"><p class="warn">${t("unverified", l)}</p>
      <form data-form="unverified-item" class="row">
        <label>${t("receiptStore", l)}<input class="small" id="unverified-store" name="store" value="${esc(u.store)}" autocomplete="off" /></label>
        <label class="grow">${t("product", l)}<input id="unverified-code" name="code" autocomplete="off" /></label>
        <label>${t("qty", l)}<input class="small" name="quantity" type="number" min="1" value="1" /></label>
        <button type="submit">⏎ ${t("add", l)}</button>
      </form>
      <ul id="unverified-items">${u.items.map(([code, q]) => `<li>${esc(code)} × ${q}</li>`).join("")}</ul>
      <form data-form="unverified" id="unverified-form" class="row">
        ${refundFields(l)}
        <button class="primary big" type="submit">F10 ${t("refund", l)}</button>
      </form></div>`
    : "";
  return `<section class="page">
    <h1>${t("returns", l)}</h1>
    <form data-form="find-sale" class="row">
      <label class="grow">${t("receipt", l)}<input id="receipt" name="receipt" autocomplete="off" spellcheck="false" /></label>
      <button type="submit" class="big">⏎ ${t("findSale", l)}</button>
    </form>
    ${done}${lines}${unverified}
  </section>`;
}
