// The register library's answers, as the Tauri shell forwards them. Amounts are in cents.

import { invoke } from "@tauri-apps/api/core";
import type { TimedKey } from "./keys";

export interface Problem {
  code: string;
  message: string;
  field: string | null;
  /** When the cashier may try again (locked out after wrong PINs). */
  retry_at_ms?: number;
}

export interface Line {
  index: number;
  sku: string;
  description: string;
  quantity: number;
  unit_price: number;
  discount_percent_bp: number | null;
  discount_amount: number | null;
  discount: number;
  total: number;
}

export interface SyncState {
  online: boolean;
  pending: number;
  oldest_pending_ms: number | null;
  last_sync_ms: number | null;
  rejected: { seq: number; kind: string; reason: string }[];
}

export interface Settings {
  printer: string;
  scanner: string;
  language: "fr" | "en";
  columns: number;
}

export interface LastSale {
  id: string;
  total: number;
  paid: number;
  change: number;
  rounding: number;
  printed: boolean;
  print_error: string | null;
}

export interface View {
  identity: { register: string; store: string; store_name: string; server: string } | null;
  cashier: { id: number; name: string } | null;
  sync: SyncState;
  cart: { lines: Line[]; gross: number; discounts: number; net: number; gst: number; qst: number; total: number };
  payment: { tenders: { kind: string; amount: number }[]; paid: number; balance: number; cash_balance: number };
  last_sale: LastSale | null;
  parked: { id: number; at_ms: number; lines: number; total: number }[];
  settings: Settings;
}

/** What a tender did, said outright by the register: still owed, or the sale is complete. */
export type Tendered =
  | { outcome: "balance_due"; balance: number; view: View }
  | { outcome: "completed"; sale: LastSale; view: View };

export interface Product {
  sku: string;
  name: string;
  category: string;
  barcode: string | null;
  price: number;
  active: boolean;
}

export interface ScanOutcome {
  scanned: string | null;
  typed: string | null;
  leftover: string;
  found: Product[];
  view: View;
}

export interface ReturnLookup {
  id: string;
  /** Set for an online order: refunded to its card by head office, no refund method to pick. */
  online_order: string | null;
  store: string;
  business_day: string;
  total: number;
  lines: { index: number; description: string; sold: number; returned: number; returnable: number; total: number }[];
}

export interface ReturnDone {
  id: string;
  refund: number;
  refund_to: string;
  printed: boolean;
  print_error: string | null;
}

export interface StockView {
  product: Product;
  figures: { location: string; quantity: number; as_of_ms: number | null; this_store: boolean }[];
}

export interface Transfer {
  id: string;
  from: string;
  lines: [string, number][];
}

export interface ZView {
  business_day: string;
  sales_count: number;
  returns_count: number;
  tenders: { kind: string; taken: number; refunded: number }[];
  opening_float: number;
  expected_cash: number;
  counted_cash: number | null;
  over_short: number | null;
  closed: boolean;
  text: string;
}

/** A call the library refused: the problem it named. */
export class Refusal extends Error {
  constructor(public problem: Problem) {
    super(problem.message);
  }
}

async function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    if (e && typeof e === "object" && "code" in e && "message" in e) throw new Refusal(e as Problem);
    throw new Refusal({ code: "internal", message: String(e), field: null });
  }
}

export const api = {
  view: () => call<View>("view"),
  syncStatus: () => call<SyncState>("sync_status"),
  syncNow: () => call<void>("sync_now"),
  uiReady: () => call<void>("ui_ready"),
  enrol: (server: string, code: string) => call<View>("enrol", { server, code }),
  signIn: (cashier: string, pin: string) => call<View>("sign_in", { cashier, pin }),
  signOut: () => call<View>("sign_out"),
  scanKeys: (keys: TimedKey[]) => call<ScanOutcome>("scan_keys", { keys }),
  addItem: (code: string, quantity = 1) => call<View>("add_item", { code, quantity }),
  search: (text: string) => call<Product[]>("search", { text }),
  setQuantity: (index: number, quantity: number) => call<View>("set_quantity", { index, quantity }),
  setDiscount: (index: number, discount: string) => call<View>("set_discount", { index, discount }),
  removeLine: (index: number) => call<View>("remove_line", { index }),
  voidSale: () => call<View>("void_sale"),
  park: () => call<View>("park"),
  resume: (id: number) => call<View>("resume", { id }),
  addTender: (kind: string, amount: string, approval = "") =>
    call<Tendered>("add_tender", { kind, amount, approval }),
  clearTenders: () => call<View>("clear_tenders"),
  reprint: (id?: string) => call<View>("reprint", { id: id ?? null }),
  recentReceipts: () => call<[string, string, number][]>("recent_receipts"),
  findSale: (receipt: string) => call<ReturnLookup>("find_sale", { receipt }),
  takeReturn: (picks: { index: number; quantity: number; restock: boolean }[], refundTo: string, reason: string) =>
    call<ReturnDone>("take_return", { picks, refundTo, reason }),
  takeUnverifiedReturn: (receipt: string, store: string, items: [string, number][], refundTo: string, reason: string) =>
    call<ReturnDone>("take_unverified_return", { receipt, store, items, refundTo, reason }),
  stock: (code: string) => call<StockView>("stock", { code }),
  countStock: (code: string, counted: number) => call<StockView>("count_stock", { code, counted }),
  adjustStock: (code: string, delta: number, reason: string) => call<StockView>("adjust_stock", { code, delta, reason }),
  incomingTransfers: () => call<Transfer[]>("incoming_transfers"),
  receiveTransfer: (id: string) => call<Transfer[]>("receive_transfer", { id }),
  requestReplenishment: (code: string, quantity: number, note: string) =>
    call<string>("request_replenishment", { code, quantity, note }),
  zReport: (openingFloat: string, counted: string, close: boolean) =>
    call<ZView>("z_report", { openingFloat, counted, close }),
  saveSettings: (settings: Settings) => call<View>("save_settings", { settings }),
  testPrint: (printer: string) => call<void>("test_print", { printer }),
};
