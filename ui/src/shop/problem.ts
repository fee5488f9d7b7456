// How a refusal reads and which control it marks on the storefront's pages.

import { markField } from "../office/dom";
import { Problem } from "./api";

/** The sentence for an error: the problem's detail, else the error's own message (not "Error: …"). */
export function sentence(e: unknown, networkError: string): string {
  if (e instanceof Problem) {
    if (e.status === 0) return networkError;
    return e.body.detail || e.body.title || `HTTP ${e.status}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Marks the control a problem names inside `scope`. A claim's `lines[k]…` names the k-th line
 * sent, which the claim form tags with `data-sent="k"`; a bare `lines` names the first line. */
export function markProblemField(scope: ParentNode, field: string | undefined): HTMLElement | null {
  const el = markField(scope, field);
  if (el || !field) return el;
  const at = /^lines(?:\[(\d+)\])?(?:$|\.)/.exec(field);
  if (!at) return null;
  const line = scope.querySelector<HTMLElement>(at[1] === undefined ? "input[data-line]" : `input[data-line][data-sent="${at[1]}"]`);
  if (!line) return null;
  line.classList.add("invalid");
  line.setAttribute("aria-invalid", "true");
  return line;
}
