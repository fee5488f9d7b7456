// The cart, kept on the server, and its checkout with a test card.

import { esc, money } from "../../format";
import { markField } from "../../office/dom";
import { api, enc, Problem } from "../api";
import { Checkout } from "../checkout";
import type { Ctx } from "../page";
import { hrefOf } from "../router";
import type { Cart, Order } from "../types";

/** One checkout per page load: a retry after a lost answer reuses the attempt's key. */
const checkout = new Checkout(async (key, card) => {
  let status = 0;
  const order = await api.post<Order>("/api/shop/checkout", { card_number: card }, { "Idempotency-Key": key }).then((o) => {
    status = o.status === "pending_payment" ? 202 : 201;
    return o;
  });
  return { status, order };
});

function totals(ctx: Ctx, cart: Cart): string {
  const row = (word: "subtotal" | "gst" | "qst" | "total", cents: number, id: string) =>
    `<div class="total-row ${id}"><dt>${esc(ctx.tr(word))}</dt><dd id="cart-${id}" data-cents="${cents}">${esc(money(cents, ctx.lang))}</dd></div>`;
  return `<dl class="totals">${row("subtotal", cart.net_cents, "net")}${row("gst", cart.gst_cents, "gst")}${row("qst", cart.qst_cents, "qst")}${row("total", cart.total_cents, "total")}</dl>`;
}

function lineItem(ctx: Ctx, line: Cart["lines"][number], i: number): string {
  const warn = !line.on_sale
    ? `<p class="warn">${esc(ctx.tr("notOnSale"))}</p>`
    : line.available < line.quantity
      ? `<p class="warn">${esc(ctx.tr("onlyLeft", { n: line.available }))}</p>`
      : "";
  return `<li class="cart-line" data-sku="${esc(line.sku)}" data-quantity="${line.quantity}">
    <div class="what"><a href="${hrefOf({ name: "product", sku: line.sku })}">${esc(line.name)}</a>
      <span class="muted">${esc(money(line.unit_price_cents, ctx.lang))}</span>${warn}</div>
    <form class="qty-form" data-sku="${esc(line.sku)}">
      <label class="visually-hidden" for="q-${i}">${esc(ctx.tr("quantityOf", { name: line.name }))}</label>
      <input id="q-${i}" name="quantity" type="number" min="1" value="${line.quantity}" required />
      <button type="submit">${esc(ctx.tr("update"))}</button>
      <button type="button" class="remove" data-sku="${esc(line.sku)}" aria-label="${esc(ctx.tr("removeNamed", { name: line.name }))}">${esc(ctx.tr("remove"))}</button>
    </form>
    <div class="line-total">${esc(money(line.total_cents, ctx.lang))}</div>
  </li>`;
}

