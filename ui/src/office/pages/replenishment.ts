// Replenishment: the stores' pending requests beside the stock at the store and at the
// logistics centre, approved (with edited quantities) or rejected with a reason; transfers
// in flight; decided requests.

import { api, enc, query } from "../api";
import { clearMarks, keepingInputs, sel } from "../dom";
import { uuidHead } from "../../format";
import { count, dateTime, esc, type Lang } from "../format";
import { t, tOr, type Word } from "../i18n";
import { placeName, type PageFactory } from "../page";
import { can } from "../roles";
import type { Line, Location, Replenishment, StockRow, Transfer } from "../types";

export const replenishmentPage: PageFactory = (ctx) => {
  const { lang, root } = ctx;
  const decider = can(ctx.session.role, "decide_replenishment");
  const mover = can(ctx.session.role, "create_transfers");
  root.innerHTML = `<h1>${esc(t("page_replenishment", lang))}</h1><div class="repl-body"></div>${mover ? newTransferHtml(lang) : ""}`;
  const body = root.querySelector<HTMLElement>(".repl-body")!;
  const moveForm = root.querySelector<HTMLFormElement>("#new-transfer");
  if (moveForm) {
    const fromBox = moveForm.querySelector<HTMLSelectElement>("#nt-from")!;
    const toBox = moveForm.querySelector<HTMLSelectElement>("#nt-to")!;
    void ctx.locations().then((locations) => {
      const places = locations.filter((l) => l.kind === "store" || l.kind === "logistics");
      const options = places.map((l) => `<option value="${esc(l.code)}">${esc(placeName(l.code, locations))}</option>`).join("");
      fromBox.innerHTML = options;
      toBox.innerHTML = options;
      const chosen = transferDefaults(places);
      fromBox.value = chosen.from;
      toBox.value = chosen.to;
    }, ctx.fail);
    // Never the same place at both ends: moving one end away from the other's place moves the
    // other to the next place.
    const apart = (moved: HTMLSelectElement, other: HTMLSelectElement) => {
      if (moved.value !== other.value) return;
      const next = [...other.options].find((o) => o.value !== moved.value);
      if (next) other.value = next.value;
    };
    fromBox.addEventListener("change", () => apart(fromBox, toBox));
    toBox.addEventListener("change", () => apart(toBox, fromBox));
    moveForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearMarks(moveForm);
      const value = (id: string) => moveForm.querySelector<HTMLInputElement | HTMLSelectElement>(`#${id}`)!.value.trim();
      try {
        await api.post("/api/transfers", {
          from: value("nt-from"),
          to: value("nt-to"),
          lines: [{ sku: value("nt-sku"), quantity: Number(value("nt-qty")) }],
        });
        moveForm.querySelector<HTMLInputElement>("#nt-sku")!.value = "";
        moveForm.querySelector<HTMLInputElement>("#nt-qty")!.value = "";
        ctx.say(t("transferSent", lang));
        ctx.reload();
      } catch (err) {
        ctx.fail(err, moveForm);
      }
    });
  }

  body.addEventListener("click", async (e) => {
    const target = e.target as HTMLElement;
    const approve = target.closest<HTMLButtonElement>("button[data-approve]");
    const reject = target.closest<HTMLButtonElement>("button[data-reject]");
    if (!approve && !reject) return;
    clearMarks(body);
    if (approve) {
      const id = approve.dataset.approve!;
      const lines: Line[] = [...body.querySelectorAll<HTMLInputElement>(`input[data-request-qty=${sel(id)}]`)].map((input) => ({
        sku: input.dataset.sku!,
        quantity: Number(input.value.trim()),
      }));
      await decide(id, { decision: "approved", lines }, approve, "approved");
    } else if (reject) {
      const id = reject.dataset.reject!;
      const reason = body.querySelector<HTMLInputElement>(`input[data-reject-reason=${sel(id)}]`);
      const note = reason?.value.trim() ?? "";
      if (!note) {
        reason?.classList.add("invalid");
        reason?.setAttribute("aria-invalid", "true");
        reason?.focus();
        ctx.fail(new Error(t("reasonNeeded", lang)));
        return;
      }
      await decide(id, { decision: "rejected", note }, reject, "rejectedDone");
    }
  });

  async function decide(id: string, decision: object, button: HTMLButtonElement, done: Word) {
    button.disabled = true;
    try {
      await api.post(`/api/replenishments/${enc(id)}/decision`, decision);
      ctx.say(t(done, lang));
      ctx.reload();
    } catch (err) {
      button.disabled = false;
      const group = body.querySelector(`tbody[data-request-group=${sel(id)}]`);
      ctx.fail(err, group);
    }
  }

  return {
    async refresh() {
      const [pending, all, transfers, locations] = await Promise.all([
        api.get<Replenishment[]>("/api/replenishments?status=pending"),
        api.get<Replenishment[]>("/api/replenishments"),
        api.get<Transfer[]>("/api/transfers?open=true"),
        ctx.locations(),
      ]);
      const centre = locations.find((l) => l.kind === "logistics")?.code ?? "";
      const places = [...new Set([...pending.map((r) => r.store), centre].filter((c) => c !== ""))];
      const rows = (await Promise.all(places.map((location) => api.get<StockRow[]>(`/api/stock${query({ location })}`)))).flat();
      const stock = new Map(rows.map((r) => [`${r.location}\u0000${r.sku}`, r.quantity]));
      const decided = all.filter((r) => r.status !== "pending");
      keepingInputs(body, () => {
        body.innerHTML = renderReplenishment(pending, decided, transfers, stock, centre, locations, decider, lang);
      });
    },
  };
};

