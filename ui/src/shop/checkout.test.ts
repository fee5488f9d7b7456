import { Problem } from "./api";
import { Checkout } from "./checkout";
import type { Order } from "./types";

const order = (number: number, status: Order["status"] = "paid") => ({ number, status }) as Order;

describe("one checkout attempt", () => {
  it("sends nothing on a second press while the first is on its way, and one key", async () => {
    const keys: string[] = [];
    let release: () => void = () => {};
    const checkout = new Checkout(async (key) => {
      keys.push(key);
      await new Promise<void>((r) => (release = r));
      return { status: 201, order: order(1) };
    });
    const first = checkout.pay(3, "4242424242424242");
    const second = await checkout.pay(3, "4242424242424242");
    expect(second.kind).toBe("busy");
    release();
    expect((await first).kind).toBe("paid");
    expect(keys).toHaveLength(1);
  });

  it("retries a lost answer with the same key, and a payment still being confirmed too", async () => {
    const keys: string[] = [];
    const answers: (() => { status: number; order: Order })[] = [
      () => {
        throw new Problem(0, { title: "network" });
      },
      () => ({ status: 202, order: order(7, "pending_payment") }),
      () => ({ status: 201, order: order(7) }),
    ];
    const checkout = new Checkout(async (key) => {
      keys.push(key);
      return answers.shift()!();
    });
    expect((await checkout.pay(1, "4242")).kind).toBe("failed");
    expect((await checkout.pay(1, "4242")).kind).toBe("pending");
    expect((await checkout.pay(1, "4242")).kind).toBe("paid");
    expect(new Set(keys).size).toBe(1);
  });

  it("makes a new key after a decline (the cart has a new version) and after a success", async () => {
    const keys: string[] = [];
    const checkout = new Checkout(async (key, card) => {
      keys.push(key);
      if (card === "declined") throw new Problem(402, { title: "card declined", field: "card_number" });
      return { status: 201, order: order(2) };
    });
    expect((await checkout.pay(1, "declined")).kind).toBe("declined");
    expect((await checkout.pay(2, "4242")).kind).toBe("paid");
    expect((await checkout.pay(3, "4242")).kind).toBe("paid");
    expect(new Set(keys).size).toBe(3);
  });

  it("says which product ran out, and when the cart changed under the payment", async () => {
    const refusals = [
      new Problem(409, { title: "out of stock", field: "cart", sku: "CAF-ESP-250", available: 1 } as never),
      new Problem(409, { title: "conflict", field: "cart" }),
    ];
    const checkout = new Checkout(async () => {
      throw refusals.shift()!;
    });
    expect(await checkout.pay(1, "4242")).toEqual({ kind: "out-of-stock", sku: "CAF-ESP-250", available: 1 });
    expect((await checkout.pay(1, "4242")).kind).toBe("cart-changed");
  });
});
