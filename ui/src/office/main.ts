// The head office pages: sign-in, the header and nav, the hash router and the live updates.
// Each page lives in pages/*.ts; this module only wires them together.

import "./office.css";
import { api, Problem, setCsrf, whenUnauthorized } from "./api";
import { esc, type Lang } from "./format";
import { chooseLang, LANG_KEY, t, type Word } from "./i18n";
import { connectLive, type Live } from "./live";
import type { Ctx, Page, PageFactory } from "./page";
import { hashDetail, hrefOf, mayOpen, pagesFor, parseHash, type PageName } from "./router";
import type { Location, Session } from "./types";
import { markField, clearMarks } from "./dom";
import { Fader } from "./fade";
import { renderSignIn } from "./pages/signin";
import { dashboardPage } from "./pages/dashboard";
import { reportPage } from "./pages/report";
import { productsPage } from "./pages/products";
import { replenishmentPage } from "./pages/replenishment";
import { alertsPage } from "./pages/alerts";
import { registersPage } from "./pages/registers";
import { peoplePage } from "./pages/people";
import { ordersPage } from "./pages/orders";
import { accountPage } from "./pages/account";
import { claimsPage } from "./pages/claims";
import { auditPage } from "./pages/audit";
import { settingsPage } from "./pages/settings";

const FACTORIES: Record<PageName, PageFactory> = {
  dashboard: dashboardPage,
  report: reportPage,
  products: productsPage,
  replenishment: replenishmentPage,
  alerts: alertsPage,
  registers: registersPage,
  people: peoplePage,
  orders: ordersPage,
  claims: claimsPage,
  audit: auditPage,
  settings: settingsPage,
  account: accountPage,
};

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const header = $("#top");
const nav = $("#nav");
const main = $("#page");
const message = $("#message");
const view = $("#view");

let lang: Lang = chooseLang(readStoredLang(), navigator.language);
let session: Session | null = null;
let live: Live | null = null;
let locations: Promise<Location[]> | null = null;
let liveEvents = 0;
let liveConnected = false;

/** The page on show and everything tied to it. */
let current: { name: PageName; page: Page | null; gen: number; leave: (() => void)[] } = { name: "dashboard", page: null, gen: 0, leave: [] };
let loading = false;
let loadAgain = false;

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

// ---- messages ---------------------------------------------------------------------------

/** How long a confirmation stays before it fades; an error stays until dismissed or the next
 * action. */
const SAID_FOR_MS = 5000;
const FADE_MS = 600;
const fader = new Fader(
  SAID_FOR_MS,
  FADE_MS,
  () => message.classList.add("fading"),
  () => {
    if (message.classList.contains("info")) say("");
  },
  () => message.classList.remove("fading"),
);
// Not while the reader is on it: hovered, or the focus inside.
message.addEventListener("mouseenter", () => fader.hold("hover"));
message.addEventListener("mouseleave", () => fader.release("hover"));
message.addEventListener("focusin", () => fader.hold("focus"));
message.addEventListener("focusout", (e) => {
  if (!message.contains(e.relatedTarget as Node | null)) fader.release("focus");
});

function stopFading() {
  fader.stop();
}

function say(text: string) {
  stopFading();
  message.textContent = text;
  message.className = text ? "info" : "";
  if (!text) return;
  // The last confirmation stays readable by scripts after it has faded.
  message.dataset.said = text;
  fader.start();
}

function fail(e: unknown, scope?: ParentNode | null) {
  let text: string;
  if (e instanceof Problem) {
    text = e.status === 0 ? tr("networkError") : e.message;
    if (scope) markField(scope, e.field);
  } else {
    text = e instanceof Error ? e.message : String(e);
  }
  stopFading();
  message.className = "error";
  message.innerHTML = `<span class="text"></span> <button type="button" class="dismiss" id="message-dismiss" aria-label="${esc(tr("dismiss"))}">×</button>`;
  message.querySelector(".text")!.textContent = text;
}

message.addEventListener("click", (e) => {
  if ((e.target as HTMLElement).closest("#message-dismiss")) say("");
});

