import { hrefOf, needsSession, parseRoute } from "./router";

describe("the storefront's addresses", () => {
  it("reads each page and writes it back", () => {
    for (const hash of ["#/", "#/?q=caf%C3%A9&category=Maison&max_price=20", "#/product/CAF-ESP-250", "#/cart", "#/orders", "#/orders/12", "#/claims", "#/claims/CL-1", "#/signin", "#/signup"]) {
      expect(hrefOf(parseRoute(hash))).toBe(hash);
    }
  });

  it("falls back to the catalogue or a missing page", () => {
    expect(parseRoute("").name).toBe("catalogue");
    expect(parseRoute("#/orders/abc").name).toBe("missing");
    expect(parseRoute("#/nowhere").name).toBe("missing");
  });

  it("asks to sign in for the cart, orders and claims only", () => {
    expect(needsSession(parseRoute("#/cart"))).toBe(true);
    expect(needsSession(parseRoute("#/orders/3"))).toBe(true);
    expect(needsSession(parseRoute("#/claims"))).toBe(true);
    expect(needsSession(parseRoute("#/product/X"))).toBe(false);
    expect(needsSession(parseRoute("#/"))).toBe(false);
  });
});
