import { dateTime, esc, money } from "../format";
import { t } from "../i18n";
import type { State } from "../state";

const ADJUST = ["damaged", "theft", "expired", "found", "correction", "internal_use"] as const;

export function renderStock(s: State): string {
  const l = s.lang;
  const st = s.stock;
  const figures = st
    ? `<h2 id="stock-product">${esc(st.product.name)} <small>${esc(st.product.sku)} · ${money(st.product.price, l)}</small></h2>
      <table class="lines" id="stock-table"><thead><tr><th>${t("location", l)}</th><th class="num">${t("onHand", l)}</th><th>${t("asOf", l)}</th></tr></thead>
      <tbody>${st.figures
        .map(
          (f) => `<tr class="${f.this_store ? "here" : ""}" data-location="${esc(f.location)}"><td>${esc(f.location)}${f.this_store ? ` (${t("thisStore", l)})` : ""}</td>
          <td class="num" data-quantity="${f.quantity}">${f.quantity}</td>
          <td>${f.this_store ? t("live", l) : f.as_of_ms !== null ? dateTime(f.as_of_ms) : "—"}</td></tr>`,
        )
        .join("")}</tbody></table>
      <div class="row actions">
        <form data-form="count" class="row"><label>${t("counted", l)}<input class="small" name="counted" type="number" /></label><button>${t("count", l)}</button></form>
        <form data-form="adjust" class="row"><label>${t("delta", l)}<input class="small" name="delta" type="number" /></label>
          <select name="reason">${ADJUST.map((r) => `<option value="${r}">${t(r, l)}</option>`).join("")}</select><button>${t("adjust", l)}</button></form>
        <form data-form="replenish" class="row"><label>${t("quantity", l)}<input class="small" name="quantity" type="number" min="1" /></label>
          <label>${t("note", l)}<input name="note" /></label><button>${t("replenish", l)}</button></form>
      </div>`
    : "";
  const transfers = s.transfers.length
    ? `<ul class="choices">${s.transfers
        .map(
          (x) => `<li><button data-receive="${esc(x.id)}">${t("receive", l)} · ${t("from", l)} ${esc(x.from)} · ${x.lines
            .map(([sku, q]) => `${esc(sku)} ×${q}`)
            .join(", ")}</button></li>`,
        )
        .join("")}</ul>`
    : `<p class="muted">${t("noTransfers", l)}</p>`;
  return `<section class="page">
    <h1>${t("stock", l)}</h1>
    <form data-form="stock" class="row">
      <label class="grow">${t("product", l)}<input id="stock-code" name="code" autocomplete="off" value="${esc(st?.product.sku ?? "")}" /></label>
      <button type="submit" class="big">⏎ ${t("lookUp", l)}</button>
    </form>
    ${figures}
    <h2>${t("transfers", l)}</h2>${transfers}
  </section>`;
}
