// The register screen: shows the library's answers and forwards the cashier's keys and taps.
// It holds no business rules: totals, taxes, change, scans and returns are all decided by the
// register library behind the Tauri commands in `api.ts`.

import "./style.css";
import { listen } from "@tauri-apps/api/event";
import { api, Refusal, type Problem, type View } from "./api";
import { keyedAmount, money, type Lang } from "./format";
import { problemText, t, type Word } from "./i18n";
import { actionFor, padPress, ScanBuffer, type Action, type Screen } from "./keys";
import { initialState, selectedAfter, type State } from "./state";
import { renderReturn } from "./screens/returns";
import { renderModal, renderSale } from "./screens/sale";
import { renderSettings } from "./screens/settings";
import { renderEnrol, renderSignIn } from "./screens/signin";
import { renderStatus } from "./screens/status";
import { renderStock } from "./screens/stock";
import { renderTender } from "./screens/tender";
import { renderZ } from "./screens/z";

const s: State = initialState();
const scan = new ScanBuffer();
const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector);

/** Calls run one after another, in the order the keys came: a scan never overtakes a scan. */
let queue: Promise<unknown> = Promise.resolve();
function run<T>(work: () => Promise<T>): Promise<T | undefined> {
  const next = queue.then(work).catch((e) => {
    showProblem(e);
    return undefined;
  });
  queue = next;
  return next;
}

function showProblem(e: unknown) {
  if (e instanceof Refusal) {
    s.message = { text: problemText(e.problem, s.lang), error: true, field: e.problem.field };
  } else {
    s.message = { text: String(e), error: true, field: null };
  }
  renderMessage();
}

function say(word: Word) {
  s.message = { text: t(word, s.lang), error: false, field: null };
  renderMessage();
}

function accept(view: View) {
  const before = s.view?.cart.lines.length ?? 0;
  s.view = view;
  s.lang = view.settings.language;
  s.selected = selectedAfter(s.selected, before, view.cart.lines.length);
  document.documentElement.lang = s.lang;
}

const BAR: [string, Word][] = [
  ["F1", "sale"], ["F2", "search"], ["F3", "quantity"], ["F4", "discount"], ["F5", "remove"], ["F6", "park"],
  ["F7", "reprint"], ["F8", "returns"], ["F9", "stock"], ["F10", "pay"], ["F11", "zReport"], ["F12", "settings"],
];

function render() {
  const v = s.view;
  const app = $("#app")!;
  renderStatusBar();
  if (!v) return;
  let html: string;
  if (!v.identity) html = renderEnrol(s);
  else if (!v.cashier) html = renderSignIn(s);
  else {
    const page = {
      sale: renderSale,
      tender: renderTender,
      return: renderReturn,
      stock: renderStock,
      z: renderZ,
      settings: renderSettings,
    }[s.screen](s);
    const bar = BAR.map(
      ([key, word]) =>
        `<button type="button" data-action="${key}" class="${screenOf(key) === s.screen ? "current" : ""}"><kbd>${key}</kbd>${t(word, s.lang)}</button>`,
    ).join("");
    html = `${page}${s.screen === "sale" ? renderModal(s) : ""}<nav class="fkeys">${bar}<button type="button" data-action="sign-out"><kbd>Ctrl+Q</kbd>${t("signOut", s.lang)}</button></nav>`;
  }
  app.innerHTML = html;
  app.dataset.screen = !v.identity ? "enrol" : !v.cashier ? "sign-in" : s.screen;
  renderMessage();
  focusDefault();
}

function screenOf(key: string): Screen | null {
  const a = actionFor({ key }, "sale");
  return a?.kind === "screen" ? a.screen : null;
}

function renderStatusBar() {
  $("#status")!.innerHTML = renderStatus(s, Date.now());
}

function renderMessage() {
  const box = $("#message")!;
  box.textContent = s.message?.text ?? "";
  box.className = s.message ? (s.message.error ? "error" : "info") : "";
  document.querySelectorAll(".invalid").forEach((el) => el.classList.remove("invalid"));
  if (s.message?.field) document.querySelector(`[name="${s.message.field}"]`)?.classList.add("invalid");
}

function focusDefault() {
  const v = s.view;
  if (!v) return;
  const target = !v.identity
    ? "#enrol-code"
    : !v.cashier
      ? "#cashier"
      : s.modal
        ? "#modal-input"
        : { sale: "#scan", tender: "#tender-screen", return: "#receipt", stock: "#stock-code", z: "#z-float", settings: "#set-printer" }[s.screen];
  $<HTMLElement>(target)?.focus();
}

