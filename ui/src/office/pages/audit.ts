// The audit trail: head office's actions searched by actor, object and period, newest first,
// each with the object before and after; an admin checks the hash chain from here.

import { api, query } from "../api";
import { uuidHead } from "../../format";
import { badDay, dayInput } from "../dates";
import { keepingInputs, markField } from "../dom";
import { dateTime, esc, linesText, money, type Lang } from "../format";
import { t, tOr, WORDS, type Word } from "../i18n";
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
      <div class="field"><label for="af-from">${w("fromDay")}</label>${dayInput("af-from", "from_ms", "", lang)}</div>
      <div class="field"><label for="af-to">${w("toDay")}</label>${dayInput("af-to", "to_ms", "", lang)}</div>
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
    const bad = badDay(form);
    if (bad) {
      markField(form, bad.name);
      bad.focus();
      ctx.fail(new Error(t("isoDateNeeded", lang)));
      return;
    }
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

/** Fields that hold cents. */
const MONEY_FIELDS = /^(price|amount|total|refunded)$|_cents$/;

/** A field's value as a person reads it: amounts as money, text as it is, lists and objects
 * compactly. */
function valueText(field: string, value: unknown, lang: Lang): string {
  if (value === null || value === undefined || value === "") return t("auditEmpty", lang);
  if (typeof value === "number" && Number.isInteger(value) && MONEY_FIELDS.test(field)) return money(value, lang);
  if (typeof value === "boolean") return t(value ? "yes" : "no", lang);
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (Array.isArray(value)) {
    if (value.every((v) => v && typeof v === "object" && "sku" in v && "quantity" in v)) return linesText(value as { sku: string; quantity: number }[]);
    return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
  }
  return JSON.stringify(value);
}

/** A field's name in `lang`, or as it is. */
function fieldName(key: string, lang: Lang): string {
  return tOr(`field_${key}`, lang, key);
}

function parsed(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** What changed between the object before and after, field by field; unchanged fields and
 * fields empty on both sides are left out. */
export function changes(before: string | null, after: string | null): { field: string; before: unknown; after: unknown }[] {
  const b = parsed(before);
  const a = parsed(after);
  const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
  if (!isObject(b) && !isObject(a)) {
    return JSON.stringify(b) === JSON.stringify(a) ? [] : [{ field: "", before: b, after: a }];
  }
  const bo = isObject(b) ? b : {};
  const ao = isObject(a) ? a : {};
  const keys = [...new Set([...Object.keys(bo), ...Object.keys(ao)])];
  return keys
    .filter((k) => JSON.stringify(bo[k] ?? null) !== JSON.stringify(ao[k] ?? null))
    .map((k) => ({ field: k, before: bo[k] ?? null, after: ao[k] ?? null }));
}

/** "marie changed product CAF-ESP-250" / "marie a modifié le produit CAF-ESP-250". */
export function sentence(e: Pick<AuditEntry, "actor" | "action" | "object" | "after_state">, lang: Lang): string {
  const verbKey = `verb_${e.action.replace(/\./g, "_")}`;
  const verb = verbKey in WORDS ? t(verbKey as Word, lang) : t("verb_other", lang, { action: e.action });
  const colon = e.object.indexOf(":");
  const kind = colon < 0 ? e.object : e.object.slice(0, colon);
  let id = colon < 0 ? "" : e.object.slice(colon + 1);
  // A transfer's short number is in what was recorded of it.
  const after = parsed(e.after_state) as { number?: unknown } | null;
  if (kind === "transfer" && after && typeof after.number === "number") id = t("transferNo", lang, { n: after.number });
  else id = uuidHead(id);
  const objectKey = `object_${kind}`;
  const object = objectKey in WORDS ? t(objectKey as Word, lang, { id }) : e.object;
  const actor = e.actor === "system" ? t("audit_system", lang) : e.actor;
  return t("audit_sentence", lang, { actor, verb, object });
}

export function renderAudit(entries: AuditEntry[], lang: Lang): string {
  const w = (word: Word) => esc(t(word, lang));
  if (!entries.length) return `<p class="muted">${w("noEntries")}</p>`;
  return `<section class="card scroll"><table class="grid audit">
    <caption class="visually-hidden">${w("page_audit")}</caption>
    <thead><tr><th scope="col">#</th><th scope="col">${w("when")}</th><th scope="col">${w("action")}</th><th scope="col">${w("auditFields")}</th></tr></thead>
    <tbody>${entries
      .map((e) => {
        const changed = changes(e.before_state, e.after_state);
        const list = changed.length
          ? `<ul class="plain compact changes">${changed
              .map(
                (c) =>
                  `<li data-field="${esc(c.field)}">${c.field ? `<strong>${esc(fieldName(c.field, lang))}</strong> : ` : ""}${
                    e.before_state === null ? "" : `<span class="before">${esc(valueText(c.field, c.before, lang))}</span> → `
                  }<span class="after">${esc(valueText(c.field, c.after, lang))}</span></li>`,
              )
              .join("")}</ul>`
          : `<span class="muted">${w("auditNoChange")}</span>`;
        return `<tr data-seq="${e.seq}" data-action="${esc(e.action)}" data-actor="${esc(e.actor)}" data-object="${esc(e.object)}"${e.request_id ? ` title="${esc(e.request_id)}"` : ""}>
          <th scope="row">${e.seq}</th><td>${esc(dateTime(e.at_ms))}</td><td class="sentence">${esc(sentence(e, lang))}</td><td>${list}</td></tr>`;
      })
      .join("")}</tbody></table></section>`;
}
