// Registers: last contact with head office, records held, enrolment; for admins, adding a
// register, enrolment codes and revocation. Below, what registers sent that was refused.

import { api, enc, query } from "../api";
import { clearMarks, keepingInputs } from "../dom";
import { ago, count, dateTime, esc, isStale, lastSync, type Lang } from "../format";
import { t, type Word } from "../i18n";
import { placeName, type PageFactory } from "../page";
import { can } from "../roles";
import type { DeadLetter, Location, Register } from "../types";

export const registersPage: PageFactory = (ctx) => {
  const { lang, root } = ctx;
  const w = (word: Word, vars?: Record<string, string | number>) => esc(t(word, lang, vars));
  const admin = can(ctx.session.role, "manage_registers");
  let registers: Register[] = [];

  root.innerHTML = `
    <h1>${w("page_registers")}</h1>
    ${
      admin
        ? `<form id="register-form" class="toolbar" novalidate>
            <div class="field"><label for="register-new-id">${w("newRegister")}</label><input id="register-new-id" name="id" autocomplete="off" /></div>
            <button type="submit" id="register-add" class="primary">${w("addRegister")}</button>
          </form>
          <p id="register-code" class="code-box" aria-live="polite" hidden></p>`
        : ""
    }
    <section class="card scroll"><div class="registers-list"></div></section>
    <section class="card scroll">
      <h2>${w("deadLetters")}</h2>
      <div class="toolbar"><div class="field"><label for="dead-register">${w("register")}</label>
        <select id="dead-register"><option value="">${w("allRegisters")}</option></select></div></div>
      <div class="dead-list"></div>
    </section>`;
  const list = root.querySelector<HTMLElement>(".registers-list")!;
  const dead = root.querySelector<HTMLElement>(".dead-list")!;
  const deadRegister = root.querySelector<HTMLSelectElement>("#dead-register")!;
  const form = root.querySelector<HTMLFormElement>("#register-form");
  const codeBox = root.querySelector<HTMLElement>("#register-code");

  deadRegister.addEventListener("change", () => ctx.reload());

  form?.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearMarks(form);
    const input = form.querySelector<HTMLInputElement>("#register-new-id")!;
    try {
      await api.post("/api/registers", { id: input.value.trim() });
      input.value = "";
      ctx.say(t("registerAdded", lang));
      ctx.reload();
    } catch (err) {
      ctx.fail(err, form);
    }
  });

  list.addEventListener("click", async (e) => {
    const target = e.target as HTMLElement;
    const code = target.closest<HTMLButtonElement>("button[data-code]");
    const revoke = target.closest<HTMLButtonElement>("button[data-revoke]");
    try {
      if (code && codeBox) {
        const id = code.dataset.code!;
        const answer = await api.post<{ register: string; code: string }>(`/api/registers/${enc(id)}/enrolment-code`);
        codeBox.hidden = false;
        codeBox.dataset.register = answer.register;
        codeBox.dataset.code = answer.code;
        codeBox.innerHTML = `${w("codeFor", { id: answer.register, code: "" })}<code>${esc(answer.code)}</code>`;
      } else if (revoke) {
        const id = revoke.dataset.revoke!;
        if (!window.confirm(t("confirmRevoke", lang, { id }))) return;
        await api.post(`/api/registers/${enc(id)}/revoke`);
        ctx.say(t("revokedDone", lang));
        ctx.reload();
      }
    } catch (err) {
      ctx.fail(err);
    }
  });

  return {
    async refresh() {
      const [regs, letters, locations] = await Promise.all([
        api.get<Register[]>("/api/registers"),
        api.get<DeadLetter[]>(`/api/dead-letters${query({ register: deadRegister.value, limit: 50 })}`),
        ctx.locations().catch(() => [] as Location[]),
      ]);
      registers = regs;
      const chosen = deadRegister.value;
      deadRegister.innerHTML =
        `<option value="">${w("allRegisters")}</option>` +
        registers.map((r) => `<option value="${esc(r.id)}"${r.id === chosen ? " selected" : ""}>${esc(r.id)}</option>`).join("");
      deadRegister.value = chosen;
      const now = Date.now();
      keepingInputs(list, () => {
        list.innerHTML = renderRegisters(registers, locations, admin, lang, now);
      });
      keepingInputs(dead, () => {
        dead.innerHTML = renderDeadLetters(letters, lang);
      });
    },
  };
};

