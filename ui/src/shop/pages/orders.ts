// The shopper's orders, and one order: its progress (followed live), cancelling it before it
// is picked, and a claim about it once paid (as the server accepts one).

import { dateTime, esc, money } from "../../format";
import { keepingInputs } from "../../office/dom";
import { api } from "../api";
import type { Ctx } from "../page";
import { follow } from "../poll";
import { hrefOf, type Route } from "../router";
import { tOr } from "../i18n";
import { markProblemField } from "../problem";
import type { ClaimDetail, Order, ShopperClaim } from "../types";

/** The steps an order goes through, in order. */
const STEPS = ["paid", "picked", "shipped", "delivered"] as const;
/** Statuses after which nothing more happens to the order. */
const FINAL = new Set(["delivered", "cancelled"]);
/** Claim kinds, as the API names them. */
const KINDS = ["damaged_item", "missing_item", "wrong_charge", "delivery", "other"] as const;
/** Statuses the server takes a claim for (sync-server claims/commands.rs). */
const CLAIMABLE = new Set(["paid", "picked", "shipped", "delivered"]);
/** How the claim form names an order's line to the API: counted from 1, as the receipt does. */
const FIRST_LINE = 1;

export function statusTag(ctx: Ctx, status: string, id?: string): string {
  return `<span class="tag tag-${esc(status)}"${id ? ` id="${id}"` : ""} data-status="${esc(status)}">${esc(tOr(`status_${status}`, ctx.lang, status))}</span>`;
}

export async function ordersPage(ctx: Ctx) {
  const orders = await api.get<Order[]>("/api/shop/orders?limit=100");
  if (!ctx.current()) return;
  ctx.root.innerHTML = `<h1>${esc(ctx.tr("orders"))}</h1>${
    orders.length === 0
      ? `<p>${esc(ctx.tr("noOrders"))}</p>`
      : `<div class="scroll"><table id="orders-table">
          <thead><tr><th scope="col">${esc(ctx.tr("order"))}</th><th scope="col">${esc(ctx.tr("date"))}</th><th scope="col">${esc(ctx.tr("status"))}</th><th scope="col" class="num">${esc(ctx.tr("total"))}</th></tr></thead>
          <tbody>${orders
            .map(
              (o) => `<tr data-order="${o.number}" data-status="${esc(o.status)}">
                <td><a href="${hrefOf({ name: "order", number: o.number })}">W-${o.number}</a></td>
                <td>${esc(dateTime(o.created_ms))}</td><td>${statusTag(ctx, o.status)}</td>
                <td class="num">${esc(money(o.total_cents, ctx.lang))}</td></tr>`,
            )
            .join("")}</tbody></table></div>`
  }`;
}

function progress(ctx: Ctx, status: string): string {
  if (!STEPS.includes(status as (typeof STEPS)[number])) return "";
  const at = STEPS.indexOf(status as (typeof STEPS)[number]);
  return `<ol class="steps" aria-label="${esc(ctx.tr("progress"))}">${STEPS.map(
    (s, i) => `<li class="${i < at ? "done" : i === at ? "now" : "todo"}"${i === at ? ' aria-current="step"' : ""}>${esc(tOr(`status_${s}`, ctx.lang, s))}</li>`,
  ).join("")}</ol>`;
}

function claimForm(ctx: Ctx, order: Order): string {
  return `<section class="card" aria-labelledby="claim-title">
    <h2 id="claim-title">${esc(ctx.tr("fileClaim"))}</h2>
    <form id="claim-form">
      <div class="field"><label for="c-kind">${esc(ctx.tr("claimKind"))}</label>
        <select id="c-kind" name="kind">${KINDS.map((k) => `<option value="${k}">${esc(tOr(`kind_${k}`, ctx.lang, k))}</option>`).join("")}</select></div>
      <fieldset><legend>${esc(ctx.tr("claimLines"))}</legend>
        ${order.lines
          .map(
            (l, i) => `<div class="field claim-line"><label for="c-line-${i}">${esc(ctx.tr("claimQuantity", { name: l.name }))}</label>
              <input id="c-line-${i}" name="line-${i}" data-line="${i + FIRST_LINE}" type="number" min="0" max="${l.quantity}" value="0" /></div>`,
          )
          .join("")}
      </fieldset>
      <div class="field"><label for="c-description">${esc(ctx.tr("description"))}</label>
        <textarea id="c-description" name="description" rows="3" required aria-describedby="c-description-help"></textarea>
        <span id="c-description-help" class="help">${esc(ctx.tr("descriptionHelp"))}</span></div>
      <button type="submit" id="claim-submit">${esc(ctx.tr("submitClaim"))}</button>
    </form></section>`;
}

