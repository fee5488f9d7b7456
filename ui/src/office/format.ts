// How the head office pages write amounts, dates and times, in French (Canada) or English (Canada).

export { esc } from "../format";
export type Lang = "fr" | "en";

const moneyFormats = new Map<Lang, Intl.NumberFormat>();

/** Integer cents → "1 234,56 $" (fr-CA) or "$1,234.56" (en-CA). */
export function money(cents: number, lang: Lang): string {
  let f = moneyFormats.get(lang);
  if (!f) {
    f = new Intl.NumberFormat(lang === "fr" ? "fr-CA" : "en-CA", { style: "currency", currency: "CAD" });
    moneyFormats.set(lang, f);
  }
  return f.format(cents / 100);
}

/** A count: "1 234" (fr) or "1,234" (en). */
export function count(n: number, lang: Lang): string {
  return new Intl.NumberFormat(lang === "fr" ? "fr-CA" : "en-CA").format(n);
}

/** Integer cents → the dollars string the product form edits and the API takes: 1299 → "12.99". */
export function dollars(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(cents));
  return `${sign}${Math.floor(abs / 100)}.${(abs % 100).toString().padStart(2, "0")}`;
}

/** What was keyed in the price box, as the API reads dollars: " 12,5 $" → "12.5". The server checks it. */
export function priceText(keyed: string): string {
  return keyed.replace(/[\s\u00a0$]/g, "").replace(",", ".");
}

/** "A1 B2, C3;D4" → ["A1", "B2", "C3", "D4"], without repeats. */
export function splitBarcodes(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter((b) => b !== ""))];
}

const two = (n: number) => n.toString().padStart(2, "0");

/** A local calendar day as the API writes it: "2026-03-09". */
export function isoDay(d: Date): string {
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** This month to date, in local days: the report's default period. */
export function monthToDate(now: Date): { from: string; to: string } {
  return { from: isoDay(new Date(now.getFullYear(), now.getMonth(), 1)), to: isoDay(now) };
}

/** The sales report's address for a period, as JSON or as a CSV download. */
export function reportUrl(from: string, to: string, csv = false): string {
  const q = new URLSearchParams({ from, to, top: "10" });
  if (csv) q.set("format", "csv");
  return `/api/reports/sales?${q.toString()}`;
}

/** A local date and time, the same in both languages: "2026-11-22 14:05". */
export function dateTime(ms: number): string {
  const d = new Date(ms);
  return `${isoDay(d)} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** How long ago, in words: "5 min ago" / "il y a 5 min". */
export function ago(thenMs: number, nowMs: number, lang: Lang): string {
  const seconds = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  const rtf = new Intl.RelativeTimeFormat(lang === "fr" ? "fr-CA" : "en-CA", { numeric: "always", style: "short" });
  if (seconds < 60) return rtf.format(-seconds, "second");
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return rtf.format(-minutes, "minute");
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return rtf.format(-hours, "hour");
  return rtf.format(-Math.floor(hours / 24), "day");
}

/** A register's last contact with head office: the later of its last push and last pull. */
export function lastSync(pushMs: number | null, pullMs: number | null): number | null {
  if (pushMs == null) return pullMs;
  if (pullMs == null) return pushMs;
  return Math.max(pushMs, pullMs);
}

/** Silent for more than an hour (or never heard from). */
export function isStale(lastMs: number | null, nowMs: number): boolean {
  return lastMs == null || nowMs - lastMs > 60 * 60 * 1000;
}

/** The delivery steps an order may be marked with next, as the server says (`next`). */
export type OrderStep = "picked" | "shipped" | "delivered";

/**
 * The next step of an online order's fulfilment, or null when there is none to take. The server
 * sends the steps the order's status allows (`next`), so the page never copies the lifecycle;
 * a step this page has no button for is left out.
 */
export function nextStep(order: { next?: readonly string[] }): OrderStep | null {
  const known: readonly string[] = ["picked", "shipped", "delivered"];
  const step = (order.next ?? []).find((s) => known.includes(s));
  return (step as OrderStep | undefined) ?? null;
}

/** "SKU ×3, SKU2 ×1" for a short list of lines. */
export function linesText(lines: { sku: string; quantity: number }[]): string {
  return lines.map((l) => `${l.sku} ×${l.quantity}`).join(", ");
}

/** What was keyed in an amount box, in cents: "12,50 $" → 1250; null when it is not an amount. */
export function centsOf(keyed: string): number | null {
  const text = priceText(keyed);
  if (!/^\d+(\.\d{1,2})?$/.test(text)) return null;
  const [whole, part = ""] = text.split(".");
  return Number(whole) * 100 + Number(part.padEnd(2, "0"));
}
