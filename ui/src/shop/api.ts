// Calls to the shop's API (`/api/shop/…`): RFC 9457 problems become `Problem` errors, and the
// shopper's session is carried as a bearer token.
//
// The access token (15 minutes) lives in this module's memory only, so no other script on the
// page can find it in storage. The refresh token is kept in this tab's sessionStorage, so a
// reload keeps the shopper signed in; it is used once and replaced (the server ends a session
// whose refresh token comes back twice), and only one refresh runs at a time.

import { Problem, type ProblemBody } from "../office/api";
import type { Tokens } from "./types";

export { Problem, query } from "../office/api";

const REFRESH_KEY = "caisse-shop-refresh";
/** The title of the refusal a call gets once the session is gone (the page then shows the
 * sign-in form instead of an error). A wrong password is another 401, said as an error. */
export const SIGNED_OUT = "signed out";

let access: string | null = null;
let accessExpiresAt = 0;
let refreshing: Promise<boolean> | null = null;
let onSignedOut: () => void = () => {};

function storedRefresh(): string | null {
  try {
    return sessionStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

function storeRefresh(token: string | null) {
  try {
    if (token) sessionStorage.setItem(REFRESH_KEY, token);
    else sessionStorage.removeItem(REFRESH_KEY);
  } catch {
    /* storage refused (private mode): the session lasts as long as the page */
  }
}

/** Keeps a new pair of tokens (from signing in or refreshing). */
export function keep(tokens: Tokens) {
  access = tokens.access_token;
  // A minute early, so a request never leaves with a token about to lapse.
  accessExpiresAt = Date.now() + Math.max(0, tokens.expires_in - 60) * 1000;
  storeRefresh(tokens.refresh_token);
}

/** Forgets the session (signed out, or ended by the server). */
export function forget() {
  access = null;
  accessExpiresAt = 0;
  storeRefresh(null);
}

/** Whether a session may exist (an access token, or a refresh token to get one). */
export function hasSession(): boolean {
  return access !== null || storedRefresh() !== null;
}

/** What to do when the session is gone for good (the page shows the sign-in form). */
export function whenSignedOut(handler: () => void) {
  onSignedOut = handler;
}

async function send(method: string, url: string, body: unknown, headers: Record<string, string>): Promise<Response> {
  const all: Record<string, string> = { Accept: "application/json", ...headers };
  if (body !== undefined) all["Content-Type"] = "application/json";
  try {
    return await fetch(url, { method, headers: all, credentials: "omit", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new Problem(0, { title: "network", detail: String(e) });
  }
}

async function answer<T>(response: Response): Promise<T> {
  if (!response.ok) {
    let problem: ProblemBody = {};
    try {
      problem = (await response.json()) as ProblemBody;
    } catch {
      problem = { title: response.statusText };
    }
    throw new Problem(response.status, problem);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

/** Trades the refresh token for a new pair; false when there is none or the server refuses it. */
export function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    const token = storedRefresh();
    if (!token) return false;
    try {
      const response = await send("POST", "/api/shop/sessions/refresh", { refresh_token: token }, {});
      if (response.status === 401 || response.status === 422) {
        forget();
        return false;
      }
      keep(await answer<Tokens>(response));
      return true;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function bearer(): Promise<string | null> {
  if (access && Date.now() < accessExpiresAt) return access;
  if (await refresh()) return access;
  return null;
}

/** A call as the signed-in shopper: refreshed once on a 401, then the sign-in form. */
async function authed<T>(method: string, url: string, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = await bearer();
    if (!token) break;
    const response = await send(method, url, body, { ...extra, Authorization: `Bearer ${token}` });
    if (response.status === 401) {
      access = null;
      continue;
    }
    return answer<T>(response);
  }
  forget();
  onSignedOut();
  throw new Problem(401, { title: SIGNED_OUT, detail: "sign in first" });
}

export const api = {
  /** Calls that need no session (the catalogue, signing up and in). */
  open: async <T>(method: string, url: string, body?: unknown) => answer<T>(await send(method, url, body, {})),
  get: <T>(url: string) => authed<T>("GET", url),
  post: <T>(url: string, body?: unknown, headers?: Record<string, string>) => authed<T>("POST", url, body ?? {}, headers),
  put: <T>(url: string, body?: unknown) => authed<T>("PUT", url, body ?? {}),
  del: <T>(url: string) => authed<T>("DELETE", url),
};

export const enc = encodeURIComponent;