// The next action takes an error away (a new one, if it fails too, replaces it).
for (const kind of ["submit", "click"] as const) {
  view.addEventListener(
    kind,
    (e) => {
      if (message.className !== "error") return;
      if (kind === "click" && !(e.target as HTMLElement).closest("button, a")) return;
      say("");
    },
    true,
  );
}

function clearMessage() {
  say("");
  clearMarks(view);
}

// ---- header and nav ---------------------------------------------------------------------

function renderHeader() {
  document.documentElement.lang = lang;
  const options = (["fr", "en"] as const)
    .map((l) => `<option value="${l}"${l === lang ? " selected" : ""}>${l === "fr" ? "Français" : "English"}</option>`)
    .join("");
  const who = session
    ? `<span class="who" id="who" data-role="${esc(session.role)}">${esc(tr("signedInAs", { user: session.username, role: tr(`role_${session.role}` as Word) }))}</span>
       <span id="live" data-events="${liveEvents}" data-connected="${liveConnected ? "1" : "0"}"><span class="dot" aria-hidden="true"></span> <span class="live-word">${esc(tr(liveConnected ? "live" : "offlineLive"))}</span> <span class="live-count">${liveEvents}</span></span>
       <button type="button" id="signout">${esc(tr("signOut"))}</button>`
    : "";
  header.innerHTML = `
    <p class="brand">${esc(tr("appName"))}</p>
    <div class="tools">
      ${who}
      <label class="lang" for="lang"><span class="visually-hidden">${esc(tr("language"))}</span>
        <select id="lang">${options}</select></label>
    </div>`;
}

/** The live indicator: events counted, stream open or not. */
function paintLive() {
  const el = document.getElementById("live");
  if (!el) return;
  el.dataset.events = String(liveEvents);
  el.dataset.connected = liveConnected ? "1" : "0";
  el.title = tr("liveTitle", { n: liveEvents });
  const shown = el.querySelector(".live-count");
  if (shown) shown.textContent = String(liveEvents);
  const word = el.querySelector(".live-word");
  if (word) word.textContent = tr(liveConnected ? "live" : "offlineLive");
}

function renderNav() {
  nav.setAttribute("aria-label", tr("pagesNav"));
  if (!session) {
    nav.innerHTML = "";
    nav.hidden = true;
    return;
  }
  nav.hidden = false;
  nav.innerHTML = `<ul>${pagesFor(session.role)
    .map(
      (p) =>
        `<li><a href="${hrefOf(p)}" data-page="${p}"${p === current.name ? ' aria-current="page"' : ""}>${esc(tr(`page_${p}` as Word))}</a></li>`,
    )
    .join("")}</ul>`;
}

