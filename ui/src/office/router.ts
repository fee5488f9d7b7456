// The hash router: "#/report" → "report". Anything else is the dashboard.

import { can, type Action } from "./roles";
import type { Role } from "./types";

export const PAGES = [
  "dashboard",
  "report",
  "products",
  "replenishment",
  "alerts",
  "registers",
  "people",
  "orders",
  "claims",
  "audit",
  "settings",
  "account",
] as const;

export type PageName = (typeof PAGES)[number];

const NEEDS: Record<PageName, Action> = {
  dashboard: "view_dashboard",
  report: "view_report",
  products: "view_products",
  replenishment: "view_replenishment",
  alerts: "view_alerts",
  registers: "view_registers",
  people: "view_people",
  orders: "view_orders",
  claims: "view_claims",
  audit: "view_audit",
  settings: "manage_settings",
  account: "view_account",
};

/** What follows the page's name in the hash: "#/claims/R-ABCD-EFGH" → "R-ABCD-EFGH". */
export function hashDetail(hash: string): string | null {
  const parts = hash.replace(/^#\/?/, "").split("?")[0].split("/");
  return parts.length > 1 && parts[1] !== "" ? decodeURIComponent(parts[1]) : null;
}

/** The page a location hash names; the dashboard when it names none. Query parts are ignored. */
export function parseHash(hash: string): PageName {
  const name = hash.replace(/^#\/?/, "").split(/[/?]/)[0].toLowerCase();
  return (PAGES as readonly string[]).includes(name) ? (name as PageName) : "dashboard";
}

export function hrefOf(page: PageName): string {
  return `#/${page}`;
}

/** Whether `role` may open `page`. */
export function mayOpen(role: Role | string, page: PageName): boolean {
  return can(role, NEEDS[page]);
}

/** The pages the nav shows to `role`, in nav order. */
export function pagesFor(role: Role | string): PageName[] {
  return PAGES.filter((p) => mayOpen(role, p));
}
