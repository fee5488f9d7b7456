// Calls to the sync server: same origin, cookie authentication, CSRF header on every write,
// RFC 9457 problems turned into `Problem` errors.

export interface ProblemBody {
  title?: string;
  detail?: string;
  status?: number;
  field?: string;
  /** An import's refused rows. */
  errors?: { line: number; column: string; reason: string }[];
  error_count?: number;
}

/** A refusal from the server (or no answer at all: status 0). */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly body: ProblemBody,
  ) {
    super(body.detail || body.title || `HTTP ${status}`);
  }
  get field(): string | undefined {
    return this.body.field;
  }
}

let csrf = "";
let onUnauthorized: () => void = () => {};

export function setCsrf(token: string) {
  csrf = token;
}

/** What to do when any call answers 401: the pages show the sign-in form. */
export function whenUnauthorized(handler: () => void) {
  onUnauthorized = handler;
}

/** A body sent as it is (a file to import), with its type. */
interface Raw {
  body: Blob;
  type: string;
}

async function call<T>(method: string, url: string, body?: unknown, quiet401 = false, raw?: Raw): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET") {
    headers["X-CSRF-Token"] = csrf;
    headers["Content-Type"] = raw ? raw.type : "application/json";
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: raw ? raw.body : body === undefined ? (method === "GET" ? undefined : "{}") : JSON.stringify(body),
    });
  } catch (e) {
    throw new Problem(0, { title: "network", detail: String(e) });
  }
  if (!response.ok) {
    let problem: ProblemBody = {};
    try {
      problem = (await response.json()) as ProblemBody;
    } catch {
      problem = { title: response.statusText };
    }
    const refusal = new Problem(response.status, problem);
    if (response.status === 401 && !quiet401) onUnauthorized();
    throw refusal;
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

export const api = {
  get: <T>(url: string) => call<T>("GET", url),
  post: <T>(url: string, body?: unknown) => call<T>("POST", url, body),
  put: <T>(url: string, body?: unknown) => call<T>("PUT", url, body),
  /** Posts a file as it is (a CSV to import). */
  upload: <T>(url: string, file: Blob, type: string) => call<T>("POST", url, undefined, false, { body: file, type }),
  /** The start-up check and the sign-in itself: a 401 there is an answer, not an expiry. */
  quiet: <T>(method: string, url: string, body?: unknown) => call<T>(method, url, body, true),
};

/** Builds a query string, leaving out empty values. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v != null) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const enc = encodeURIComponent;