async function go(screen: Screen) {
  if (screen === "tender" && !s.view?.cart.lines.length) return;
  if (s.screen === "tender" && screen !== "tender" && s.view?.payment.tenders.length) {
    accept(await api.clearTenders());
  }
  s.screen = screen;
  s.modal = null;
  s.found = [];
  s.confirmClose = false;
  s.tenderEntry = "";
  if (screen === "stock") s.transfers = await api.incomingTransfers();
  if (screen !== "return") {
    s.returnDone = null;
    s.unverified = null;
  }
  render();
}

async function onAction(action: Action) {
  const v = s.view;
  if (!v?.cashier) return;
  const line = s.selected;
  switch (action.kind) {
    case "screen":
      if (action.screen === "tender" && s.screen === "return" && s.lookup) return submitReturn();
      if (action.screen === "tender" && s.screen === "return" && s.unverified) return submitUnverified();
      if (action.screen === "tender" && s.screen === "z") return closeTill();
      return go(action.screen);
    case "cancel":
      if (s.modal) {
        s.modal = null;
        return render();
      }
      if (s.found.length) {
        s.found = [];
        return render();
      }
      if (s.screen === "sale") {
        s.message = null;
        return render();
      }
      return go("sale");
    case "search":
      await go("sale");
      $<HTMLInputElement>("#scan")?.focus();
      return;
    case "quantity":
    case "discount":
      if (s.screen !== "sale" || line < 0) return;
      s.modal = { kind: action.kind, index: line, entry: "" };
      return render();
    case "remove":
      if (s.screen !== "sale" || line < 0) return;
      accept(await api.removeLine(line));
      return render();
    case "park":
      if (s.screen !== "sale") return;
      if (v.cart.lines.length) accept(await api.park());
      else if (v.parked.length) s.modal = { kind: "parked" };
      return render();
    case "reprint": {
      if (s.screen !== "sale") return;
      const receipts = await api.recentReceipts();
      if (!receipts.length) return;
      s.modal = { kind: "reprint", receipts };
      return render();
    }
    case "void":
      accept(await api.voidSale());
      return go("sale");
    case "signOut":
      accept(await api.signOut());
      s.screen = "sale";
      return render();
    case "up":
    case "down": {
      const n = v.cart.lines.length;
      if (!n) return;
      s.selected = Math.max(0, Math.min(n - 1, line + (action.kind === "up" ? -1 : 1)));
      return render();
    }
    case "debit":
    case "credit":
      return tender(action.kind);
    case "sync":
      await api.syncNow();
      return;
  }
}

async function tender(kind: "cash" | "debit" | "credit") {
  const entry = s.tenderEntry ? keyedAmount(s.tenderEntry) : "";
  const approval = $<HTMLInputElement>("#approval")?.value ?? s.creditApproval;
  s.creditApproval = approval;
  const tendered = await api.addTender(kind, entry, approval);
  s.tenderEntry = "";
  accept(tendered.view);
  if (tendered.outcome === "completed") {
    s.creditApproval = "";
    s.screen = "sale";
  }
  s.message = null;
  render();
}

async function submitScan(keys: { key: string; at_ms: number }[]) {
  s.scanStartedMs = keys[keys.length - 1].at_ms;
  const outcome = await api.scanKeys(keys);
  accept(outcome.view);
  s.found = outcome.found;
  document.body.dataset.lastInput = outcome.scanned ? "scan" : outcome.typed ? "typed" : "";
  s.message = null;
  render();
  if (outcome.leftover) {
    const field = $<HTMLInputElement>("#scan")!;
    field.value = outcome.leftover;
    scan.restore(outcome.leftover, performance.now());
  }
  // Keystroke-to-line: from the Enter that ended the burst to the line on screen.
  requestAnimationFrame(() => {
    if (s.scanStartedMs !== null) {
      s.lastScanToLineMs = performance.now() - s.scanStartedMs;
      document.body.dataset.scanToLineMs = s.lastScanToLineMs.toFixed(2);
      s.scanStartedMs = null;
    }
  });
}

async function submitReturn() {
  const form = $<HTMLFormElement>("#return-form");
  if (!form || !s.lookup) return;
  const data = new FormData(form);
  const picks = s.lookup.lines.map((l) => ({
    index: l.index,
    quantity: Number(data.get(`qty-${l.index}`) ?? 0) || 0,
    restock: data.get(`restock-${l.index}`) === "on",
  }));
  s.returnDone = await api.takeReturn(picks, String(data.get("refund_to")), String(data.get("reason")));
  s.lookup = null;
  accept(await api.view());
  render();
}