export function renderRegisters(registers: Register[], locations: Location[], admin: boolean, lang: Lang, now: number): string {
  const w = (word: Word) => esc(t(word, lang));
  return `
    <table class="grid">
      <caption class="visually-hidden">${w("page_registers")}</caption>
      <thead><tr><th scope="col">${w("register")}</th><th scope="col">${w("store")}</th><th scope="col">${w("lastSync")}</th>
        <th scope="col" class="num">${w("held")}</th><th scope="col">${w("enrolled")}</th><th scope="col">${w("revoked")}</th>
        ${admin ? `<th scope="col">${w("actions")}</th>` : ""}</tr></thead>
      <tbody>${registers
        .map((r) => {
          const last = lastSync(r.last_push_ms, r.last_pull_ms);
          const stale = r.enrolled && !r.revoked && isStale(last, now);
          return `<tr data-register="${esc(r.id)}"${stale ? ' class="stale" data-stale="1"' : ""}>
            <th scope="row">${esc(r.id)}</th><td>${esc(placeName(r.store, locations))}</td>
            <td data-last-sync="${last ?? ""}"${last != null ? ` title="${esc(dateTime(last))}"` : ""}>${esc(last == null ? t("never", lang) : ago(last, now, lang))}${stale ? ` <span class="tag tag-warn">${w("stale")}</span>` : ""}</td>
            <td class="num" data-holds="${r.holds}">${esc(count(r.holds, lang))}</td>
            <td>${w(r.enrolled ? "yes" : "no")}</td><td>${r.revoked ? `<strong>${w("yes")}</strong>` : w("no")}</td>
            ${
              admin
                ? `<td class="actions">${
                    r.revoked
                      ? ""
                      : `<button type="button" data-code="${esc(r.id)}">${w("enrolCode")}</button>
                         <button type="button" class="danger" data-revoke="${esc(r.id)}">${w("revoke")}</button>`
                  }</td>`
                : ""
            }</tr>`;
        })
        .join("")}</tbody>
    </table>`;
}

export function renderDeadLetters(letters: DeadLetter[], lang: Lang): string {
  const w = (word: Word, vars?: Record<string, string | number>) => esc(t(word, lang, vars));
  if (!letters.length) return `<p class="muted">${w("noDeadLetters")}</p>`;
  return `
    <table class="grid dead">
      <caption class="visually-hidden">${w("deadLetters")}</caption>
      <thead><tr><th scope="col">#</th><th scope="col">${w("register")}</th><th scope="col">${w("received")}</th><th scope="col">${w("lastSeen")}</th>
        <th scope="col" class="num">${w("times")}</th><th scope="col">${w("record")}</th><th scope="col">${w("field")}</th>
        <th scope="col">${w("deadReason")}</th><th scope="col">${w("payload")}</th></tr></thead>
      <tbody>${letters
        .map(
          (d) => `<tr data-dead-letter="${esc(d.id)}" data-dead-register="${esc(d.register)}">
            <td>${esc(d.id)}</td><td>${esc(d.register)}</td><td>${esc(dateTime(d.received_ms))}</td><td>${esc(dateTime(d.last_ms))}</td>
            <td class="num">${esc(count(d.times, lang))}</td><td>${esc(d.record_id ?? "")}${d.seq != null ? ` <span class="muted">#${esc(d.seq)}</span>` : ""}</td>
            <td>${esc(d.field ?? "")}</td><td class="reason">${esc(d.reason)}</td>
            <td><details data-keep="payload-${esc(d.id)}"><summary>${w("bytes", { n: count(d.payload_bytes, lang) })}</summary><pre>${esc(d.payload)}</pre></details></td>
          </tr>`,
        )
        .join("")}</tbody>
    </table>`;
}
