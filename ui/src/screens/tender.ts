import { esc, money } from "../format";
import { t } from "../i18n";
import type { State } from "../state";
import { renderPad } from "./signin";

const QUICK_CASH = [500, 1000, 2000, 5000, 10000];

export function renderTender(s: State): string {
  const v = s.view!;
  const l = s.lang;
  const p = v.payment;
  const tenders = p.tenders
    .map((x) => `<li>${t(x.kind as "cash" | "debit" | "credit", l)} <b>${money(x.amount, l)}</b></li>`)
    .join("");
  return `<section class="tender" id="tender-screen" tabindex="-1">
    <div class="left">
      <dl class="due">
        <dt>${t("total", l)}</dt><dd id="tender-total">${money(v.cart.total, l)}</dd>
        <dt>${t("paid", l)}</dt><dd>${money(p.paid, l)}</dd>
        <dt class="grand">${t("balance", l)}</dt><dd class="grand" id="balance" data-balance="${p.balance}">${money(p.balance, l)}</dd>
        <dt>${t("cashBalance", l)}</dt><dd id="cash-balance">${money(p.cash_balance, l)}</dd>
      </dl>
      ${tenders ? `<h3>${t("tenders", l)}</h3><ul class="tenders" id="tenders">${tenders}</ul>` : ""}
      <label>${t("approval", l)} (${t("credit", l)})<input id="approval" value="${esc(s.creditApproval)}" autocomplete="off" /></label>
    </div>
    <div class="right">
      <output id="tender-entry" class="entry">${s.tenderEntry ? esc(s.tenderEntry) : money(p.cash_balance, l)}</output>
      ${renderPad("tender")}
      <div class="quick">${QUICK_CASH.map((c) => `<button data-quick="${c}">${money(c, l)}</button>`).join("")}</div>
      <div class="tender-keys">
        <button class="primary big" id="pay-cash" data-tender="cash">⏎ ${t("cash", l)}</button>
        <button class="big" id="pay-debit" data-tender="debit">F2 ${t("debit", l)}</button>
        <button class="big" id="pay-credit" data-tender="credit">F3 ${t("credit", l)}</button>
        <button data-action="Escape">Échap/Esc ${t("cancelTenders", l)}</button>
      </div>
    </div>
  </section>`;
}
