// What every page is given, and what it gives back.

import type { Lang } from "./format";
import type { Location, Session } from "./types";

export interface Ctx {
  lang: Lang;
  session: Session;
  /** The page's own element inside main#page; replaced on every navigation. */
  root: HTMLElement;
  /** A sentence for #message (not an error). */
  say(text: string): void;
  /** Shows a refusal's detail in #message and marks its field inside `scope`, if it has one. */
  fail(e: unknown, scope?: ParentNode | null): void;
  /** The locations, fetched once per sign-in. */
  locations(): Promise<Location[]>;
  /** Fetches the page's figures again (after an action of its own). */
  reload(): void;
  /** Runs when the page is left (timers, charts). */
  onLeave(fn: () => void): void;
}

export interface Page {
  /** Fetches the page's figures and renders them; main#page is data-ready when it resolves. */
  refresh(): Promise<void>;
  /** A server change event arrived (debounced); by default the page refreshes. */
  changed?(topics: string[]): void;
}

export type PageFactory = (ctx: Ctx) => Page;

/** Name and code of a location, escaped by the caller. */
export function placeName(code: string, locations: Location[]): string {
  const l = locations.find((x) => x.code === code);
  return l && l.name && l.name !== code ? `${l.name} (${code})` : code;
}
