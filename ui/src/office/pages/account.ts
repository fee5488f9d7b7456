// My account: change my own password.

import { api } from "../api";
import { clearMarks } from "../dom";
import { esc } from "../format";
import { t } from "../i18n";
import type { PageFactory } from "../page";

export const accountPage: PageFactory = (ctx) => {
  const { lang, session } = ctx;
  ctx.root.innerHTML = `
    <h1>${esc(t("page_account", lang))}</h1>
    <p>${esc(t("signedInAs", lang, { user: session.username, role: t(`role_${session.role}`, lang) }))}</p>
    <section class="card narrow">
      <h2>${esc(t("changePassword", lang))}</h2>
      <form id="password-form" novalidate>
        <label for="password-current">${esc(t("currentPassword", lang))}</label>
        <input id="password-current" name="current_password" type="password" autocomplete="current-password" required />
        <label for="password-new">${esc(t("newPassword", lang))}</label>
        <input id="password-new" name="new_password" type="password" autocomplete="new-password" required aria-describedby="password-new-help" />
        <small id="password-new-help" class="help">${esc(t("passwordHelp", lang))}</small>
        <button type="submit" id="password-save" class="primary">${esc(t("save", lang))}</button>
      </form>
    </section>`;
  const form = ctx.root.querySelector<HTMLFormElement>("#password-form")!;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearMarks(form);
    const current_password = form.querySelector<HTMLInputElement>("#password-current")!.value;
    const new_password = form.querySelector<HTMLInputElement>("#password-new")!.value;
    try {
      await api.post("/api/auth/password", { current_password, new_password });
      form.reset();
      ctx.say(t("passwordSet", lang));
    } catch (err) {
      ctx.fail(err, form);
    }
  });
  return { refresh: async () => {} };
};
