// Claims: the agents' queue (a read model that says how far behind it is), and a claim's page
// at #/claims/ID with its history and the actions its state allows. Every action sends the
// version the page shows, so an agent who acted on an old copy is told to reload.

import { uuidHead } from "../../format";
import { api, enc, query } from "../api";
import { clearMarks, keepingInputs, markField, sel } from "../dom";
import { centsOf, dateTime, esc, money, type Lang } from "../format";
import { t, tOr, type Word } from "../i18n";
import { placeName, type PageFactory } from "../page";
import { can } from "../roles";
import { hashDetail } from "../router";
import type { Claim, ClaimEvent, ClaimStats, Freshness, Location, Outcome, QueueClaim } from "../types";

export const CLAIM_STATES = ["submitted", "assigned", "in_progress", "resolved", "rejected", "closed"] as const;
export const CLAIM_KINDS = ["damaged_item", "missing_item", "wrong_charge", "delivery", "other"] as const;
export const CLAIM_ACTIONS = ["assign", "start", "resolve", "reject", "close", "reopen"] as const;

export const claimsPage: PageFactory = (ctx) => {
  const { lang, root } = ctx;
  const handler = can(ctx.session.role, "handle_claims");
  const id = hashDetail(location.hash);
  const w = (word: Word) => esc(t(word, lang));
  root.innerHTML = id
    ? `<p><a href="#/claims">${w("backToQueue")}</a></p><div class="claim-body" data-claim="${esc(id)}"></div>`
    : `<h1>${w("page_claims")}</h1>${filterHtml(lang)}<div class="claims-body"></div>`;
  const body = root.querySelector<HTMLElement>(id ? ".claim-body" : ".claims-body")!;
  const filter = root.querySelector<HTMLFormElement>("#claim-filter");
  filter?.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.reload();
  });

  let shown: Claim | null = null;
  body.addEventListener("submit", async (e) => {
    const form = (e.target as HTMLElement).closest<HTMLFormElement>("form[data-action]");
    if (!form || !shown) return;
    e.preventDefault();
    clearMarks(form);
    const action = form.dataset.action!;
    const field = (name: string) => form.querySelector<HTMLInputElement | HTMLSelectElement>(`[name=${sel(name)}]`)?.value.trim() ?? "";
    const input: Record<string, unknown> = { expected_version: shown.version };
    if (action === "assign") input.agent = field("agent") || ctx.session.username;
    if (action === "resolve") {
      const type = field("outcome");
      let outcome: Outcome;
      if (type === "refund" || type === "store_credit") {
        const cents = centsOf(field("outcome.amount_cents"));
        if (cents === null || cents <= 0) {
          markField(form, "outcome.amount_cents");
          ctx.fail(new Error(t("amountNeeded", lang)));
          return;
        }
        outcome = { type, amount_cents: cents };
      } else outcome = { type: type === "replacement" ? "replacement" : "nothing" };
      input.outcome = outcome;
    }
    if (action === "resolve" || action === "reject" || action === "reopen") input.reason = field("reason");
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (button) button.disabled = true;
    try {
      const after = await api.post<Claim>(`/api/claims/${enc(shown.id)}/${action}`, input);
      ctx.say(t("claimDone", lang, { id: after.id, state: tOr(`state_${after.state}`, lang, after.state) }));
      // A live refresh may have shown this version already: each version is drawn once, so a
      // form the agent is reaching for is not replaced under their hand.
      if (!shown || after.version > shown.version) {
        shown = after;
        body.innerHTML = renderClaim(after, handler, ctx.session.username, lang, await ctx.locations().catch(() => []));
      } else if (button) button.disabled = false;
    } catch (err) {
      if (button) button.disabled = false;
      ctx.fail(err, form);
    }
  });

  return {
    async refresh() {
      const locations = await ctx.locations().catch(() => [] as Location[]);
      if (id) {
        const claim = await api.get<Claim>(`/api/claims/${enc(id)}`);
        // A live refresh of a claim that has not changed leaves the forms alone: an agent may
        // be typing in one.
        if (shown && claim.version <= shown.version && body.childElementCount > 0) return;
        shown = claim;
        keepingInputs(body, () => {
          body.innerHTML = renderClaim(claim, handler, ctx.session.username, lang, locations);
        });
        document.title = `${t("claim", lang)} ${claim.id} — Caisse`;
        return;
      }
      const value = (name: string) => filter?.querySelector<HTMLInputElement | HTMLSelectElement>(`[name=${name}]`)?.value.trim() ?? "";
      const open = filter?.querySelector<HTMLInputElement>("[name=open]")?.checked ?? false;
      const statsCall = api.get<ClaimStats>("/api/claims/statistics");
      const page = await api.get<{ claims: QueueClaim[]; freshness: Freshness }>(
        `/api/claims${query({
          state: value("state") || null,
          kind: value("kind") || null,
          store: value("store") || null,
          open: open || null,
          min_age_hours: value("min_age_hours") || null,
        })}`,
      );
      const stats = await statsCall;
      keepingInputs(body, () => {
        body.innerHTML = renderQueue(page.claims, page.freshness, locations, lang) + renderStats(stats, locations, lang);
      });
    },
    changed(topics) {
      if (topics.includes("claims") || topics.includes("all")) ctx.reload();
    },
  };
};