function markNav() {
  nav.querySelectorAll<HTMLAnchorElement>("a[data-page]").forEach((a) => {
    if (a.dataset.page === current.name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
}

header.addEventListener("change", (e) => {
  const target = e.target as HTMLElement;
  if (target.id !== "lang") return;
  lang = (target as HTMLSelectElement).value === "fr" ? "fr" : "en";
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    /* private mode: the choice lasts this visit */
  }
  renderHeader();
  paintLive();
  if (session) {
    renderNav();
    show(current.name);
  } else showSignIn();
  $<HTMLSelectElement>("#lang").focus();
});

header.addEventListener("click", async (e) => {
  if ((e.target as HTMLElement).closest("#signout")) {
    try {
      await api.post("/api/auth/logout");
    } catch {
      /* signed out either way */
    }
    signedOut();
  }
});

// ---- pages ------------------------------------------------------------------------------

function leavePage() {
  for (const fn of current.leave) {
    try {
      fn();
    } catch {
      /* a page's own clean-up failing must not stop the next page */
    }
  }
  current = { name: current.name, page: null, gen: current.gen + 1, leave: [] };
}

/** The detail of the hash the page on show was opened with (a claim's id). */
let shownDetail: string | null = null;

function show(name: PageName) {
  if (!session) return;
  shownDetail = hashDetail(location.hash);
  leavePage();
  current.name = name;
  const gen = current.gen;
  clearMessage();
  markNav();
  view.innerHTML = "";
  main.removeAttribute("data-ready");
  document.title = `${tr(`page_${name}` as Word)} — Caisse`;
  if (!mayOpen(session.role, name)) {
    document.body.dataset.page = "forbidden";
    view.innerHTML = `<h1>${esc(tr("forbidden"))}</h1><p>${esc(tr("forbiddenText"))}</p>`;
    main.setAttribute("data-ready", "1");
    return;
  }
  document.body.dataset.page = name;
  const root = document.createElement("div");
  root.className = `page page-${name}`;
  view.appendChild(root);
  const ctx: Ctx = {
    lang,
    session,
    root,
    say,
    fail,
    locations: () => (locations ??= api.get<Location[]>("/api/locations").catch((e) => ((locations = null), Promise.reject(e)))),
    reload: () => {
      if (gen === current.gen) void load();
    },
    onLeave: (fn) => {
      if (gen === current.gen) current.leave.push(fn);
      else fn();
    },
  };
  current.page = FACTORIES[name](ctx);
  void load();
}

/** Fetches the page's figures; one load at a time, another one after it when asked meanwhile. */
async function load() {
  if (loading) {
    loadAgain = true;
    return;
  }
  loading = true;
  try {
    do {
      loadAgain = false;
      const { page, gen } = current;
      if (!page) break;
      main.removeAttribute("data-ready");
      try {
        await page.refresh();
        if (gen === current.gen) {
          main.setAttribute("data-ready", "1");
          // The browser's own clock of when the page first showed its figures (the benchmark
          // of tests/benches/office.rs reads it).
          if (performance.getEntriesByName("page-ready").length === 0) performance.mark("page-ready");
        }
      } catch (e) {
        if (gen === current.gen) fail(e);
      }
    } while (loadAgain);
  } finally {
    loading = false;
  }
}

function onLiveChange(topics: string[]) {
  const page = current.page;
  if (!page) return;
  if (page.changed) page.changed(topics);
  else void load();
}

window.addEventListener("hashchange", () => {
  if (session) {
    const name = parseHash(location.hash);
    // A claim's page and the queue are one page with and without an id.
    if (name !== current.name || !current.page || hashDetail(location.hash) !== shownDetail) show(name);
  }
});

// ---- sign-in ----------------------------------------------------------------------------

function signedIn(s: Session) {
  session = s;
  setCsrf(s.csrf);
  locations = null;
  live?.close();
  renderHeader();
  liveEvents = 0;
  liveConnected = false;
  renderHeader();
  live = connectLive({
    connected(on) {
      liveConnected = on;
      paintLive();
    },
    counted() {
      liveEvents += 1;
      paintLive();
    },
    changed: onLiveChange,
  });
  renderNav();
  // A page the previous person could open and this one cannot: start from the dashboard.
  let name = parseHash(location.hash);
  if (!mayOpen(s.role, name)) {
    name = "dashboard";
    history.replaceState(null, "", "#/dashboard");
  }
  current.name = name;
  show(current.name);
}

function signedOut() {
  leavePage();
  live?.close();
  live = null;
  session = null;
  setCsrf("");
  showSignIn();
}

function showSignIn() {
  leavePage();
  session = null;
  live?.close();
  live = null;
  renderHeader();
  renderNav();
  document.body.dataset.page = "signin";
  document.title = `${tr("signInTitle")} — Caisse`;
  view.innerHTML = renderSignIn(lang);
  main.setAttribute("data-ready", "1");
  const form = $<HTMLFormElement>("#signin");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const username = $<HTMLInputElement>("#signin-username").value.trim();
    const password = $<HTMLInputElement>("#signin-password").value;
    const button = $<HTMLButtonElement>("#signin-submit");
    button.disabled = true;
    clearMarks(form);
    try {
      const s = await api.quiet<Session>("POST", "/api/auth/session", { username, password });
      say("");
      signedIn(s);
    } catch (err) {
      fail(err, form);
      button.disabled = false;
      $<HTMLInputElement>("#signin-password").select();
    }
  });
  $<HTMLInputElement>("#signin-username").focus();
}

whenUnauthorized(() => {
  if (session) {
    const text = message.textContent;
    signedOut();
    if (text) say(text);
  }
});

async function start() {
  renderHeader();
  renderNav();
  try {
    signedIn(await api.quiet<Session>("GET", "/api/auth/me"));
  } catch (e) {
    showSignIn();
    if (!(e instanceof Problem && e.status === 401)) fail(e);
  }
}

void start();
