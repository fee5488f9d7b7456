import { esc } from "../format";
import { t } from "../i18n";
import type { State } from "../state";

export function renderSettings(s: State): string {
  const l = s.lang;
  const v = s.view!;
  const st = v.settings;
  const id = v.identity;
  return `<section class="page">
    <h1>${t("settings", l)}</h1>
    ${id ? `<p>${t("register", l)} <b>${esc(id.register)}</b> · ${t("store", l)} <b>${esc(id.store_name)}</b> · ${t("server", l)} <code>${esc(id.server)}</code></p>` : ""}
    <form data-form="settings" class="settings">
      <label>${t("printer", l)}<input name="printer" id="set-printer" value="${esc(st.printer)}" placeholder="${t("printerHelp", l)}" /></label>
      <button type="button" data-action="test-print">${t("testPrint", l)}</button>
      <label>${t("scanner", l)}<input name="scanner" id="set-scanner" value="${esc(st.scanner)}" placeholder="${t("scannerHelp", l)}" /></label>
      <label>${t("language", l)}<select name="language" id="set-language">
        <option value="fr" ${st.language === "fr" ? "selected" : ""}>Français</option>
        <option value="en" ${st.language === "en" ? "selected" : ""}>English</option></select></label>
      <label>${t("columns", l)}<select name="columns">${[32, 42, 48]
        .map((c) => `<option ${st.columns === c ? "selected" : ""}>${c}</option>`)
        .join("")}</select></label>
      <button type="submit" class="primary big">⏎ ${t("save", l)}</button>
      <button type="button" data-action="sync-now">Ctrl+S ${t("syncNow", l)}</button>
    </form>
  </section>`;
}
