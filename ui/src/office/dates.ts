// Date boxes that read and write ISO days (2026-03-09) whatever the browser's locale: a text
// box with a pattern, checked before use. Chromium's <input type="date"> follows the browser's
// locale (mm/dd/yyyy in en-US) even under lang="fr-CA", so it is not used.

import { esc, type Lang } from "./format";
import { t } from "./i18n";

/** Whether `text` is a real calendar day written yyyy-mm-dd. */
export function isIsoDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** A date box: `value` is an ISO day or empty. */
export function dayInput(id: string, name: string, value: string, lang: Lang, required = false): string {
  const help = t("isoDateHelp", lang);
  return `<input type="text" id="${esc(id)}" name="${esc(name)}" value="${esc(value)}" class="day" inputmode="numeric" autocomplete="off"
    maxlength="10" pattern="\\d{4}-\\d{2}-\\d{2}" placeholder="${esc(help)}" title="${esc(help)}" data-iso-day${required ? " required" : ""} />`;
}

/** The first date box in `form` holding something that is not an ISO day (an empty optional
 * one is fine), else null. */
export function badDay(form: ParentNode): HTMLInputElement | null {
  for (const input of form.querySelectorAll<HTMLInputElement>("input[data-iso-day]")) {
    const text = input.value.trim();
    if ((text !== "" || input.required) && !isIsoDay(text)) return input;
  }
  return null;
}
