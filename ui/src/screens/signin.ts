import { esc } from "../format";
import { t } from "../i18n";
import type { State } from "../state";

const PAD = ["7", "8", "9", "4", "5", "6", "1", "2", "3", "C", "0", "⌫"];

export function renderPad(target: string): string {
  return `<div class="pad" data-pad="${target}">${PAD.map(
    (k) => `<button type="button" class="key" data-pad-key="${k}">${k}</button>`,
  ).join("")}</div>`;
}

export function renderEnrol(s: State): string {
  const l = s.lang;
  return `<form class="card narrow" data-form="enrol">
    <h1>${t("enrolTitle", l)}</h1>
    <label>${t("server", l)}<input name="server" id="enrol-server" value="http://127.0.0.1:8080" required /></label>
    <label>${t("code", l)}<input name="code" id="enrol-code" autocomplete="off" required /></label>
    <button class="primary big" type="submit">${t("enrol", l)} ⏎</button>
  </form>`;
}

export function renderSignIn(s: State): string {
  const l = s.lang;
  const store = s.view?.identity ? esc(s.view.identity.store_name) : "";
  return `<form class="card narrow" data-form="sign-in">
    <h1>${t("signInTitle", l)}</h1>
    <p class="muted">${store}</p>
    <label>${t("cashierNo", l)}<input name="cashier" id="cashier" inputmode="numeric" autocomplete="off" /></label>
    <label>${t("pin", l)}<input name="pin" id="pin" type="password" inputmode="numeric" autocomplete="off" /></label>
    ${renderPad("sign-in")}
    <button class="primary big" id="sign-in" type="submit">${t("signIn", l)} ⏎</button>
  </form>`;
}