export async function cartPage(ctx: Ctx) {
  let cart = await api.get<Cart>("/api/shop/cart");
  if (!ctx.current()) return;
  ctx.cartIs(cart);
  /** The sentence under the Pay button: a decline or a failure, said where the shopper looks. */
  let payProblem = "";
  /** Which problem it is, for the page's tests: declined, failed, out-of-stock, cart-changed. */
  let problemKind = "";

  const render = () => {
    const card = ctx.root.querySelector<HTMLInputElement>("#card-number")?.value ?? "";
    if (cart.lines.length === 0) {
      ctx.root.innerHTML = `<h1>${esc(ctx.tr("cart"))}</h1><p id="cart-empty">${esc(ctx.tr("emptyCart"))}</p><p><a href="#/">${esc(ctx.tr("back"))}</a></p>`;
      return;
    }
    ctx.root.innerHTML = `
      <h1>${esc(ctx.tr("cart"))}</h1>
      <div class="split">
        <section class="card" aria-labelledby="cart-lines-title">
          <h2 id="cart-lines-title" class="visually-hidden">${esc(ctx.tr("cart"))}</h2>
          <ul id="cart-lines" class="cart-lines" data-version="${cart.version}">${cart.lines.map((l, i) => lineItem(ctx, l, i)).join("")}</ul>
          ${totals(ctx, cart)}
        </section>
        <section class="card" aria-labelledby="pay-title">
          <h2 id="pay-title">${esc(ctx.tr("payTitle"))}</h2>
          <form id="pay-form" novalidate>
            <div class="field"><label for="card-number">${esc(ctx.tr("cardNumber"))}</label>
              <input id="card-number" name="card_number" autocomplete="cc-number" inputmode="numeric" required
                aria-describedby="card-help pay-problem" value="${esc(card)}" /></div>
            <p id="card-help" class="help">${esc(ctx.tr("cardHelp"))}</p>
            <p id="pay-problem" class="pay-problem" role="alert" data-problem="${esc(problemKind)}">${esc(payProblem)}</p>
            <button type="submit" id="pay" class="primary">${esc(ctx.tr("pay", { amount: money(cart.total_cents, ctx.lang) }))}</button>
          </form>
        </section>
      </div>`;
    wire();
  };

  const change = async (run: () => Promise<Cart>, scope: ParentNode) => {
    try {
      cart = await run();
      ctx.cartIs(cart);
      render();
    } catch (e) {
      ctx.fail(e, scope);
    }
  };

  const wire = () => {
    ctx.root.querySelectorAll<HTMLFormElement>("form.qty-form").forEach((form) => {
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const quantity = Number(new FormData(form).get("quantity"));
        void change(() => api.put<Cart>(`/api/shop/cart/lines/${enc(form.dataset.sku!)}`, { quantity }), form);
      });
    });
    ctx.root.querySelectorAll<HTMLButtonElement>("button.remove").forEach((b) =>
      b.addEventListener("click", () => void change(() => api.del<Cart>(`/api/shop/cart/lines/${enc(b.dataset.sku!)}`), b.form ?? ctx.root)),
    );
    const form = ctx.root.querySelector<HTMLFormElement>("#pay-form")!;
    const button = form.querySelector<HTMLButtonElement>("#pay")!;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void pay(form, button);
    });
  };

  const pay = async (form: HTMLFormElement, button: HTMLButtonElement) => {
    if (checkout.busy) return; // a second press while the first is on its way
    const input = form.querySelector<HTMLInputElement>("#card-number")!;
    const card = input.value.trim();
    if (!card) {
      input.setAttribute("aria-invalid", "true");
      input.classList.add("invalid");
      input.focus();
      return;
    }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = ctx.tr("paying");
    payProblem = "";
    problemKind = "";
    const outcome = await checkout.pay(cart.version, card).catch((e: unknown) => ({ kind: "refused" as const, problem: e as Problem }));
    if (!ctx.current()) return;
    switch (outcome.kind) {
      case "busy":
        return;
      case "paid":
        ctx.cartIs(null);
        ctx.go(hrefOf({ name: "order", number: outcome.order.number }), ctx.tr("thanks", { order: `W-${outcome.order.number}` }));
        return;
      case "pending":
        ctx.go(hrefOf({ name: "order", number: outcome.order.number }), ctx.tr("pendingPayment"));
        return;
      case "declined":
        payProblem = ctx.tr("declined");
        break;
      case "failed":
        payProblem = ctx.tr("paymentFailed");
        break;
      case "out-of-stock":
        payProblem = ctx.tr("outOfStock", { available: outcome.available, sku: outcome.sku });
        break;
      case "cart-changed":
        payProblem = ctx.tr("cartChanged");
        break;
      case "refused":
        ctx.fail(outcome.problem, form);
        break;
    }
    problemKind = payProblem ? outcome.kind : "";
    // The cart stays: read again (a decline gives it a new version), the sentence under the button.
    try {
      cart = await api.get<Cart>("/api/shop/cart");
      ctx.cartIs(cart);
    } catch (e) {
      ctx.fail(e);
    }
    render();
    // The re-render dropped the refused field's mark and focus (ctx.fail set them on the old form).
    const refusedField = outcome.kind === "refused" && outcome.problem instanceof Problem ? outcome.problem.field : undefined;
    const newForm = ctx.root.querySelector<HTMLFormElement>("#pay-form");
    if (refusedField && newForm) markField(newForm, refusedField)?.focus();
    if (payProblem) {
      const card = ctx.root.querySelector<HTMLInputElement>("#card-number");
      card?.setAttribute("aria-invalid", "true");
      card?.classList.add("invalid");
      card?.focus();
    }
  };

  render();
}
