// The catalogue (search, category, highest price, what can be ordered now) and a product's page.

import { esc, money } from "../../format";
import { api, enc, query } from "../api";
import type { Ctx } from "../page";
import { hrefOf, type Route } from "../router";
import type { Product, ProductPage } from "../types";

/** Categories seen in any answer so far (the API has no list of them). */
const categories = new Set<string>();
let categoriesAsked = false;
let firstShown = false;

function availability(ctx: Ctx, p: Product): string {
  return p.available_online && p.available > 0
    ? `<span class="stock in" data-available="${p.available}">${esc(ctx.tr("available", { n: p.available }))}</span>`
    : `<span class="stock out" data-available="0">${esc(ctx.tr("unavailable"))}</span>`;
}

function card(ctx: Ctx, p: Product): string {
  const can = p.available_online && p.available > 0;
  return `<li class="product" data-sku="${esc(p.sku)}">
    <h2><a href="${hrefOf({ name: "product", sku: p.sku })}">${esc(p.name)}</a></h2>
    <p class="category">${esc(p.category)}</p>
    <p class="price">${esc(money(p.price_cents, ctx.lang))}</p>
    <p>${availability(ctx, p)}</p>
    <button type="button" class="add" data-sku="${esc(p.sku)}"${can ? "" : " disabled"}
      aria-label="${esc(ctx.tr("addNamed", { name: p.name }))}">${esc(ctx.tr("addToCart"))}</button>
  </li>`;
}

function categoryOptions(ctx: Ctx, chosen: string): string {
  const all = [...categories];
  if (chosen && !categories.has(chosen)) all.push(chosen);
  all.sort((a, b) => a.localeCompare(b, ctx.lang));
  return (
    `<option value="">${esc(ctx.tr("allCategories"))}</option>` +
    all.map((c) => `<option value="${esc(c)}"${c === chosen ? " selected" : ""}>${esc(c)}</option>`).join("")
  );
}

export async function cataloguePage(ctx: Ctx, route: Extract<Route, { name: "catalogue" }>) {
  const { q, category, maxPrice } = route;
  ctx.root.innerHTML = `
    <h1 class="visually-hidden">${esc(ctx.tr("catalogue"))}</h1>
    <form id="search" role="search" class="search">
      <div class="field grow"><label for="s-q">${esc(ctx.tr("searchLabel"))}</label>
        <input id="s-q" name="q" type="search" value="${esc(q)}" autocomplete="off" /></div>
      <div class="field"><label for="s-category">${esc(ctx.tr("category"))}</label>
        <select id="s-category" name="category">${categoryOptions(ctx, category)}</select></div>
      <div class="field narrow"><label for="s-max">${esc(ctx.tr("maxPrice"))}</label>
        <input id="s-max" name="max_price" inputmode="decimal" value="${esc(maxPrice)}" /></div>
      <button type="submit">${esc(ctx.tr("search"))}</button>
    </form>
    <ul id="products" class="products" aria-live="polite"></ul>
    <p><button type="button" id="more" hidden>${esc(ctx.tr("more"))}</button></p>`;
  const list = ctx.root.querySelector<HTMLUListElement>("#products")!;
  const more = ctx.root.querySelector<HTMLButtonElement>("#more")!;
  const form = ctx.root.querySelector<HTMLFormElement>("#search")!;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const data = new FormData(form);
    ctx.go(hrefOf({ name: "catalogue", q: String(data.get("q") ?? "").trim(), category: String(data.get("category") ?? ""), maxPrice: String(data.get("max_price") ?? "").trim().replace(",", ".") }));
  });
  list.addEventListener("click", (e) => {
    const button = (e.target as HTMLElement).closest<HTMLButtonElement>("button.add");
    if (!button) return;
    const sku = button.dataset.sku!;
    const name = button.closest("li")?.querySelector("h2")?.textContent ?? sku;
    button.disabled = true;
    ctx.addToCart(sku, 1, name).catch((err) => ctx.fail(err)).finally(() => (button.disabled = false));
  });

  let next: string | null | undefined = null;
  const load = async (after: string | null) => {
    const page = await api.open<ProductPage>("GET", `/api/shop/products${query({ q, category, max_price: maxPrice, after, limit: 24 })}`);
    if (!ctx.current()) return;
    for (const p of page.products) categories.add(p.category);
    list.insertAdjacentHTML("beforeend", page.products.map((p) => card(ctx, p)).join(""));
    if (!after && page.products.length === 0) list.innerHTML = `<li class="empty">${esc(ctx.tr("noProducts"))}</li>`;
    next = page.next;
    more.hidden = !next;
    list.dataset.count = String(list.querySelectorAll("li.product").length);
  };
  more.addEventListener("click", () => {
    more.disabled = true;
    load(next ?? null).catch((e) => ctx.fail(e)).finally(() => (more.disabled = false));
  });
  await load(null);
  if (!firstShown) {
    // What scripts/bench-shop-pages reads: navigation start to the first products on screen.
    firstShown = true;
    performance.mark("products-shown");
  }
  ctx.root.querySelector("#s-category")!.innerHTML = categoryOptions(ctx, category);
  if (!categoriesAsked) {
    // One wider page, after the first products are on screen, fills the category list.
    categoriesAsked = true;
    void api
      .open<ProductPage>("GET", "/api/shop/products?limit=100")
      .then((page) => {
        for (const p of page.products) categories.add(p.category);
        const select = ctx.current() ? ctx.root.querySelector<HTMLSelectElement>("#s-category") : null;
        if (select) select.innerHTML = categoryOptions(ctx, category);
      })
      .catch(() => undefined);
  }
}

export async function productPage(ctx: Ctx, route: Extract<Route, { name: "product" }>) {
  const p = await api.open<Product>("GET", `/api/shop/products/${enc(route.sku)}`);
  if (!ctx.current()) return;
  categories.add(p.category);
  const can = p.available_online && p.available > 0;
  ctx.root.innerHTML = `
    <p><a href="#/">${esc(ctx.tr("back"))}</a></p>
    <article class="card product-page" data-sku="${esc(p.sku)}">
      <h1>${esc(p.name)}</h1>
      <dl class="facts">
        <dt>${esc(ctx.tr("code"))}</dt><dd>${esc(p.sku)}</dd>
        <dt>${esc(ctx.tr("category"))}</dt><dd><a href="${hrefOf({ name: "catalogue", q: "", category: p.category, maxPrice: "" })}">${esc(p.category)}</a></dd>
        <dt>${esc(ctx.tr("price"))}</dt><dd class="price">${esc(money(p.price_cents, ctx.lang))}</dd>
      </dl>
      <p>${availability(ctx, p)}</p>
      <form id="add-form" class="inline-form">
        <div class="field narrow"><label for="p-qty">${esc(ctx.tr("quantity"))}</label>
          <input id="p-qty" name="quantity" type="number" min="1" max="${Math.max(1, p.available)}" value="1" required${can ? "" : " disabled"} /></div>
        <button type="submit"${can ? "" : " disabled"}>${esc(ctx.tr("addToCart"))}</button>
      </form>
    </article>`;
  const form = ctx.root.querySelector<HTMLFormElement>("#add-form")!;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const quantity = Number(new FormData(form).get("quantity"));
    ctx.addToCart(p.sku, quantity, p.name).catch((err) => ctx.fail(err, form));
  });
}
