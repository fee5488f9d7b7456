// Signing up and signing in. The tokens go to ../api (the access token stays in memory).

import { esc } from "../../format";
import { api, keep } from "../api";
import type { Ctx } from "../page";
import type { Tokens } from "../types";

async function signIn(ctx: Ctx, email: string, password: string) {
  const tokens = await api.open<Tokens>("POST", "/api/shop/sessions", { email, password });
  keep(tokens);
  ctx.signedIn(tokens.customer);
}

export async function signInPage(ctx: Ctx) {
  ctx.root.innerHTML = `
    <section class="card narrow-card" aria-labelledby="signin-title">
      <h1 id="signin-title">${esc(ctx.tr("signIn"))}</h1>
      <form id="signin">
        <div class="field"><label for="si-email">${esc(ctx.tr("email"))}</label>
          <input id="si-email" name="email" type="email" autocomplete="email" required /></div>
        <div class="field"><label for="si-password">${esc(ctx.tr("password"))}</label>
          <input id="si-password" name="password" type="password" autocomplete="current-password" required /></div>
        <button type="submit" id="signin-submit" class="primary">${esc(ctx.tr("signIn"))}</button>
      </form>
      <p><a href="#/signup">${esc(ctx.tr("noAccount"))}</a></p>
    </section>`;
  const form = ctx.root.querySelector<HTMLFormElement>("#signin")!;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const submit = form.querySelector<HTMLButtonElement>("#signin-submit")!;
    submit.disabled = true;
    try {
      await signIn(ctx, form.querySelector<HTMLInputElement>("#si-email")!.value.trim(), form.querySelector<HTMLInputElement>("#si-password")!.value);
    } catch (err) {
      submit.disabled = false;
      ctx.fail(err, form);
    }
  });
  form.querySelector<HTMLInputElement>("#si-email")!.focus();
}

export async function signUpPage(ctx: Ctx) {
  ctx.root.innerHTML = `
    <section class="card narrow-card" aria-labelledby="signup-title">
      <h1 id="signup-title">${esc(ctx.tr("signUp"))}</h1>
      <form id="signup">
        <div class="field"><label for="su-name">${esc(ctx.tr("name"))}</label>
          <input id="su-name" name="name" autocomplete="name" required /></div>
        <div class="field"><label for="su-email">${esc(ctx.tr("email"))}</label>
          <input id="su-email" name="email" type="email" autocomplete="email" required /></div>
        <div class="field"><label for="su-password">${esc(ctx.tr("password"))}</label>
          <input id="su-password" name="password" type="password" autocomplete="new-password" minlength="12" required aria-describedby="su-password-help" />
          <span id="su-password-help" class="help">${esc(ctx.tr("passwordHelp"))}</span></div>
        <div class="field"><label for="su-language">${esc(ctx.tr("language"))}</label>
          <select id="su-language" name="language">
            <option value="fr"${ctx.lang === "fr" ? " selected" : ""}>Français</option>
            <option value="en"${ctx.lang === "en" ? " selected" : ""}>English</option>
          </select></div>
        <button type="submit" id="signup-submit" class="primary">${esc(ctx.tr("signUp"))}</button>
      </form>
      <p><a href="#/signin">${esc(ctx.tr("haveAccount"))}</a></p>
    </section>`;
  const form = ctx.root.querySelector<HTMLFormElement>("#signup")!;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = (id: string) => form.querySelector<HTMLInputElement | HTMLSelectElement>(id)!.value;
    const submit = form.querySelector<HTMLButtonElement>("#signup-submit")!;
    submit.disabled = true;
    try {
      const email = value("#su-email").trim();
      await api.open("POST", "/api/shop/accounts", { email, name: value("#su-name").trim(), password: value("#su-password"), language: value("#su-language") });
      // The answer is the same for an address already taken: signing in says whether it worked.
      await signIn(ctx, email, value("#su-password"));
    } catch (err) {
      submit.disabled = false;
      ctx.fail(err, form);
    }
  });
  form.querySelector<HTMLInputElement>("#su-name")!.focus();
}