async function submitUnverified() {
  const u = s.unverified;
  const form = $<HTMLFormElement>("#unverified-form");
  if (!u || !form) return;
  const data = new FormData(form);
  const store = $<HTMLInputElement>("#unverified-store")?.value ?? u.store;
  s.returnDone = await api.takeUnverifiedReturn(u.receipt, store, u.items, String(data.get("refund_to")), String(data.get("reason")));
  s.unverified = null;
  s.message = null;
  accept(await api.view());
  render();
}

async function closeTill() {
  if (!s.confirmClose) {
    s.confirmClose = true;
    return render();
  }
  s.confirmClose = false;
  s.z = await api.zReport($<HTMLInputElement>("#z-float")?.value ?? "", $<HTMLInputElement>("#z-counted")?.value ?? "", true);
  render();
}

async function onSubmit(form: HTMLFormElement) {
  const data = new FormData(form);
  const get = (name: string) => String(data.get(name) ?? "");
  switch (form.dataset.form) {
    case "enrol":
      accept(await api.enrol(get("server"), get("code")));
      return render();
    case "sign-in":
      accept(await api.signIn(get("cashier"), get("pin")));
      s.screen = "sale";
      s.message = null;
      return render();
    case "quantity": {
      const m = s.modal;
      if (m?.kind !== "quantity") return;
      const quantity = Number(get("entry"));
      if (!Number.isInteger(quantity) || quantity < 1) {
        s.message = { text: `${get("entry")} ≠ ${t("quantity", s.lang)}`, error: true, field: "entry" };
        return renderMessage();
      }
      accept(await api.setQuantity(m.index, quantity));
      s.modal = null;
      return render();
    }
    case "discount": {
      const m = s.modal;
      if (m?.kind !== "discount") return;
      accept(await api.setDiscount(m.index, get("entry")));
      s.modal = null;
      return render();
    }
    case "find-sale":
      s.returnDone = null;
      s.unverified = null;
      try {
        s.lookup = await api.findSale(get("receipt"));
      } catch (e) {
        // Head office is out of reach and the sale is not this till's: the offline policy.
        if (!(e instanceof Refusal) || e.problem.code !== "offline") throw e;
        s.lookup = null;
        s.unverified = { receipt: get("receipt").trim(), store: "", items: [] };
        render();
        showProblem(e);
        $<HTMLInputElement>("#unverified-store")?.focus();
        return;
      }
      render();
      $<HTMLInputElement>("[data-return-line]:not([disabled])")?.focus();
      return;
    case "return":
      return submitReturn();
    case "unverified-item": {
      const u = s.unverified;
      const quantity = Number(get("quantity"));
      if (!u || !get("code").trim() || !Number.isInteger(quantity) || quantity < 1) return;
      u.store = get("store").trim();
      u.items.push([get("code").trim(), quantity]);
      render();
      $<HTMLInputElement>("#unverified-code")?.focus();
      return;
    }
    case "unverified":
      return submitUnverified();
    case "stock":
      s.stock = await api.stock(get("code"));
      return render();
    case "count":
      s.stock = await api.countStock(s.stock!.product.sku, Number(get("counted")));
      return render();
    case "adjust":
      s.stock = await api.adjustStock(s.stock!.product.sku, Number(get("delta")), get("reason"));
      return render();
    case "replenish":
      await api.requestReplenishment(s.stock!.product.sku, Number(get("quantity")), get("note"));
      say("requested");
      return;
    case "z":
      s.z = await api.zReport(get("float"), get("counted"), false);
      return render();
    case "settings": {
      const settings = {
        printer: get("printer").trim(),
        scanner: get("scanner").trim() || "wedge",
        language: get("language") as Lang,
        columns: Number(get("columns")),
      };
      accept(await api.saveSettings(settings));
      say("saved");
      return render();
    }
  }
}