/** The new-transfer form's ends: from the logistics centre to the first store (never one place
 * at both ends). */
export function transferDefaults(places: Pick<Location, "code" | "kind">[]): { from: string; to: string } {
  const from = places.find((l) => l.kind === "logistics")?.code ?? places[0]?.code ?? "";
  const to = places.find((l) => l.kind === "store" && l.code !== from)?.code ?? places.find((l) => l.code !== from)?.code ?? "";
  return { from, to };
}

/** A request's or a transfer's short number (R-12, T-7), or its id cut short when it has none. */
export function shortNumber(x: { id: string; number: number | null }, word: "requestNo" | "transferNo", lang: Lang): string {
  return x.number != null ? t(word, lang, { n: x.number }) : uuidHead(x.id);
}

/** "Espresso 250 g (CAF-ESP-250) ×3, …": product names with their SKU. */
export function namedLines(lines: Line[], names: Record<string, string>): string {
  return lines.map((l) => `${names[l.sku] ? `${names[l.sku]} (${l.sku})` : l.sku} ×${l.quantity}`).join(", ");
}

export function renderReplenishment(
  pending: Replenishment[],
  decided: Replenishment[],
  transfers: Transfer[],
  stock: Map<string, number>,
  centre: string,
  locations: Location[],
  decider: boolean,
  lang: Lang,
): string {
  const w = (word: Word, vars?: Record<string, string | number>) => esc(t(word, lang, vars));
  const place = (code: string) => esc(placeName(code, locations));
  const stockCell = (location: string, sku: string) => {
    const q = stock.get(`${location}\u0000${sku}`) ?? 0;
    return `<td class="num${q <= 0 ? " short" : ""}" data-stock data-location="${esc(location)}" data-sku="${esc(sku)}" data-quantity="${q}">${esc(count(q, lang))}</td>`;
  };
  const cols = 6;

  const requests = pending.length
    ? `<table class="grid requests">
        <caption class="visually-hidden">${w("pendingRequests")}</caption>
        <thead><tr><th scope="col">${w("request")}</th><th scope="col">${w("sku")}</th><th scope="col" class="num">${w("quantity")}</th>
          <th scope="col" class="num">${w("storeStock")}</th><th scope="col" class="num">${w("centreStock", { code: centre || "—" })}</th>
          <th scope="col" class="num">${w("approveQty")}</th></tr></thead>
        ${pending
          .map((r) => {
            const head = `<th scope="rowgroup" rowspan="${r.lines.length || 1}" class="request-head">
                <strong data-number="${r.number ?? ""}" title="${esc(r.id)}">${esc(shortNumber(r, "requestNo", lang))}</strong><br />${place(r.store)}<br /><span class="muted">${esc(dateTime(r.requested_ms))}</span>
                ${r.note ? `<br /><em>${esc(r.note)}</em>` : ""}</th>`;
            const lines = r.lines
              .map(
                (l, i) => `<tr data-request="${esc(r.id)}" data-sku="${esc(l.sku)}">${i === 0 ? head : ""}
                  <td>${r.names[l.sku] ? `${esc(r.names[l.sku])} <span class="muted">(${esc(l.sku)})</span>` : esc(l.sku)}</td><td class="num">${esc(count(l.quantity, lang))}</td>
                  ${stockCell(r.store, l.sku)}${centre ? stockCell(centre, l.sku) : "<td></td>"}
                  <td class="num">${
                    decider
                      ? `<input class="qty" type="number" min="0" step="1" name="lines" value="${l.quantity}" data-request-qty="${esc(r.id)}" data-sku="${esc(l.sku)}" aria-label="${w("qtyFor", { sku: l.sku, id: shortNumber(r, "requestNo", lang) })}" />`
                      : esc(count(l.quantity, lang))
                  }</td></tr>`,
              )
              .join("");
            const actions = decider
              ? `<tr class="request-actions" data-request-actions="${esc(r.id)}"><td colspan="${cols}">
                  <div class="row">
                    <button type="button" class="primary" data-approve="${esc(r.id)}">${w("approve")}</button>
                    <span class="grow"></span>
                    <input type="text" name="note" data-reject-reason="${esc(r.id)}" aria-label="${w("reasonFor", { id: shortNumber(r, "requestNo", lang) })}" placeholder="${w("reason")}" />
                    <button type="button" class="danger" data-reject="${esc(r.id)}">${w("reject")}</button>
                  </div></td></tr>`
              : "";
            return `<tbody data-request-group="${esc(r.id)}">${lines}${actions}</tbody>`;
          })
          .join("")}
      </table>`
    : `<p class="muted">${w("noRequests")}</p>`;

  const inFlight = transfers.length
    ? `<table class="grid">
        <caption class="visually-hidden">${w("transfersInFlight")}</caption>
        <thead><tr><th scope="col">#</th><th scope="col">${w("from")}</th><th scope="col">${w("to")}</th><th scope="col">${w("lines")}</th><th scope="col">${w("shipped")}</th></tr></thead>
        <tbody>${transfers
          .map(
            (x) =>
              `<tr data-transfer="${esc(x.id)}" data-number="${x.number ?? ""}"><td title="${esc(x.id)}">${esc(shortNumber(x, "transferNo", lang))}</td><td>${place(x.from)}</td><td>${place(x.to)}</td><td>${esc(namedLines(x.lines, x.names))}</td><td>${esc(dateTime(x.shipped_ms))}</td></tr>`,
          )
          .join("")}</tbody></table>`
    : `<p class="muted">${w("noTransfers")}</p>`;

  const history = `
    <details class="card" data-keep="history">
      <summary><h2 class="inline">${w("history")} (${decided.length})</h2></summary>
      ${
        decided.length
          ? `<table class="grid"><thead><tr><th scope="col">${w("request")}</th><th scope="col">${w("store")}</th><th scope="col">${w("requested")}</th>
              <th scope="col">${w("lines")}</th><th scope="col">${w("status")}</th><th scope="col">${w("decidedBy")}</th><th scope="col">${w("note")}</th></tr></thead>
              <tbody>${decided
                .map(
                  (r) =>
                    `<tr data-decided="${esc(r.id)}" data-status="${esc(r.status)}" data-number="${r.number ?? ""}"><td title="${esc(r.id)}">${esc(shortNumber(r, "requestNo", lang))}</td><td>${place(r.store)}</td><td>${esc(dateTime(r.requested_ms))}</td>
                      <td>${esc(namedLines(r.lines, r.names))}</td><td>${esc(tOr(`status_${r.status}`, lang, r.status))}</td><td>${esc(r.decided_by ?? "")}</td><td>${esc(r.note ?? "")}</td></tr>`,
                )
                .join("")}</tbody></table>`
          : `<p class="muted">${w("none")}</p>`
      }
    </details>`;

  return `
    <section class="card scroll"><h2>${w("pendingRequests")} <span class="count" data-count="${pending.length}">${pending.length}</span></h2>${requests}</section>
    <section class="card scroll"><h2>${w("transfersInFlight")}</h2>${inFlight}</section>
    ${history}`;
}

function newTransferHtml(lang: Lang): string {
  const w = (word: Word) => esc(t(word, lang));
  return `
    <section class="card">
      <h2>${w("newTransfer")}</h2>
      <form id="new-transfer" class="toolbar" novalidate>
        <div class="field"><label for="nt-from">${w("from")}</label><select id="nt-from" name="from"></select></div>
        <div class="field"><label for="nt-to">${w("to")}</label><select id="nt-to" name="to"></select></div>
        <div class="field"><label for="nt-sku">${w("sku")}</label><input id="nt-sku" name="sku" autocomplete="off" /></div>
        <div class="field"><label for="nt-qty">${w("quantity")}</label><input id="nt-qty" name="quantity" type="number" min="1" step="1" class="qty" /></div>
        <button type="submit" id="nt-submit" class="primary">${w("send")}</button>
      </form>
    </section>`;
}
