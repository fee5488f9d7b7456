// People (admins only): head office users, their roles, disabling, enabling, new passwords.

import { api, enc } from "../api";
import { clearMarks, keepingInputs, sel } from "../dom";
import { esc, type Lang } from "../format";
import { t, tOr, type Word } from "../i18n";
import type { PageFactory } from "../page";
import type { Role, User } from "../types";

const ROLES: Role[] = ["admin", "manager", "logistics"];

export const peoplePage: PageFactory = (ctx) => {
  const { lang, root } = ctx;
  const w = (word: Word, vars?: Record<string, string | number>) => esc(t(word, lang, vars));
  let users: User[] = [];
  /** The user whose new password is being typed, if any. */
  let resetting: string | null = null;

  root.innerHTML = `
    <h1>${w("page_people")}</h1>
    <section class="card scroll"><div class="users-list"></div></section>
    <section class="card">
      <h2>${w("newUser")}</h2>
      <form id="user-form" class="toolbar" novalidate>
        <div class="field"><label for="user-username">${w("username")}</label><input id="user-username" name="username" autocomplete="off" /></div>
        <div class="field"><label for="user-role">${w("role")}</label><select id="user-role" name="role">${ROLES.map(
          (r) => `<option value="${r}"${r === "manager" ? " selected" : ""}>${w(`role_${r}`)}</option>`,
        ).join("")}</select></div>
        <div class="field"><label for="user-password">${w("password")}</label><input id="user-password" name="password" type="password" autocomplete="new-password" aria-describedby="user-password-help" />
          <small id="user-password-help" class="help">${w("passwordHelp")}</small></div>
        <button type="submit" id="user-create" class="primary">${w("createUser")}</button>
      </form>
    </section>`;
  const list = root.querySelector<HTMLElement>(".users-list")!;
  const form = root.querySelector<HTMLFormElement>("#user-form")!;

  function paint() {
    keepingInputs(list, () => {
      list.innerHTML = renderUsers(users, resetting, ctx.session.username, lang);
    });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearMarks(form);
    const value = (id: string) => form.querySelector<HTMLInputElement | HTMLSelectElement>(`#${id}`)!.value;
    try {
      await api.post("/api/users", { username: value("user-username").trim(), role: value("user-role"), password: value("user-password") });
      form.reset();
      ctx.say(t("userCreated", lang));
      ctx.reload();
    } catch (err) {
      ctx.fail(err, form);
    }
  });

  list.addEventListener("click", async (e) => {
    const target = e.target as HTMLElement;
    const button = target.closest<HTMLButtonElement>("button");
    if (!button) return;
    const { disable, enable, reset } = button.dataset;
    try {
      if (disable !== undefined) {
        await api.post(`/api/users/${enc(disable)}/disable`);
        ctx.reload();
      } else if (enable !== undefined) {
        await api.post(`/api/users/${enc(enable)}/enable`);
        ctx.reload();
      } else if (reset !== undefined) {
        resetting = reset;
        paint();
        list.querySelector<HTMLInputElement>(`input[data-reset-password=${sel(reset)}]`)?.focus();
      } else if (button.dataset.resetCancel !== undefined) {
        resetting = null;
        paint();
      }
    } catch (err) {
      ctx.fail(err);
    }
  });

  list.addEventListener("submit", async (e) => {
    const resetForm = (e.target as HTMLElement).closest<HTMLFormElement>("form[data-reset-form]");
    if (!resetForm) return;
    e.preventDefault();
    clearMarks(resetForm);
    const username = resetForm.dataset.resetForm!;
    const input = resetForm.querySelector<HTMLInputElement>("input[data-reset-password]")!;
    try {
      await api.post(`/api/users/${enc(username)}/password`, { new_password: input.value });
      resetting = null;
      paint();
      ctx.say(t("passwordSet", lang));
    } catch (err) {
      ctx.fail(err, resetForm);
    }
  });

  return {
    async refresh() {
      users = await api.get<User[]>("/api/users");
      paint();
    },
  };
};

export function renderUsers(users: User[], resetting: string | null, me: string, lang: Lang): string {
  const w = (word: Word, vars?: Record<string, string | number>) => esc(t(word, lang, vars));
  return `
    <table class="grid">
      <caption class="visually-hidden">${w("page_people")}</caption>
      <thead><tr><th scope="col">${w("username")}</th><th scope="col">${w("role")}</th><th scope="col">${w("status")}</th><th scope="col">${w("actions")}</th></tr></thead>
      <tbody>${users
        .map((u) => {
          const n = esc(u.username);
          const row = `<tr data-user="${n}" data-role="${esc(u.role)}" data-disabled="${u.disabled ? "1" : "0"}"${u.disabled ? ' class="inactive"' : ""}>
            <th scope="row">${n}</th><td>${esc(tOr(`role_${u.role}`, lang, u.role))}</td><td>${w(u.disabled ? "disabled" : "enabled")}</td>
            <td class="actions">${
              u.disabled
                ? `<button type="button" data-enable="${n}">${w("enable")}</button>`
                : u.username === me
                  ? ""
                  : `<button type="button" data-disable="${n}">${w("disable")}</button>`
            } <button type="button" data-reset="${n}" aria-expanded="${resetting === u.username}">${w("resetPassword")}</button></td></tr>`;
          const form =
            resetting === u.username
              ? `<tr class="inline-form" data-reset-row="${n}"><td colspan="4">
                  <form data-reset-form="${n}" class="toolbar" novalidate>
                    <div class="field"><label for="reset-password">${w("newPasswordFor", { user: u.username })}</label>
                      <input id="reset-password" name="new_password" type="password" autocomplete="new-password" data-reset-password="${n}" /></div>
                    <button type="submit" class="primary" data-reset-save="${n}">${w("save")}</button>
                    <button type="button" data-reset-cancel="${n}">${w("cancel")}</button>
                  </form></td></tr>`
              : "";
          return row + form;
        })
        .join("")}</tbody>
    </table>`;
}