async function onClick(el: HTMLElement) {
  const d = el.dataset;
  if (d.action) {
    if (d.action === "sign-out") return onAction({ kind: "signOut" });
    if (d.action === "test-print") {
      await api.testPrint($<HTMLInputElement>("#set-printer")?.value ?? "");
      return say("testPrinted");
    }
    if (d.action === "sync-now") return onAction({ kind: "sync" });
    if (d.action === "close-till") return closeTill();
    const action = actionFor({ key: d.action }, s.screen);
    if (action) return onAction(action);
  }
  if (d.add) {
    accept(await api.addItem(d.add));
    s.found = [];
    return render();
  }
  if (d.resume) {
    accept(await api.resume(Number(d.resume)));
    s.modal = null;
    return render();
  }
  if (d.reprint) {
    accept(await api.reprint(d.reprint));
    s.modal = null;
    render();
    return say("printed");
  }
  if (d.receive) {
    s.transfers = await api.receiveTransfer(d.receive);
    return render();
  }
  if (d.line !== undefined) {
    s.selected = Number(d.line);
    return render();
  }
  if (d.padKey) {
    const pad = el.closest<HTMLElement>("[data-pad]")?.dataset.pad;
    if (pad === "tender") {
      s.tenderEntry = padPress(s.tenderEntry, d.padKey);
      $("#tender-entry")!.textContent = s.tenderEntry || money(s.view!.payment.cash_balance, s.lang);
    } else {
      const field = document.activeElement instanceof HTMLInputElement ? document.activeElement : $<HTMLInputElement>("#cashier")!;
      field.value = padPress(field.value, d.padKey);
      field.focus();
    }
    return;
  }
  if (d.quick) {
    s.tenderEntry = (Number(d.quick) / 100).toFixed(2);
    return tender("cash");
  }
  if (d.tender) return tender(d.tender as "cash" | "debit" | "credit");
}

document.addEventListener(
  "keydown",
  (event) => {
    const target = event.target as HTMLElement;
    const action = actionFor(event, s.screen);
    if (action && s.view?.cashier) {
      event.preventDefault();
      if (target.id === "scan") scan.clear();
      run(() => onAction(action));
      return;
    }
    if (target.id === "scan") {
      const burst = scan.push(event.key, event.timeStamp);
      if (burst) {
        event.preventDefault();
        (target as HTMLInputElement).value = "";
        run(() => submitScan(burst));
      }
      return;
    }
    if (s.screen === "tender" && s.view?.cashier && target.id !== "approval") {
      if (event.key === "Enter") {
        event.preventDefault();
        run(() => tender("cash"));
      } else if (/^[\d.,]$/.test(event.key) || event.key === "Backspace") {
        event.preventDefault();
        s.tenderEntry = padPress(s.tenderEntry, event.key);
        $("#tender-entry")!.textContent = s.tenderEntry || money(s.view.payment.cash_balance, s.lang);
      }
      return;
    }
    // In a list of choices, Enter takes the first (the newest receipt, the oldest parked sale).
    if ((s.modal?.kind === "parked" || s.modal?.kind === "reprint") && event.key === "Enter") {
      event.preventDefault();
      const first = document.querySelector<HTMLElement>(".modal .choices button");
      if (first) run(() => onClick(first));
    }
  },
  true,
);

document.addEventListener("submit", (event) => {
  event.preventDefault();
  run(() => onSubmit(event.target as HTMLFormElement));
});

document.addEventListener("click", (event) => {
  const el = (event.target as HTMLElement).closest<HTMLElement>(
    "[data-action],[data-add],[data-resume],[data-reprint],[data-receive],[data-line],[data-pad-key],[data-quick],[data-tender]",
  );
  if (el) {
    event.preventDefault();
    run(() => onClick(el));
  }
});

// The scan field takes focus back whenever nothing else on the sale screen needs it.
document.addEventListener("focusout", () => {
  setTimeout(() => {
    const active = document.activeElement;
    if (s.screen === "sale" && !s.modal && s.view?.cashier && (!active || active === document.body)) {
      $<HTMLInputElement>("#scan")?.focus();
    }
  }, 0);
});

async function boot() {
  try {
    accept(await api.view());
  } catch (e) {
    showProblem(e);
    return;
  }
  render();
  requestAnimationFrame(() => {
    document.body.dataset.ready = "true";
    api.uiReady().catch(() => undefined);
  });
  // A serial scanner rings items up without the screen: redraw, and say what went wrong.
  listen<Problem | null>("cart-changed", (event) =>
    run(async () => {
      accept(await api.view());
      render();
      if (event.payload) showProblem(new Refusal(event.payload));
    }),
  ).catch(() => undefined);
  setInterval(async () => {
    if (!s.view) return;
    try {
      s.view.sync = await api.syncStatus();
      renderStatusBar();
    } catch {
      // The next tick tries again.
    }
  }, 1000);
}

boot();
