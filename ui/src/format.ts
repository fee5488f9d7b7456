// How amounts, quantities and times read on the screen, in French (Québec) or English
// (Canada). The figures themselves come from the register library, in cents. Amounts and rates
// follow the same rules as the receipts (shared-model/src/money/locale.rs), checked on the same
// examples in both test suites.

export type Lang = "fr" | "en";

const NBSP = "\u00a0";

/** 123456 cents → "1 234,56 $" (fr) or "$1,234.56" (en). */
export function money(cents: number, lang: Lang): string {
  if (!Number.isInteger(cents)) throw new Error(`not a number of cents: ${cents}`);
  const negative = cents < 0;
  const abs = Math.abs(cents);
  const units = Math.floor(abs / 100).toString();
  const fraction = (abs % 100).toString().padStart(2, "0");
  const group = lang === "fr" ? NBSP : ",";
  const grouped = units.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  const sign = negative ? "-" : "";
  return lang === "fr" ? `${sign}${grouped},${fraction}${NBSP}$` : `${sign}$${grouped}.${fraction}`;
}

/** The amount a cashier keys on the pad, as the library reads it: "12.5" → "12.50". */
export function keyedAmount(digits: string): string {
  const clean = digits.replace(",", ".");
  if (clean === "") return "";
  if (!/^\d{0,7}(\.\d{0,2})?$/.test(clean)) throw new Error(`not an amount: ${digits}`);
  const [whole, fraction = ""] = clean.split(".");
  return `${whole === "" ? "0" : whole}.${fraction.padEnd(2, "0")}`;
}

/** A tax rate in thousandths of a percent → "9,975 %" (fr) or "9.975%" (en), no trailing zeros. */
export function rate(thousandths: number, lang: Lang): string {
  if (!Number.isInteger(thousandths)) throw new Error(`not a rate: ${thousandths}`);
  const sign = thousandths < 0 ? "-" : "";
  const abs = Math.abs(thousandths);
  const fraction = (abs % 1000).toString().padStart(3, "0").replace(/0+$/, "");
  const whole = Math.floor(abs / 1000).toString();
  const point = lang === "fr" ? "," : ".";
  const number = fraction === "" ? whole : `${whole}${point}${fraction}`;
  return lang === "fr" ? `${sign}${number}${NBSP}%` : `${sign}${number}%`;
}

/** Basis points → "10 %" (fr) or "10%" (en). */
export function percent(basisPoints: number, lang: Lang): string {
  const value = (basisPoints / 100).toString().replace(".", lang === "fr" ? "," : ".");
  return lang === "fr" ? `${value}${NBSP}%` : `${value}%`;
}

/** How long ago, in words short enough for the status bar. */
export function ago(thenMs: number, nowMs: number, lang: Lang): string {
  const seconds = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (seconds < 60) return lang === "fr" ? `${seconds}${NBSP}s` : `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return lang === "fr" ? `${minutes}${NBSP}min` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return lang === "fr" ? `${hours}${NBSP}h` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return lang === "fr" ? `${days}${NBSP}j` : `${days} d`;
}

/** A local time of day, 24-hour: "14:05". */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${d.getHours().toString().padStart(2, "0")}:${d.getMinutes().toString().padStart(2, "0")}`;
}

/** A local date and time, the same in both languages: "2026-11-22 14:05". */
export function dateTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => n.toString().padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${clock(ms)}`;
}

/** A receipt id shortened for lists; the whole id stays in the receipt and its QR code. */
export function shortId(id: string): string {
  return id.length > 13 ? `…${id.slice(-12)}` : id;
}

/** A record's UUID cut to its head, what a person compares by eye on the office pages; any other
 * id whole. (Not `shortId`, which keeps a receipt id's tail.) */
export function uuidHead(id: string): string {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(id) ? `${id.slice(0, 8)}…` : id;
}

/** Escapes text for HTML. */
export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
