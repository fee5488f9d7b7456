// Online orders to pick and ship; logistics (and admins) move them on a step at a time.

import { api, enc } from "../api";
import { keepingInputs } from "../dom";
import { count, dateTime, esc, money, nextStep, type Lang } from "../format";
import { t, tOr, type Word } from "../i18n";
import { placeName, type PageFactory } from "../page";
import { can } from "../roles";
import type { Location, Order } from "../types";

export const ordersPage: PageFactory = (ctx) => {
  const { lang, root } = ctx;
  const mover = can(ctx.session.role, "advance_orders");
  root.innerHTML = `<h1>${esc(t("page_orders", lang))}</h1><div class="orders-body"></div>`;
  const body = root.querySelector<HTMLElement>(".orders-body")!;

  body.addEventListener("click", async (e) => {
    const button = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-advance]");
    if (!button) return;
    button.disabled = true;
    try {
      await api.post(`/api/fulfilment/orders/${enc(button.dataset.advance!)}/${button.dataset.step}`);
      ctx.say(t("orderAdvanced", lang));
      ctx.reload();
    } catch (err) {
      button.disabled = false;
      ctx.fail(err);
    }
  });

  return {
    async refresh() {
      // The list answers one status at a time (paid when none is named): ask for every status
      // logistics still moves on, and the delivered, or an order picked here would vanish from
      // the page before it could be shipped.
      const [lists, locations] = await Promise.all([
        Promise.all(
          FULFILMENT_STATUSES.map((status) => api.get<Order[]>(`/api/fulfilment/orders?status=${status}&limit=100`)),
        ),
        ctx.locations().catch(() => [] as Location[]),
      ]);
      const orders = lists.flat().sort((a, b) => Number(a.number) - Number(b.number));
      keepingInputs(body, () => {
        body.innerHTML = renderOrders(orders, locations, mover, lang);
      });
    },
  };
};

/** The statuses the orders page lists: those logistics moves on, then the delivered. */
const FULFILMENT_STATUSES = ["paid", "picked", "shipped", "delivered"] as const;

export function renderOrders(orders: Order[], locations: Location[], mover: boolean, lang: Lang): string {
  const w = (word: Word) => esc(t(word, lang));
  const open = orders.filter((o) => nextStep(o) !== null);
  const others = orders.filter((o) => nextStep(o) === null);
  const table = (list: Order[], actions: boolean, caption: Word) => `
    <table class="grid">
      <caption class="visually-hidden">${w(caption)}</caption>
      <thead><tr><th scope="col">${w("order")}</th><th scope="col">${w("created")}</th><th scope="col">${w("location")}</th>
        <th scope="col">${w("status")}</th><th scope="col">${w("lines")}</th><th scope="col" class="num">${w("total")}</th>
        ${actions ? `<th scope="col">${w("actions")}</th>` : ""}</tr></thead>
      <tbody>${list
        .map((o) => {
          const step = nextStep(o);
          return `<tr data-order="${esc(o.number)}" data-status="${esc(o.status)}">
            <th scope="row">${esc(o.number)}</th><td>${esc(dateTime(o.created_ms))}</td><td>${esc(placeName(o.location, locations))}</td>
            <td><span class="tag tag-order-${esc(o.status)}">${esc(tOr(`orderStatus_${o.status}`, lang, o.status))}</span></td>
            <td><ul class="plain compact">${o.lines
              .map((l) => `<li>${esc(count(l.quantity, lang))} × ${esc(l.name || l.sku)} <span class="muted">${esc(l.sku)}</span></li>`)
              .join("")}</ul></td>
            <td class="num" data-cents="${o.total_cents}">${esc(money(o.total_cents, lang))}</td>
            ${actions ? `<td>${step ? `<button type="button" class="primary" data-advance="${esc(o.number)}" data-step="${step}">${w(`step_${step}`)}</button>` : ""}</td>` : ""}
          </tr>`;
        })
        .join("")}</tbody>
    </table>`;
  return `
    <section class="card scroll"><h2>${w("toShip")} <span class="count" data-count="${open.length}">${open.length}</span></h2>
      ${open.length ? table(open, mover, "toShip") : `<p class="muted">${w("noOrders")}</p>`}</section>
    <details class="card scroll" data-keep="other-orders">
      <summary><h2 class="inline">${w("otherOrders")} (${others.length})</h2></summary>
      ${others.length ? table(others, false, "otherOrders") : `<p class="muted">${w("none")}</p>`}
    </details>`;
}