function filterHtml(lang: Lang): string {
  const w = (word: Word) => esc(t(word, lang));
  const options = (values: readonly string[], prefix: string, any: Word) =>
    `<option value="">${w(any)}</option>${values.map((v) => `<option value="${v}">${esc(tOr(`${prefix}${v}`, lang, v))}</option>`).join("")}`;
  return `
    <form id="claim-filter" class="toolbar card" novalidate>
      <div class="field"><label for="cf-state">${w("claimState")}</label><select id="cf-state" name="state">${options(CLAIM_STATES, "state_", "anyState")}</select></div>
      <div class="field"><label for="cf-kind">${w("claimKind")}</label><select id="cf-kind" name="kind">${options(CLAIM_KINDS, "claimKind_", "anyKind")}</select></div>
      <div class="field"><label for="cf-store">${w("store")}</label><input id="cf-store" name="store" autocomplete="off" /></div>
      <div class="field"><label for="cf-age">${w("olderThanHours")}</label><input id="cf-age" name="min_age_hours" type="number" min="0" step="1" class="qty" /></div>
      <div class="field check"><input id="cf-open" name="open" type="checkbox" /><label for="cf-open">${w("openClaimsOnly")}</label></div>
      <button type="submit" class="primary">${w("searchClaims")}</button>
    </form>`;
}

function freshnessHtml(freshness: Freshness, lang: Lang): string {
  const text = freshness.behind === 0 ? t("fresh", lang) : t("behind", lang, { n: freshness.behind });
  return `<p class="freshness muted" data-behind="${freshness.behind}">${esc(text)}</p>`;
}

export function renderQueue(claims: QueueClaim[], freshness: Freshness, locations: Location[], lang: Lang): string {
  const w = (word: Word) => esc(t(word, lang));
  const table = claims.length
    ? `<table class="grid claims">
        <caption class="visually-hidden">${w("claimQueue")}</caption>
        <thead><tr><th scope="col">${w("claim")}</th><th scope="col">${w("claimState")}</th><th scope="col">${w("claimKind")}</th>
          <th scope="col">${w("store")}</th><th scope="col">${w("purchase")}</th><th scope="col">${w("assignee")}</th>
          <th scope="col">${w("filed")}</th><th scope="col">${w("summary")}</th></tr></thead>
        <tbody>${claims
          .map(
            (c) => `<tr data-claim="${esc(c.id)}" data-state="${esc(c.state)}">
              <th scope="row"><a href="#/claims/${esc(enc(c.id))}">${esc(c.id)}</a></th>
              <td><span class="tag tag-claim-${esc(c.state)}">${esc(tOr(`state_${c.state}`, lang, c.state))}</span></td>
              <td>${esc(tOr(`claimKind_${c.kind}`, lang, c.kind))}</td>
              <td>${esc(placeName(c.store, locations))}</td>
              <td class="purchase">${c.order_number !== null ? `W-${esc(c.order_number)}` : esc(c.receipt_number ?? uuidHead(c.receipt ?? ""))}</td>
              <td>${esc(c.assignee ?? "—")}</td>
              <td>${esc(dateTime(c.filed_ms))}</td>
              <td>${esc(c.summary)}</td></tr>`,
          )
          .join("")}</tbody></table>`
    : `<p class="muted">${w("noClaims")}</p>`;
  return `<section class="card scroll"><h2>${w("claimQueue")} <span class="count" data-count="${claims.length}">${claims.length}</span></h2>
    ${freshnessHtml(freshness, lang)}${table}</section>`;
}

