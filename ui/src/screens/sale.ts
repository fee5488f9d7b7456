import { esc, money, percent, shortId } from "../format";
import { t } from "../i18n";
import type { State } from "../state";

export function renderSale(s: State): string {
  const v = s.view!;
  const l = s.lang;
  const lines = v.cart.lines
    .map(
      (line) => `<tr class="line${line.index === s.selected ? " selected" : ""}" data-line="${line.index}">
        <td class="desc">${esc(line.description)}<small>${esc(line.sku)}</small></td>
        <td class="num qty">${line.quantity}</td>
        <td class="num">${money(line.unit_price, l)}</td>
        <td class="num">${
          line.discount
            ? `-${money(line.discount, l)}${line.discount_percent_bp ? ` (${percent(line.discount_percent_bp, l)})` : ""}`
            : ""
        }</td>
        <td class="num total">${money(line.total, l)}</td>
      </tr>`,
    )
    .join("");
  const found = s.found.length
    ? `<ul class="found" id="found">${s.found
        .map(
          (p) => `<li><button type="button" data-add="${esc(p.sku)}" ${p.active ? "" : "disabled"}>
            <span>${esc(p.name)}</span><small>${esc(p.category)} · ${esc(p.sku)}</small><b>${money(p.price, l)}</b></button></li>`,
        )
        .join("")}</ul>`
    : "";
  const last = v.last_sale;
  const banner = last
    ? `<div class="done" id="last-sale" data-sale-id="${esc(last.id)}">
        <span>${t("saleDone", l)} · ${t("total", l)} ${money(last.total + last.rounding, l)} · ${t("paid", l)} ${money(last.paid, l)}</span>
        <strong id="change-due" data-change="${last.change}">${t("change", l)} ${money(last.change, l)}</strong>
        <span id="receipt-state" data-printed="${last.printed}">${
          last.printed ? t("printed", l) : last.print_error ? `${t("notPrinted", l)}: ${esc(last.print_error)} — F7 ${t("reprint", l)}` : t("noPrinter", l)
        }</span>
      </div>`
    : "";
  const c = v.cart;
  return `<section class="sale">
    <div class="left">
      <input id="scan" class="scan" autocomplete="off" spellcheck="false" placeholder="${t("scanHere", l)}" />
      ${found}
      ${banner}
      <table class="lines" id="lines">
        <thead><tr><th>${t("item", l)}</th><th class="num">${t("qty", l)}</th><th class="num">${t("price", l)}</th><th class="num">${t("discount", l)}</th><th class="num">${t("total", l)}</th></tr></thead>
        <tbody>${lines || `<tr><td colspan="5" class="muted empty">${t("emptySale", l)}</td></tr>`}</tbody>
      </table>
    </div>
    <aside class="totals" id="totals">
      <dl>
        <dt>${t("subtotal", l)}</dt><dd>${money(c.gross, l)}</dd>
        ${c.discounts ? `<dt>${t("discounts", l)}</dt><dd>-${money(c.discounts, l)}</dd>` : ""}
        <dt>${t("gst", l)}</dt><dd id="gst">${money(c.gst, l)}</dd>
        <dt>${t("qst", l)}</dt><dd id="qst">${money(c.qst, l)}</dd>
        <dt class="grand">${t("total", l)}</dt><dd class="grand" id="total" data-total="${c.total}">${money(c.total, l)}</dd>
      </dl>
      <button class="primary big" data-action="F10" ${c.lines.length ? "" : "disabled"}>F10 ${t("pay", l)}</button>
    </aside>
  </section>`;
}

export function renderModal(s: State): string {
  const m = s.modal;
  const v = s.view!;
  const l = s.lang;
  if (!m) return "";
  let body = "";
  if (m.kind === "quantity" || m.kind === "discount") {
    const line = v.cart.lines[m.index];
    const label = m.kind === "quantity" ? t("quantity", l) : `${t("discount", l)} (10% / 2.50)`;
    body = `<form data-form="${m.kind}"><h2>${esc(line?.description ?? "")}</h2>
      <label>${label}<input id="modal-input" name="entry" value="${esc(m.entry)}" autocomplete="off" /></label>
      <p class="muted">${t("confirm", l)}</p></form>`;
  } else if (m.kind === "parked") {
    body = `<h2>${t("parked", l)}</h2><ul class="choices">${v.parked
      .map(
        (p) => `<li><button data-resume="${p.id}">#${p.id} · ${p.lines} ${t("line", l)}(s) · ${money(p.total, l)}</button></li>`,
      )
      .join("")}</ul><p class="muted">${t("confirm", l)}</p>`;
  } else if (m.kind === "reprint") {
    body = `<h2>${t("reprint", l)}</h2><ul class="choices" id="receipts">${m.receipts
      .map(
        ([id, kind, total]) =>
          `<li><button data-reprint="${esc(id)}">${t(kind === "sale" ? "sale" : "returns", l)} · ${money(total, l)} · ${esc(shortId(id))}</button></li>`,
      )
      .join("")}</ul><p class="muted">${t("confirm", l)}</p>`;
  }
  return `<div class="modal-back"><div class="modal card">${body}</div></div>`;
}