export async function orderPage(ctx: Ctx, route: Extract<Route, { name: "order" }>) {
  const url = `/api/shop/orders/${route.number}`;
  let order = await api.get<Order>(url);
  if (!ctx.current()) return;
  let claims: ShopperClaim[] = [];
  const loadClaims = async () => {
    try {
      claims = (await api.get<{ claims: ShopperClaim[] }>("/api/shop/claims")).claims.filter((c) => c.order_number === order.number);
    } catch {
      claims = [];
    }
  };
  await loadClaims();

  const render = () => {
    const status = order.status;
    const claimsList = claims.length
      ? `<section class="card"><h2>${esc(ctx.tr("claims"))}</h2><ul class="plain">${claims
          .map((c) => `<li><a href="${hrefOf({ name: "claim", id: c.id })}">${esc(c.id)}</a> — ${esc(tOr(`kind_${c.kind}`, ctx.lang, c.kind))} — ${esc(tOr(`state_${c.state}`, ctx.lang, c.state))}</li>`)
          .join("")}</ul></section>`
      : "";
    ctx.root.innerHTML = `
      <h1>${esc(ctx.tr("orderTitle", { order: `W-${order.number}` }))}</h1>
      <section class="card" aria-labelledby="status-title">
        <h2 id="status-title">${esc(ctx.tr("statusIs"))} ${statusTag(ctx, status, "order-status")}</h2>
        ${progress(ctx, status)}
        ${FINAL.has(status) ? "" : `<p class="help">${esc(ctx.tr("liveNote"))}</p>`}
        ${order.refund_id ? `<p>${esc(ctx.tr("refunded", { id: order.refund_id }))}</p>` : ""}
        ${status === "paid" ? `<p class="help" id="cancel-help">${esc(ctx.tr("cancelHelp"))}</p><button type="button" id="cancel-order" aria-describedby="cancel-help">${esc(ctx.tr("cancelOrder"))}</button>` : ""}
      </section>
      <section class="card" aria-labelledby="lines-title">
        <h2 id="lines-title">${esc(ctx.tr("details"))}</h2>
        <p class="muted">${esc(dateTime(order.created_ms))}</p>
        <div class="scroll"><table id="order-lines">
          <thead><tr><th scope="col">${esc(ctx.tr("product"))}</th><th scope="col" class="num">${esc(ctx.tr("quantity"))}</th><th scope="col" class="num">${esc(ctx.tr("lineTotal"))}</th></tr></thead>
          <tbody>${order.lines.map((l) => `<tr><td>${esc(l.name)}</td><td class="num">${l.quantity}</td><td class="num">${esc(money(l.total_cents, ctx.lang))}</td></tr>`).join("")}</tbody>
        </table></div>
        <dl class="totals">
          <div class="total-row"><dt>${esc(ctx.tr("gst"))}</dt><dd>${esc(money(order.gst_cents, ctx.lang))}</dd></div>
          <div class="total-row"><dt>${esc(ctx.tr("qst"))}</dt><dd>${esc(money(order.qst_cents, ctx.lang))}</dd></div>
          <div class="total-row total"><dt>${esc(ctx.tr("total"))}</dt><dd>${esc(money(order.total_cents, ctx.lang))}</dd></div>
        </dl>
      </section>
      ${claimsList}
      ${CLAIMABLE.has(status) ? claimForm(ctx, order) : ""}`;
    wire();
  };

  const wire = () => {
    ctx.root.querySelector<HTMLButtonElement>("#cancel-order")?.addEventListener("click", async (e) => {
      const button = e.currentTarget as HTMLButtonElement;
      button.disabled = true;
      try {
        order = await api.post<Order>(`${url}/cancel`);
        ctx.say(ctx.tr("cancelled"));
        render();
        ctx.root.querySelector<HTMLElement>("#order-status")?.focus();
      } catch (err) {
        button.disabled = false;
        ctx.fail(err);
        watcher.now();
      }
    });
    const form = ctx.root.querySelector<HTMLFormElement>("#claim-form");
    form?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const lines = [...form.querySelectorAll<HTMLInputElement>("input[data-line]")]
        .map((i) => ({ line_number: Number(i.dataset.line), quantity: Number(i.value) }))
        .filter((l) => l.quantity > 0);
      // Which input each sent line came from, so a refusal naming `lines[k]` marks that input.
      let sent = 0;
      form.querySelectorAll<HTMLInputElement>("input[data-line]").forEach((i) => {
        if (Number(i.value) > 0) i.dataset.sent = String(sent++);
        else delete i.dataset.sent;
      });
      // The server refuses a claim of any kind without a line: said here, before sending.
      if (lines.length === 0) {
        ctx.fail(new Error(ctx.tr("pickLine")));
        markProblemField(form, "lines")?.focus();
        return;
      }
      const submit = form.querySelector<HTMLButtonElement>("#claim-submit")!;
      submit.disabled = true;
      try {
        const claim = await api.post<ClaimDetail>("/api/shop/claims", {
          order: order.number,
          kind: form.querySelector<HTMLSelectElement>("#c-kind")!.value,
          lines,
          description: form.querySelector<HTMLTextAreaElement>("#c-description")!.value,
        });
        ctx.go(hrefOf({ name: "claim", id: claim.id }), ctx.tr("claimFiled", { id: claim.id }));
      } catch (err) {
        submit.disabled = false;
        ctx.fail(err, form);
      }
    });
  };

  render();
  // The status as logistics moves it on: asked again with a growing pause until it is final.
  const watcher = follow(
    () => api.get<Order>(url),
    (fresh) => {
      const changed = fresh.status !== order.status || fresh.refund_id !== order.refund_id;
      if (changed && ctx.current()) {
        // Said in the page's status line (which stays), not by the tag that the redraw replaces.
        if (fresh.status !== order.status) ctx.say(ctx.tr("orderStatusNow", { order: `W-${fresh.number}`, status: tOr(`status_${fresh.status}`, ctx.lang, fresh.status) }));
        order = fresh;
        // Redrawn keeping what the shopper was typing (a claim) and where the focus was.
        keepingInputs(ctx.root, render);
      }
      return { changed, final: FINAL.has(fresh.status) };
    },
  );
  ctx.onLeave(() => watcher.stop());
  if (FINAL.has(order.status)) watcher.stop();
}
