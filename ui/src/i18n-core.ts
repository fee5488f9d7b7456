// What the storefront's and the head office's word tables share: looking a word up in a
// language, filling its `{name}` holes, and choosing the language.

import type { Lang } from "./format";

/** A table of words: French first, then English. */
export type Words = Record<string, readonly [string, string]>;

/** `text` with its `{name}` holes filled from `vars`; holes without a value stay as they are. */
export function fill(text: string, vars: Record<string, string | number> = {}): string {
  return text.replace(/\{(\w+)\}/g, (hole, name: string) => (name in vars ? String(vars[name]) : hole));
}

/** A word of `words` in `lang`, filled from `vars`; the key itself when the table lacks it. */
export function lookup<W extends Words>(words: W, word: keyof W & string, lang: Lang, vars: Record<string, string | number> = {}): string {
  const entry: readonly [string, string] | undefined = words[word];
  if (!entry) return String(word);
  return fill(entry[lang === "fr" ? 0 : 1], vars);
}

/** A word chosen at run time (a status, an alert kind…): `fallback` when the table lacks it. */
export function lookupOr(words: Words, key: string, lang: Lang, fallback: string): string {
  return key in words ? lookup(words, key, lang) : fallback;
}

/** The remembered language, else French when the browser's language is French, else English. */
export function chooseLang(stored: string | null, browser: string | undefined): Lang {
  if (stored === "fr" || stored === "en") return stored;
  return (browser ?? "").toLowerCase().startsWith("fr") ? "fr" : "en";
}
