// The sign-in form, shown at start-up without a session and after any 401.

import { esc, type Lang } from "../format";
import { t } from "../i18n";

export function renderSignIn(lang: Lang): string {
  return `
    <section class="signin card">
      <h1>${esc(t("signInTitle", lang))}</h1>
      <form id="signin" novalidate>
        <label for="signin-username">${esc(t("username", lang))}</label>
        <input id="signin-username" name="username" autocomplete="username" required />
        <label for="signin-password">${esc(t("password", lang))}</label>
        <input id="signin-password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit" id="signin-submit" class="primary">${esc(t("signIn", lang))}</button>
      </form>
    </section>`;
}
