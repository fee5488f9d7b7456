// One checkout attempt: the Idempotency-Key is made when the shopper first presses "Pay" for a
// version of the cart, and sent again by every retry of that attempt (a lost answer, a
// payment still being confirmed). A second press while the first is on its way does not send
// anything. The key is dropped only on a definite answer; after a decline the server has given
// the cart a new version, so the next press is a new attempt with a new key.

import { Problem } from "./api";
import type { Order } from "./types";

export type Outcome =
  | { kind: "paid"; order: Order }
  | { kind: "pending"; order: Order }
  | { kind: "declined" }
  | { kind: "failed" }
  | { kind: "out-of-stock"; sku: string; available: number }
  | { kind: "cart-changed" }
  | { kind: "refused"; problem: Problem }
  | { kind: "busy" };

/** Sends the checkout: POST /api/shop/checkout with the key; answers the order or a Problem. */
export type Send = (key: string, card: string) => Promise<{ status: number; order: Order }>;

export function newKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class Checkout {
  private key: string | null = null;
  private version: number | null = null;
  private inFlight = false;

  constructor(private readonly send: Send) {}

  /** Whether a payment is on its way now (the button shows it). */
  get busy(): boolean {
    return this.inFlight;
  }

  /** The key of the attempt under way, if any (tests read it). */
  get attemptKey(): string | null {
    return this.key;
  }

  /** Pays for `cartVersion` with `card`; a press while one is on its way answers "busy". */
  async pay(cartVersion: number, card: string): Promise<Outcome> {
    if (this.inFlight) return { kind: "busy" };
    if (this.key === null || this.version !== cartVersion) {
      this.key = newKey();
      this.version = cartVersion;
    }
    this.inFlight = true;
    try {
      const { status, order } = await this.send(this.key, card);
      if (status === 202) return { kind: "pending", order }; // same key on the next try
      this.key = null;
      return { kind: "paid", order };
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      // No answer, or the server busy: the attempt may have gone through; retry with this key.
      if (e.status === 0 || e.status === 503 || e.status === 429) return { kind: "failed" };
      this.key = null;
      const body = e.body as Record<string, unknown>;
      if (e.status === 402) return { kind: "declined" };
      if (e.status === 502) return { kind: "failed" };
      if (e.status === 409 && body.sku !== undefined) {
        return { kind: "out-of-stock", sku: String(body.sku), available: Number(body.available ?? 0) };
      }
      if (e.status === 409 && e.field === "cart") return { kind: "cart-changed" };
      return { kind: "refused", problem: e };
    } finally {
      this.inFlight = false;
    }
  }
}
