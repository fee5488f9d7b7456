// The shopper's claims, and one claim followed live until it is decided and its refund sent.

import { dateTime, esc, money } from "../../format";
import { keepingInputs } from "../../office/dom";
import { api, enc } from "../api";
import { tOr } from "../i18n";
import type { Ctx } from "../page";
import { follow } from "../poll";
import { hrefOf, type Route } from "../router";
import type { ClaimDetail, ShopperClaim } from "../types";

function stateTag(ctx: Ctx, state: string, id?: string): string {
  return `<span class="tag tag-claim-${esc(state)}"${id ? ` id="${id}"` : ""} data-state="${esc(state)}">${esc(tOr(`state_${state}`, ctx.lang, state))}</span>`;
}

/** Nothing more will change that the shopper waits for. */
function settled(c: ClaimDetail): boolean {
  if (c.state === "rejected" || c.state === "closed") return true;
  return c.state === "resolved" && c.refund_sent_cents >= c.refunded_cents;
}

export async function claimsPage(ctx: Ctx) {
  const { claims } = await api.get<{ claims: ShopperClaim[] }>("/api/shop/claims");
  if (!ctx.current()) return;
  ctx.root.innerHTML = `<h1>${esc(ctx.tr("claims"))}</h1>${
    claims.length === 0
      ? `<p>${esc(ctx.tr("noClaims"))}</p>`
      : `<div class="scroll"><table id="claims-table">
          <thead><tr><th scope="col">${esc(ctx.tr("claim"))}</th><th scope="col">${esc(ctx.tr("order"))}</th><th scope="col">${esc(ctx.tr("claimKind"))}</th><th scope="col">${esc(ctx.tr("state"))}</th></tr></thead>
          <tbody>${claims
            .map(
              (c) => `<tr data-claim="${esc(c.id)}"><td><a href="${hrefOf({ name: "claim", id: c.id })}">${esc(c.id)}</a></td>
                <td><a href="${hrefOf({ name: "order", number: c.order_number })}">W-${c.order_number}</a></td>
                <td>${esc(tOr(`kind_${c.kind}`, ctx.lang, c.kind))}</td><td>${stateTag(ctx, c.state)}</td></tr>`,
            )
            .join("")}</tbody></table></div>`
  }`;
}

function outcome(ctx: Ctx, c: ClaimDetail): string {
  if (!c.outcome) return "";
  const amount = money(c.outcome.amount_cents ?? 0, ctx.lang);
  const text = tOr(`outcome_${c.outcome.type}`, ctx.lang, c.outcome.type).replace("{amount}", amount);
  return `<p id="claim-outcome" data-outcome="${esc(c.outcome.type)}"><strong>${esc(ctx.tr("decisionIs"))}</strong> ${esc(text)}${c.reason ? ` — ${esc(c.reason)}` : ""}</p>`;
}

function refund(ctx: Ctx, c: ClaimDetail): string {
  if (c.refunded_cents <= 0) return "";
  const sent = c.refund_sent_cents >= c.refunded_cents;
  const word = sent ? "refundSent" : "refundOwed";
  return `<p id="claim-refund" data-sent="${c.refund_sent_cents}" data-owed="${c.refunded_cents}">${esc(ctx.tr(word, { amount: money(sent ? c.refund_sent_cents : c.refunded_cents, ctx.lang) }))}</p>`;
}

export async function claimPage(ctx: Ctx, route: Extract<Route, { name: "claim" }>) {
  const url = `/api/shop/claims/${enc(route.id)}`;
  let claim = await api.get<ClaimDetail>(url);
  if (!ctx.current()) return;

  const render = () => {
    const order = claim.subject.order;
    ctx.root.innerHTML = `
      <h1>${esc(ctx.tr("claimTitle", { id: claim.id }))}</h1>
      <section class="card" aria-labelledby="claim-state-title">
        <h2 id="claim-state-title">${esc(ctx.tr("stateIs"))} ${stateTag(ctx, claim.state, "claim-state")}</h2>
        ${order ? `<p>${esc(ctx.tr("order"))} <a href="${hrefOf({ name: "order", number: order })}">W-${order}</a></p>` : ""}
        <p>${esc(tOr(`kind_${claim.kind}`, ctx.lang, claim.kind))} — ${esc(claim.description)}</p>
        ${outcome(ctx, claim)}
        ${refund(ctx, claim)}
        ${settled(claim) ? "" : `<p class="help">${esc(ctx.tr("liveNote"))}</p>`}
      </section>
      <section class="card" aria-labelledby="claim-history-title">
        <h2 id="claim-history-title">${esc(ctx.tr("history"))}</h2>
        <ol class="history">${claim.events.map((e) => `<li>${esc(dateTime(e.at_ms))} — ${esc(tOr(`event_${e.type}`, ctx.lang, e.type.replace(/_/g, " ")))}</li>`).join("")}</ol>
      </section>
      ${
        claim.allowed.includes("reopen")
          ? `<section class="card"><form id="reopen-form">
              <div class="field"><label for="r-reason">${esc(ctx.tr("reopenReason"))}</label><textarea id="r-reason" name="reason" rows="2" required></textarea></div>
              <button type="submit">${esc(ctx.tr("reopen"))}</button></form></section>`
          : ""
      }`;
    ctx.root.querySelector<HTMLFormElement>("#reopen-form")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const form = e.currentTarget as HTMLFormElement;
      try {
        claim = await api.post<ClaimDetail>(`${url}/reopen`, { reason: form.querySelector<HTMLTextAreaElement>("#r-reason")!.value, expected_version: claim.version });
        render();
        watcher.now();
      } catch (err) {
        ctx.fail(err, form);
      }
    });
  };

  render();
  const watcher = follow(
    () => api.get<ClaimDetail>(url),
    (fresh) => {
      const changed = fresh.version !== claim.version || fresh.refund_sent_cents !== claim.refund_sent_cents;
      if (changed && ctx.current()) {
        // Said in the page's status line (which stays), not by the tag that the redraw replaces.
        if (fresh.state !== claim.state) ctx.say(ctx.tr("claimStateNow", { id: fresh.id, state: tOr(`state_${fresh.state}`, ctx.lang, fresh.state) }));
        claim = fresh;
        keepingInputs(ctx.root, render);
      }
      return { changed, final: settled(fresh) && !fresh.allowed.includes("reopen") };
    },
  );
  ctx.onLeave(() => watcher.stop());
}
