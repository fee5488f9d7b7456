// The audit trail: head office's actions searched by actor, object and period, newest first,
// each with the object before and after; an admin checks the hash chain from here.

import { api, query } from "../api";
import { keepingInputs } from "../dom";
import { dateTime, esc, type Lang } from "../format";
import { t, type Word } from "../i18n";
import type { PageFactory } from "../page";
import { can } from "../roles";
import type { AuditCheck, AuditEntry } from "../types";

/** The start of a day, and the end of another, in this browser's time zone, as ms. */
export function periodMs(from: string, to: string): { from_ms: number | null; to_ms: number | null } {
  const start = from ? new Date(`${from}T00:00:00`).getTime() : NaN;
  const end = to ? new Date(`${to}T23:59:59.999`).getTime() : NaN;
  return { from_ms: Number.isNaN(start) ? null : start, to_ms: Number.isNaN(end) ? null : end };
}

export const auditPage: PageFactory = (ctx) => {
  const { lang, root } = ctx;
  const verifier = can(ctx.session.role, "verify_audit");
  const w = (word: Word) => esc(t(word, lang));
  root.innerHTML = `<h1>${w("page_audit")}</h1>
    <form id="audit-filter" class="toolbar card" novalidate>
      <div class="field"><label for="af-actor">${w("actor")}</label><input id="af-actor" name="actor" autocomplete="off" /></div>
      <div class="field"><label for="af-object">${w("object")}</label><input id="af-object" name="object" autocomplete="off" placeholder="claim:" /></div>
      <div class="field"><label for="af-from">${w("fromDay")}</label><input id="af-from" name="from_ms" type="date" /></div>
      <div class="field"><label for="af-to">${w("toDay")}</label><input id="af-to" name="to_ms" type="date" /></div>
      <button type="submit" class="primary">${w("searchClaims")}</button>
      ${verifier ? `<button type="button" id="audit-verify">${w("verifyChain")}</button>` : ""}
    </form>
    <p id="audit-check" class="muted"></p>
    <div class="audit-body"></div>`;
  const form = root.querySelector<HTMLFormElement>("#audit-filter")!;
  const body = root.querySelector<HTMLElement>(".audit-body")!;
  const check = root.querySelector<HTMLElement>("#audit-check")!;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.reload();
  });
  root.querySelector("#audit-verify")?.addEventListener("click", async () => {
    try {
      const found = await api.get<AuditCheck>("/api/audit/verify");
      check.dataset.broken = found.broken ? String(found.broken.seq) : "";
      check.className = found.broken ? "error" : "info";
      check.textContent = found.broken
        ? t("chainBroken", lang, { seq: found.broken.seq, reason: found.broken.reason })
        : t("chainHolds", lang, { n: found.entries, seq: found.head_seq });
    } catch (err) {
      ctx.fail(err);
    }
  });

  return {
    async refresh() {
      const value = (name: string) => form.querySelector<HTMLInputElement>(`[name=${name}]`)!.value.trim();
      const period = periodMs(value("from_ms"), value("to_ms"));
      const entries = await api.get<AuditEntry[]>(
        `/api/audit${query({ actor: value("actor") || null, object: value("object") || null, ...period })}`,
      );
      keepingInputs(body, () => {
        body.innerHTML = renderAudit(entries, lang);
      });
    },
    changed() {
      /* the trail is read on demand: a live refresh would move rows under the reader's eyes */
    },
  };
};

function pretty(text: string | null): string {
  if (text === null) return "—";
  try {
    return JSON.stringify(JSON.parse(text), null, 1);
  } catch {
    return text;
  }
}

export function renderAudit(entries: AuditEntry[], lang: Lang): string {
  const w = (word: Word) => esc(t(word, lang));
  if (!entries.length) return `<p class="muted">${w("noEntries")}</p>`;
  return `<section class="card scroll"><table class="grid audit">
    <caption class="visually-hidden">${w("page_audit")}</caption>
    <thead><tr><th scope="col">#</th><th scope="col">${w("when")}</th><th scope="col">${w("actor")}</th><th scope="col">${w("action")}</th>
      <th scope="col">${w("object")}</th><th scope="col">${w("before")}</th><th scope="col">${w("after")}</th><th scope="col">${w("requestId")}</th></tr></thead>
    <tbody>${entries
      .map(
        (e) => `<tr data-seq="${e.seq}" data-action="${esc(e.action)}" data-actor="${esc(e.actor)}">
          <th scope="row">${e.seq}</th><td>${esc(dateTime(e.at_ms))}</td><td>${esc(e.actor)}</td><td>${esc(e.action)}</td>
          <td>${esc(e.object)}</td><td><pre class="json">${esc(pretty(e.before_state))}</pre></td>
          <td><pre class="json">${esc(pretty(e.after_state))}</pre></td><td class="muted">${esc(e.request_id ?? "")}</td></tr>`,
      )
      .join("")}</tbody></table></section>`;
}
