// What every storefront page is given.

import type { Lang } from "../format";
import type { Word } from "./i18n";
import type { Cart, Customer } from "./types";

export interface Ctx {
  lang: Lang;
  /** A word in the page's language. */
  tr(word: Word, vars?: Record<string, string | number>): string;
  /** The page's own element; replaced on every navigation. */
  root: HTMLElement;
  /** The signed-in shopper, or null. */
  customer: Customer | null;
  /** A sentence in the status line (not an error). */
  say(text: string): void;
  /** A refusal's sentence in the alert line; marks its field inside `scope`, if it names one. */
  fail(e: unknown, scope?: ParentNode | null): void;
  /** Goes to another address ("#/cart"), with a sentence for the status line there. */
  go(href: string, notice?: string): void;
  /** The cart changed: the header's count follows. */
  cartIs(cart: Cart | null): void;
  /** Adds to the cart, or asks to sign in first (and adds after). */
  addToCart(sku: string, quantity: number, name: string): Promise<void>;
  /** A sign-in happened on the page: keep the shopper and go on. */
  signedIn(customer: Customer): void;
  /** Runs when the page is left (following an order's status). */
  onLeave(fn: () => void): void;
  /** Whether this page is still the one on show. */
  current(): boolean;
}

export type PageRender = (ctx: Ctx) => Promise<void>;
