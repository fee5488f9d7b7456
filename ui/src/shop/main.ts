// The storefront: the header, the hash router and the session; each page lives in pages/*.ts.

import "./shop.css";
import { esc, type Lang } from "../format";
import { clearMarks } from "../office/dom";
import { api, forget, hasSession, Problem, refresh, SIGNED_OUT, whenSignedOut } from "./api";
import { chooseLang, LANG_KEY, t, type Word } from "./i18n";
import type { Ctx, PageRender } from "./page";
import { markProblemField, sentence } from "./problem";
import { hrefOf, needsSession, parseRoute, type Route } from "./router";
import type { Cart, Customer } from "./types";
import { cataloguePage, productPage } from "./pages/catalogue";
import { cartPage } from "./pages/cart";
import { orderPage, ordersPage } from "./pages/orders";
import { claimPage, claimsPage } from "./pages/claims";
import { signInPage, signUpPage } from "./pages/account";

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const header = $("#top");
const main = $("#page");
const message = $("#message");
const notice = $("#notice");
const view = $("#view");

let lang: Lang = chooseLang(readStoredLang(), navigator.language);
let customer: Customer | null = null;
let cartLines = 0;
/** What to add once the shopper has signed in (they pressed "Add" signed out). */
let pendingAdd: { sku: string; quantity: number; name: string } | null = null;
/** Where to go back to after signing in. */
let afterSignIn = "#/";
/** The status line's sentence for the next page (said before going there). */
let carried = "";
let generation = 0;
let leaving: (() => void)[] = [];

function readStoredLang(): string | null {
  try {
    return localStorage.getItem(LANG_KEY);
  } catch {
    return null;
  }
}

function tr(word: Word, vars?: Record<string, string | number>) {
  return t(word, lang, vars);
}

function say(text: string) {
  notice.textContent = text;
  notice.className = text ? "info" : "";
}


function fail(e: unknown, scope?: ParentNode | null) {
  if (e instanceof Problem && e.body.title === SIGNED_OUT) return; // the sign-in form is on its way
  message.textContent = sentence(e, tr("networkError"));
  message.className = "error";
  if (scope && e instanceof Problem) markProblemField(scope, e.field)?.focus();
}

function clearMessages() {
  message.textContent = "";
  message.className = "";
  say("");
}

function cartIs(cart: Cart | null) {
  cartLines = cart ? cart.lines.reduce((n, l) => n + l.quantity, 0) : 0;
  const link = header.querySelector<HTMLAnchorElement>("#nav-cart");
  if (link) {
    link.textContent = tr("cartCount", { n: cartLines });
    link.dataset.count = String(cartLines);
  }
}

async function addToCart(sku: string, quantity: number, name: string) {
  if (!customer) {
    pendingAdd = { sku, quantity, name };
    afterSignIn = location.hash || "#/";
    carried = tr("signInToBuy");
    location.hash = "#/signin";
    return;
  }
  const cart = await api.post<Cart>("/api/shop/cart/lines", { sku, quantity });
  cartIs(cart);
  say(tr("added", { name }));
}

async function signedIn(who: Customer) {
  customer = who;
  if (who.language === "fr" || who.language === "en") setLang(who.language, false);
  renderHeader();
  const target = afterSignIn;
  afterSignIn = "#/";
  if (pendingAdd) {
    const add = pendingAdd;
    pendingAdd = null;
    try {
      await addToCart(add.sku, add.quantity, add.name);
    } catch (e) {
      fail(e);
    }
  } else {
    void loadCartCount();
  }
  carried = notice.textContent ?? "";
  location.hash = target === "#/signin" || target === "#/signup" ? "#/" : target;
}

async function loadCartCount() {
  try {
    cartIs(await api.get<Cart>("/api/shop/cart"));
  } catch {
    /* the count waits for the next change */
  }
}

function setLang(next: Lang, remember = true) {
  lang = next;
  document.documentElement.lang = lang;
  document.title = tr("shopName");
  if (remember) {
    try {
      localStorage.setItem(LANG_KEY, lang);
    } catch {
      /* not remembered */
    }
  }
}

