// The shapes the sync server answers with (all money in integer cents).

export type Role = "admin" | "manager" | "logistics";

export interface Session {
  username: string;
  role: Role;
  csrf: string;
  expires_ms: number;
}

export interface Location {
  code: string;
  kind: "store" | "logistics" | "head_office" | "online";
  name: string;
  address: string;
}

export interface Alert {
  kind: string;
  subject: string;
  location: string | null;
  sku: string | null;
  record_id: string | null;
  /** In English, for other readers: the pages word `code` and `params`. */
  message: string;
  /** What the alert says (`stock_low`…); the kind for an alert raised before codes. */
  code: string;
  params: Record<string, string>;
  raised_ms: number;
  resolved_ms: number | null;
  acknowledged_by: string | null;
  acknowledged_ms: number | null;
}

export interface Dashboard {
  today: string;
  generated_ms: number;
  revenue: { location: string; name: string; kind: string; today_cents: number; week_cents: number; month_cents: number }[];
  trend: { weeks: string[]; series: { location: string; cents: number[] }[] };
  stock_outs: { location: string; sku: string; name: string; quantity: number }[];
  overstock: { location: string; sku: string; name: string; quantity: number; max_level: number }[];
  alerts: Alert[];
  stale_registers: { id: string; store: string; last_sync_ms: number | null }[];
}

export interface Fig {
  store: string;
  sales: number;
  returns: number;
  net_sales: number;
  gst: number;
  qst: number;
  collected: number;
  net_refunds: number;
  refunded: number;
  redated: number;
}

export interface SalesReport {
  from: string;
  to: string;
  stores: Fig[];
  total: Fig;
  /** Ranked by revenue (`net`: net sales less net refunds, before tax). */
  top_products: { sku: string; name: string; units: number; net: number }[];
  stock: { location: string; units: number }[];
}

export interface StockRow {
  location: string;
  sku: string;
  quantity: number;
  updated_ms: number;
}

export type TaxClass = "standard" | "zero_rated" | "gst_only";

export interface Product {
  sku: string;
  name: string;
  description: string;
  category: string;
  barcodes: string[];
  price: number;
  tax_class: TaxClass;
  reorder_threshold: number;
  max_level: number;
  active: boolean;
}

export interface Reach {
  sku: string;
  version: number;
  reached: number;
  registers: number;
}

export interface Line {
  sku: string;
  quantity: number;
}

export interface Replenishment {
  id: string;
  /** The short number people read: R-12. */
  number: number | null;
  /** Product names by SKU. */
  names: Record<string, string>;
  store: string;
  requested_ms: number;
  lines: Line[];
  note: string | null;
  status: "pending" | "approved" | "rejected";
  decided_by: string | null;
}

export interface Transfer {
  id: string;
  /** The short number people read: T-7. */
  number: number | null;
  names: Record<string, string>;
  from: string;
  to: string;
  lines: Line[];
  shipped_ms: number;
  received: boolean;
}

export interface Register {
  id: string;
  store: string;
  enrolled: boolean;
  revoked: boolean;
  holds: number;
  last_push_ms: number | null;
  last_pull_ms: number | null;
}

export interface DeadLetter {
  id: number | string;
  register: string;
  received_ms: number;
  last_ms: number;
  times: number;
  record_id: string | null;
  seq: number | null;
  field: string | null;
  reason: string;
  payload: string;
  payload_bytes: number;
}

export interface User {
  username: string;
  role: Role;
  disabled: boolean;
}

export interface Order {
  number: string;
  status: string;
  /** The delivery steps logistics may mark next, as the order's status allows. */
  next: string[];
  location: string;
  lines: { sku: string; name: string; quantity: number; unit_cents: number; net_cents: number }[];
  total_cents: number;
  payment_id: string | null;
  refund_id: string | null;
  created_ms: number;
}

export interface Freshness {
  position: number;
  head: number;
  behind: number;
}

export interface QueueClaim {
  id: string;
  state: string;
  kind: string;
  store: string;
  order_number: number | null;
  receipt: string | null;
  /** The receipt's number as printed: VMTL-01-000123. */
  receipt_number: string | null;
  customer_id: number | null;
  assignee: string | null;
  summary: string;
  resolution: string | null;
  refund_cents: number;
  version: number;
  filed_ms: number;
  updated_ms: number;
}

export interface ClaimEvent {
  position: number;
  version: number;
  type: string;
  data: Record<string, unknown> | null;
  actor: string;
  request_id: string | null;
  at_ms: number;
}

export type Outcome =
  | { type: "refund"; amount_cents: number }
  | { type: "replacement" }
  | { type: "store_credit"; amount_cents: number }
  | { type: "nothing" };

export interface Claim {
  id: string;
  version: number;
  state: string;
  subject: { channel: "online"; order: number; customer: number } | { channel: "store"; receipt: string };
  store: string;
  kind: string;
  /** Lines by their number on the receipt or in the order, from 1. */
  lines: { line_number: number; sku: string; quantity: number }[];
  description: string;
  contact_email: string | null;
  contact_name: string;
  language: string;
  assignee: string | null;
  outcome: Outcome | null;
  reason: string | null;
  refunded_cents: number;
  refund_sent_cents: number;
  filed_ms: number;
  updated_ms: number;
  closed_ms: number | null;
  events: ClaimEvent[];
  allowed: string[];
  /** A store receipt's number as printed (VMTL-01-000123); null for an online order. */
  receipt_number: string | null;
}

export interface AuditEntry {
  seq: number;
  at_ms: number;
  actor: string;
  action: string;
  object: string;
  request_id: string | null;
  before_state: string | null;
  after_state: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditCheck {
  entries: number;
  head_seq: number;
  head_hash: string;
  broken: { seq: number; reason: string } | null;
}

export interface ClaimStats {
  weeks: { kind: string; store: string; week: string; filed: number; resolved: number; rejected: number }[];
  median_resolution_ms: number | null;
  decided: number;
  freshness: Freshness;
}

/** What every register's receipts print of the chain; null where none is set. */
export interface ChainSettings {
  legal_name: string | null;
  gst_number: string | null;
  qst_number: string | null;
}
