// What each role may see and do. The server decides; the pages only hide what would be refused.

import type { Role } from "./types";

export type Action =
  | "view_dashboard"
  | "view_report"
  | "view_products"
  | "edit_products"
  | "view_replenishment"
  | "decide_replenishment"
  | "create_transfers"
  | "view_alerts"
  | "ack_alerts"
  | "view_registers"
  | "manage_registers"
  | "view_people"
  | "manage_people"
  | "view_orders"
  | "advance_orders"
  | "view_claims"
  | "handle_claims"
  | "view_audit"
  | "verify_audit"
  | "manage_settings"
  | "view_account";

const MANAGER: readonly Action[] = [
  "view_dashboard",
  "view_report",
  "view_products",
  "edit_products",
  "view_replenishment",
  "view_alerts",
  "ack_alerts",
  "view_registers",
  "view_orders",
  "view_claims",
  "handle_claims",
  "view_audit",
  "view_account",
];

const LOGISTICS: readonly Action[] = [
  "view_dashboard",
  "view_products",
  "view_replenishment",
  "decide_replenishment",
  "create_transfers",
  "view_alerts",
  "ack_alerts",
  "view_orders",
  "advance_orders",
  "view_account",
];

/** Whether `role` may use `action`; an unknown role may do nothing. */
export function can(role: Role | string | null | undefined, action: Action): boolean {
  switch (role) {
    case "admin":
      return true;
    case "manager":
      return MANAGER.includes(action);
    case "logistics":
      return LOGISTICS.includes(action);
    default:
      return false;
  }
}
