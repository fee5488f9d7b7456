// What an alert says, worded in the page's language from its code and parameters (the server's
// English `message` is for other readers).

import { uuidHead } from "../format";
import { count, money, type Lang } from "./format";
import { t, WORDS, type Word } from "./i18n";
import { placeName } from "./page";
import type { Alert, Location } from "./types";

/** Parameters shown as places, as amounts, as record ids or as counts. */
const PLACES = new Set(["location", "store", "sale_store", "to"]);
const RECORDS = new Set(["record", "sale"]);
const COUNTS = new Set(["quantity", "threshold", "returned", "sold", "times", "minutes", "failures", "window_minutes", "lock_minutes"]);

function shown(name: string, value: string, locations: Location[], lang: Lang): string {
  if (PLACES.has(name)) return placeName(value, locations);
  if (name === "account") return value.replace(/^(user|shopper):/, "");
  if (RECORDS.has(name)) return uuidHead(value);
  if (name === "cents" && /^-?\d+$/.test(value)) return money(Number(value), lang);
  if (COUNTS.has(name) && /^-?\d+$/.test(value)) return count(Number(value), lang);
  return value;
}

/** The alert as a sentence in `lang`. */
export function alertText(a: Pick<Alert, "kind" | "subject" | "location" | "sku" | "code" | "params" | "message">, locations: Location[], lang: Lang): string {
  const params = a.params ?? {};
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) vars[name] = shown(name, value, locations, lang);
  const coded = `alert_${a.code}`;
  // An alert raised before codes has its kind for a code and no parameters: worded by its kind.
  if (Object.keys(params).length > 0 && coded in WORDS) return t(coded as Word, lang, vars);
  const byKind = `alertOf_${a.kind}`;
  if (byKind in WORDS) {
    const subject = a.subject.replace(/^(user|shopper):/, "");
    return t(byKind as Word, lang, {
      subject: uuidHead(subject),
      sku: a.sku ?? "",
      location: a.location ? placeName(a.location, locations) : "",
    });
  }
  return a.message;
}
