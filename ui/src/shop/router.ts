// The storefront's addresses: the part after "#", so the server answers one page for all.

export type Route =
  | { name: "catalogue"; q: string; category: string; maxPrice: string }
  | { name: "product"; sku: string }
  | { name: "cart" }
  | { name: "orders" }
  | { name: "order"; number: number }
  | { name: "claims" }
  | { name: "claim"; id: string }
  | { name: "signin" }
  | { name: "signup" }
  | { name: "missing" };

/** "#/orders/12" → { name: "order", number: 12 }; "" → the catalogue. */
export function parseRoute(hash: string): Route {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  const parts = path.split("/").filter((p) => p !== "").map((p) => decodeURIComponent(p));
  const params = new URLSearchParams(search);
  switch (parts[0] ?? "") {
    case "":
    case "catalogue":
      return { name: "catalogue", q: params.get("q") ?? "", category: params.get("category") ?? "", maxPrice: params.get("max_price") ?? "" };
    case "product":
      return parts[1] ? { name: "product", sku: parts[1] } : { name: "missing" };
    case "cart":
      return { name: "cart" };
    case "orders": {
      if (parts[1] === undefined) return { name: "orders" };
      const number = Number(parts[1]);
      return Number.isInteger(number) && number > 0 ? { name: "order", number } : { name: "missing" };
    }
    case "claims":
      return parts[1] ? { name: "claim", id: parts[1] } : { name: "claims" };
    case "signin":
      return { name: "signin" };
    case "signup":
      return { name: "signup" };
    default:
      return { name: "missing" };
  }
}

/** The address of a route. */
export function hrefOf(route: Route): string {
  switch (route.name) {
    case "catalogue": {
      const params = new URLSearchParams();
      if (route.q) params.set("q", route.q);
      if (route.category) params.set("category", route.category);
      if (route.maxPrice) params.set("max_price", route.maxPrice);
      const s = params.toString();
      return s ? `#/?${s}` : "#/";
    }
    case "product":
      return `#/product/${encodeURIComponent(route.sku)}`;
    case "order":
      return `#/orders/${route.number}`;
    case "claim":
      return `#/claims/${encodeURIComponent(route.id)}`;
    case "missing":
      return "#/";
    default:
      return `#/${route.name}`;
  }
}

/** Whether a route needs a signed-in shopper. */
export function needsSession(route: Route): boolean {
  return ["cart", "orders", "order", "claims", "claim"].includes(route.name);
}