/** A duration in hours (or days past two days), for the median time to a decision. */
export function durationText(ms: number, lang: Lang): string {
  const hours = ms / 3_600_000;
  if (hours < 1) return t("minutes", lang, { n: Math.max(1, Math.round(ms / 60_000)) });
  if (hours >= 48) return t("days", lang, { n: (hours / 24).toFixed(1) });
  return t("hours", lang, { n: hours.toFixed(1) });
}

export function renderStats(stats: ClaimStats, locations: Location[], lang: Lang): string {
  const w = (word: Word) => esc(t(word, lang));
  const median = stats.median_resolution_ms === null ? "—" : durationText(stats.median_resolution_ms, lang);
  const rows = stats.weeks
    .slice(-40)
    .reverse()
    .map(
      (r) => `<tr><td>${esc(r.week)}</td><td>${esc(tOr(`claimKind_${r.kind}`, lang, r.kind))}</td><td>${esc(placeName(r.store, locations))}</td>
        <td class="num">${r.filed}</td><td class="num">${r.resolved}</td><td class="num">${r.rejected}</td></tr>`,
    )
    .join("");
  return `<section class="card scroll claims-stats"><h2>${w("claimStats")}</h2>
    <p data-median="${stats.median_resolution_ms ?? ""}">${w("medianDecision")} <strong>${esc(median)}</strong> (${esc(t("decidedCount", lang, { n: stats.decided }))})</p>
    ${rows ? `<table class="grid"><thead><tr><th scope="col">${w("week")}</th><th scope="col">${w("claimKind")}</th><th scope="col">${w("store")}</th>
      <th scope="col" class="num">${w("filed")}</th><th scope="col" class="num">${w("state_resolved")}</th><th scope="col" class="num">${w("state_rejected")}</th></tr></thead>
      <tbody>${rows}</tbody></table>` : ""}</section>`;
}

function outcomeText(outcome: Outcome | null, lang: Lang): string {
  if (!outcome) return "—";
  const name = tOr(`outcome_${outcome.type}`, lang, outcome.type);
  const colon = lang === "fr" ? " : " : ": ";
  return "amount_cents" in outcome ? `${name}${colon}${money(outcome.amount_cents, lang)}` : name;
}

function eventText(event: ClaimEvent, lang: Lang): string {
  const data = event.data ?? {};
  const parts: string[] = [];
  if (typeof data.agent === "string") parts.push(data.agent);
  if (data.outcome) parts.push(outcomeText(data.outcome as Outcome, lang));
  if (typeof data.reason === "string") parts.push(data.reason);
  if (typeof data.amount_cents === "number") parts.push(money(data.amount_cents, lang));
  if (typeof data.refund_id === "string") parts.push(data.refund_id);
  return parts.join(" — ");
}

