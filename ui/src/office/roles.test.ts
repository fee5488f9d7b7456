import { can, type Action } from "./roles";

const ALL: Action[] = [
  "view_dashboard", "view_report", "view_products", "edit_products", "view_replenishment", "decide_replenishment",
  "create_transfers", "view_alerts", "ack_alerts", "view_registers", "manage_registers", "view_people", "manage_people",
  "view_orders", "advance_orders", "manage_settings", "view_account",
];

describe("can", () => {
  it("lets an admin do everything", () => {
    for (const a of ALL) expect(can("admin", a)).toBe(true);
  });

  it("lets a manager edit products, acknowledge alerts and view registers, but not manage them", () => {
    const yes: Action[] = ["view_dashboard", "view_report", "view_products", "edit_products", "view_replenishment", "view_alerts", "ack_alerts", "view_registers", "view_orders", "view_account"];
    for (const a of ALL) expect(can("manager", a), a).toBe(yes.includes(a));
  });

  it("gives logistics stock work but no report, no product editing, no registers, no people", () => {
    const yes: Action[] = ["view_dashboard", "view_products", "view_replenishment", "decide_replenishment", "create_transfers", "view_alerts", "ack_alerts", "view_orders", "advance_orders", "view_account"];
    for (const a of ALL) expect(can("logistics", a), a).toBe(yes.includes(a));
  });

  it("refuses everything to an unknown or missing role", () => {
    for (const a of ALL) {
      expect(can("cashier", a)).toBe(false);
      expect(can(null, a)).toBe(false);
      expect(can(undefined, a)).toBe(false);
    }
  });
});
