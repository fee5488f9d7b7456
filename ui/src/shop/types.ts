// What the shop's API answers (sync-server/src/shop/*, sync-server/src/claims/*).

export interface Customer {
  id: number;
  email: string;
  name: string;
  language: string;
}

export interface Tokens {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  customer: Customer;
}

export interface Product {
  sku: string;
  name: string;
  category: string;
  price_cents: number;
  tax_class: string;
  available: number;
  available_online: boolean;
}

export interface ProductPage {
  products: Product[];
  next?: string | null;
}

export interface PricedLine {
  sku: string;
  name: string;
  quantity: number;
  unit_price_cents: number;
  tax_class: string;
  net_cents: number;
  gst_cents: number;
  qst_cents: number;
  total_cents: number;
}

export interface CartLine extends PricedLine {
  available: number;
  on_sale: boolean;
}

export interface Cart {
  version: number;
  lines: CartLine[];
  net_cents: number;
  gst_cents: number;
  qst_cents: number;
  total_cents: number;
}

export type OrderStatus = "pending_payment" | "paid" | "picked" | "shipped" | "delivered" | "cancelling" | "cancelled";

export interface Order {
  number: number;
  status: OrderStatus;
  location: string;
  lines: PricedLine[];
  net_cents: number;
  gst_cents: number;
  qst_cents: number;
  total_cents: number;
  payment_id?: string | null;
  refund_id?: string | null;
  business_day?: string | null;
  created_ms: number;
  updated_ms: number;
}

export interface ShopperClaim {
  id: string;
  order_number: number;
  kind: string;
  state: string;
  resolution?: string | null;
  refund_cents: number;
  refund_sent: number;
  filed_ms: number;
  updated_ms: number;
}

export interface Outcome {
  type: "refund" | "replacement" | "store_credit" | "nothing";
  amount_cents?: number;
}

export interface ClaimEvent {
  position: number;
  version: number;
  type: string;
  actor: string;
  at_ms: number;
}

export interface ClaimDetail {
  id: string;
  version: number;
  state: string;
  kind: string;
  lines: { line_number: number; sku: string; quantity: number }[];
  description: string;
  outcome?: Outcome | null;
  reason?: string | null;
  refunded_cents: number;
  refund_sent_cents: number;
  filed_ms: number;
  updated_ms: number;
  subject: { channel: string; order?: number };
  events: ClaimEvent[];
  allowed: string[];
}
