import { esc, money } from "../format";
import { t } from "../i18n";
import type { State } from "../state";

export function renderZ(s: State): string {
  const l = s.lang;
  const z = s.z;
  const report = z
    ? `<dl class="z" id="z-report">
        <dt>${t("sales", l)}</dt><dd id="z-sales">${z.sales_count}</dd>
        <dt>${t("returns", l)}</dt><dd>${z.returns_count}</dd>
        ${z.tenders.map((x) => `<dt>${t(x.kind as "cash", l)}</dt><dd>${t("taken", l)} ${money(x.taken, l)} · ${t("refunded", l)} ${money(x.refunded, l)}</dd>`).join("")}
        <dt>${t("openingFloat", l)}</dt><dd>${money(z.opening_float, l)}</dd>
        <dt>${t("expectedCash", l)}</dt><dd id="z-expected">${money(z.expected_cash, l)}</dd>
        ${z.counted_cash !== null ? `<dt>${t("countedCash", l)}</dt><dd>${money(z.counted_cash, l)}</dd><dt>${t("overShort", l)}</dt><dd>${money(z.over_short ?? 0, l)}</dd>` : ""}
      </dl>${z.closed ? `<p class="done"><strong>${t("closed", l)}</strong></p><pre>${esc(z.text)}</pre>` : ""}`
    : "";
  return `<section class="page">
    <h1>${t("zReport", l)}</h1>
    <form data-form="z" class="row">
      <label>${t("openingFloat", l)}<input name="float" id="z-float" inputmode="decimal" autocomplete="off" /></label>
      <label>${t("countedCash", l)}<input name="counted" id="z-counted" inputmode="decimal" autocomplete="off" /></label>
      <button type="submit" class="big">⏎ ${t("preview", l)}</button>
      <button type="button" class="big danger" data-action="close-till">F10 ${t("closeTill", l)}</button>
    </form>
    ${s.confirmClose ? `<p class="warn">${t("confirmClose", l)}</p>` : ""}
    ${report}
  </section>`;
}