function renderHeader() {
  const route = parseRoute(location.hash);
  const link = (href: string, word: Word, id: string, active: boolean, vars?: Record<string, string | number>) =>
    `<li><a id="${id}" href="${href}"${active ? ' aria-current="page"' : ""}>${esc(tr(word, vars))}</a></li>`;
  const signedInLinks = customer
    ? link("#/cart", "cartCount", "nav-cart", route.name === "cart", { n: cartLines }) +
      link("#/orders", "orders", "nav-orders", route.name === "orders" || route.name === "order") +
      link("#/claims", "claims", "nav-claims", route.name === "claims" || route.name === "claim")
    : link("#/signin", "signIn", "nav-signin", route.name === "signin") + link("#/signup", "signUp", "nav-signup", route.name === "signup");
  header.innerHTML = `
    <a class="brand" href="#/">${esc(tr("shopName"))}</a>
    <nav aria-label="${esc(tr("mainNav"))}"><ul>
      ${link("#/", "catalogue", "nav-catalogue", route.name === "catalogue" || route.name === "product")}
      ${signedInLinks}
    </ul></nav>
    <div class="tools">
      ${customer ? `<span class="who">${esc(tr("hello", { name: customer.name }))}</span><button type="button" id="sign-out">${esc(tr("signOut"))}</button>` : ""}
      <label for="lang-choice">${esc(tr("language"))}</label>
      <select id="lang-choice">
        <option value="fr"${lang === "fr" ? " selected" : ""}>Français</option>
        <option value="en"${lang === "en" ? " selected" : ""}>English</option>
      </select>
    </div>`;
  header.querySelector<HTMLSelectElement>("#lang-choice")!.addEventListener("change", (e) => {
    setLang((e.target as HTMLSelectElement).value === "en" ? "en" : "fr");
    renderHeader();
    void show();
    header.querySelector<HTMLSelectElement>("#lang-choice")?.focus();
  });
  header.querySelector("#sign-out")?.addEventListener("click", async () => {
    try {
      await api.del("/api/shop/sessions/current");
    } catch {
      /* signed out here whatever the server said */
    }
    forget();
    customer = null;
    cartIs(null);
    renderHeader();
    location.hash = "#/";
  });
  const cartLink = header.querySelector<HTMLAnchorElement>("#nav-cart");
  if (cartLink) cartLink.dataset.count = String(cartLines);
  const skip = $<HTMLAnchorElement>("#skip");
  skip.textContent = tr("skip");
}

const PAGES: Record<Route["name"], PageRender | ((ctx: Ctx, route: never) => Promise<void>)> = {
  catalogue: cataloguePage,
  product: productPage,
  cart: cartPage,
  orders: ordersPage,
  order: orderPage,
  claims: claimsPage,
  claim: claimPage,
  signin: signInPage,
  signup: signUpPage,
  missing: async (ctx: Ctx) => {
    ctx.root.innerHTML = `<h1>${esc(ctx.tr("notFound"))}</h1><p><a href="#/">${esc(ctx.tr("back"))}</a></p>`;
  },
};

/** Shows the page the address names; main#page is data-ready once it has shown its data. */
async function show() {
  const gen = ++generation;
  for (const fn of leaving) fn();
  leaving = [];
  const route = parseRoute(location.hash);
  if (needsSession(route) && !customer) {
    afterSignIn = location.hash;
    location.hash = "#/signin";
    return;
  }
  renderHeader();
  main.removeAttribute("data-ready");
  document.body.dataset.page = route.name;
  const root = document.createElement("div");
  root.className = `page page-${route.name}`;
  view.replaceChildren(root);
  const ctx: Ctx = {
    lang,
    tr,
    root,
    customer,
    say,
    fail,
    go: (href, notice) => {
      carried = notice ?? "";
      location.hash = href;
    },
    cartIs,
    addToCart,
    signedIn: (who) => void signedIn(who),
    onLeave: (fn) => leaving.push(fn),
    current: () => gen === generation,
  };
  try {
    await (PAGES[route.name] as (ctx: Ctx, route: Route) => Promise<void>)(ctx, route);
  } catch (e) {
    if (gen === generation) fail(e, root);
  }
  if (gen === generation) main.dataset.ready = "";
}

let lastRoute = "";
window.addEventListener("hashchange", () => {
  const route = hrefOf(parseRoute(location.hash));
  // A new page: earlier messages no longer apply, and focus moves to the page for screen readers.
  if (route !== lastRoute) {
    message.textContent = "";
    message.className = "";
    clearMarks(view);
    say(carried);
  }
  carried = "";
  lastRoute = route;
  void show().then(() => main.focus({ preventScroll: true }));
});

whenSignedOut(() => {
  customer = null;
  cartIs(null);
  clearMessages();
  carried = tr("sessionEnded");
  afterSignIn = location.hash;
  location.hash = "#/signin";
});

$<HTMLAnchorElement>("#skip").addEventListener("click", (e) => {
  e.preventDefault();
  main.focus();
});

async function start() {
  setLang(lang, false);
  lastRoute = hrefOf(parseRoute(location.hash));
  // A reload in a signed-in tab: the refresh token gives a new access token.
  if (hasSession() && (await refresh().catch(() => false))) {
    try {
      customer = await api.get<Customer>("/api/shop/me");
      void loadCartCount();
    } catch {
      customer = null;
    }
  }
  await show();
}

void start();