function actionForm(action: string, me: string, lang: Lang): string {
  const w = (word: Word) => esc(t(word, lang));
  const reason = `<div class="field grow"><label for="ca-${action}-reason">${w("reason")}</label><input id="ca-${action}-reason" name="reason" /></div>`;
  let fields = "";
  if (action === "assign") {
    fields = `<div class="field"><label for="ca-agent">${w("agent")}</label><input id="ca-agent" name="agent" value="${esc(me)}" autocomplete="off" /></div>`;
  } else if (action === "resolve") {
    const outcomes = ["refund", "replacement", "store_credit", "nothing"]
      .map((o) => `<option value="${o}">${esc(tOr(`outcome_${o}`, lang, o))}</option>`)
      .join("");
    fields = `<div class="field"><label for="ca-outcome">${w("outcomeType")}</label><select id="ca-outcome" name="outcome">${outcomes}</select></div>
      <div class="field"><label for="ca-amount">${w("amount")}</label><input id="ca-amount" name="outcome.amount_cents" inputmode="decimal" class="qty" /></div>
      ${reason}`;
  } else if (action === "reject" || action === "reopen") {
    fields = reason;
  }
  const style = action === "reject" ? "danger" : "primary";
  return `<form class="toolbar claim-action" data-action="${action}" novalidate>${fields}
    <button type="submit" class="${style}" data-act="${action}">${w(`act_${action}` as Word)}</button></form>`;
}

export function renderClaim(claim: Claim, handler: boolean, me: string, lang: Lang, locations: Location[]): string {
  const w = (word: Word) => esc(t(word, lang));
  // The number printed on the receipt (VMTL-01-000123) or the order's, never the record's UUID.
  const purchase =
    claim.subject.channel === "online" ? `W-${claim.subject.order}` : claim.receipt_number ?? uuidHead(claim.subject.receipt);
  const actions = handler
    ? claim.allowed.length
      ? claim.allowed.map((a) => actionForm(a, me, lang)).join("")
      : `<p class="muted">${w("noActions")}</p>`
    : "";
  const history = claim.events
    .map(
      (e) => `<li data-event="${esc(e.type)}" data-version="${e.version}"><strong>${esc(tOr(`event_${e.type}`, lang, e.type))}</strong>
        <span class="muted">${esc(dateTime(e.at_ms))} · ${esc(e.actor)}</span> ${esc(eventText(e, lang))}</li>`,
    )
    .join("");
  return `
    <h1>${w("claim")} ${esc(claim.id)} <span class="tag tag-claim-${esc(claim.state)}" id="claim-state" data-state="${esc(claim.state)}" data-version="${claim.version}">${esc(tOr(`state_${claim.state}`, lang, claim.state))}</span></h1>
    <section class="card">
      <dl class="facts">
        <dt>${w("claimKind")}</dt><dd>${esc(tOr(`claimKind_${claim.kind}`, lang, claim.kind))}</dd>
        <dt>${w("store")}</dt><dd>${esc(placeName(claim.store, locations))}</dd>
        <dt>${w("purchase")}</dt><dd id="claim-purchase">${esc(purchase)}</dd>
        <dt>${w("contact")}</dt><dd>${claim.contact_email ? `${esc(claim.contact_name)} &lt;${esc(claim.contact_email)}&gt; (${esc(claim.language)})` : w("noContact")}</dd>
        <dt>${w("assignee")}</dt><dd>${esc(claim.assignee ?? "—")}</dd>
        <dt>${w("claimLines")}</dt><dd><ul class="plain compact">${claim.lines
          .map((l) => `<li data-line="${l.line_number}">${esc(t("claimLine", lang, { line: l.line_number, quantity: l.quantity, sku: l.sku }))}</li>`)
          .join("")}</ul></dd>
        <dt>${w("description")}</dt><dd class="pre">${esc(claim.description)}</dd>
        <dt>${w("outcome")}</dt><dd id="claim-outcome">${esc(outcomeText(claim.outcome, lang))}${claim.reason ? ` — ${esc(claim.reason)}` : ""}</dd>
        <dt>${w("refunded")}</dt><dd>${esc(money(claim.refunded_cents, lang))}</dd>
        <dt>${w("refundSent")}</dt><dd id="refund-sent" data-cents="${claim.refund_sent_cents}">${esc(money(claim.refund_sent_cents, lang))}</dd>
      </dl>
    </section>
    ${handler ? `<section class="card"><h2>${w("claimActions")}</h2>${actions}</section>` : ""}
    <section class="card"><h2>${w("claimHistory")}</h2><ol class="history">${history}</ol></section>`;
}
