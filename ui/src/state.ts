// What the screen remembers between the library's answers: which screen is up, the entries
// being keyed, the message shown. Everything else is the last View the library sent.

import type { Lang } from "./format";
import type { Product, ReturnDone, ReturnLookup, StockView, Transfer, View, ZView } from "./api";
import type { Screen } from "./keys";

export type Modal =
  | { kind: "quantity"; index: number; entry: string }
  | { kind: "discount"; index: number; entry: string }
  | { kind: "parked" }
  | { kind: "reprint"; receipts: [string, string, number][] }
  | null;

export interface State {
  view: View | null;
  screen: Screen;
  lang: Lang;
  selected: number;
  found: Product[];
  modal: Modal;
  message: { text: string; error: boolean; field: string | null } | null;
  tenderEntry: string;
  creditApproval: string;
  lookup: ReturnLookup | null;
  /** A receipt that cannot be checked (head office out of reach): the items keyed so far. */
  unverified: { receipt: string; store: string; items: [string, number][] } | null;
  returnDone: ReturnDone | null;
  stock: StockView | null;
  transfers: Transfer[];
  z: ZView | null;
  confirmClose: boolean;
  /** When the last Enter in the scan field was pressed, for the keystroke-to-line figure. */
  scanStartedMs: number | null;
  lastScanToLineMs: number | null;
}

export function initialState(): State {
  return {
    view: null,
    screen: "sale",
    lang: "fr",
    selected: -1,
    found: [],
    modal: null,
    message: null,
    tenderEntry: "",
    creditApproval: "",
    lookup: null,
    unverified: null,
    returnDone: null,
    stock: null,
    transfers: [],
    z: null,
    confirmClose: false,
    scanStartedMs: null,
    lastScanToLineMs: null,
  };
}

/** The line a new view should have selected: the last one, or the same one if it still exists. */
export function selectedAfter(previous: number, previousCount: number, lineCount: number): number {
  if (lineCount === 0) return -1;
  if (lineCount > previousCount || previous < 0) return lineCount - 1;
  return Math.min(previous, lineCount - 1);
}
