// The server's change events: counted in the header's live indicator, and passed on, debounced,
// so the page on show fetches its figures again.

import { openEvents } from "../events";

export interface Live {
  close(): void;
}

/**
 * Calls `fn` once, `ms` after the last of a burst of calls, with every argument of the burst;
 * but never later than `maxMs` after the burst's first call, so a steady stream of events
 * (many registers syncing) still refreshes the page.
 */
export function debounce<T>(fn: (items: T[]) => void, ms: number, maxMs = Infinity): (item: T) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let items: T[] = [];
  let first = 0;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = items;
    items = [];
    fn(batch);
  };
  return (item: T) => {
    if (items.length === 0) first = Date.now();
    items.push(item);
    clearTimeout(timer);
    const wait = Math.min(ms, Math.max(0, first + maxMs - Date.now()));
    timer = setTimeout(flush, wait);
  };
}

/** The topic a `change` event names, or "" when its data is not what the server sends. */
export function topicOf(data: string): string {
  try {
    const parsed = JSON.parse(data) as { topic?: unknown };
    return typeof parsed.topic === "string" ? parsed.topic : "";
  } catch {
    return "";
  }
}

export interface LiveHandlers {
  /** The stream opened (true) or dropped (false; the browser reconnects by itself). */
  connected(on: boolean): void;
  /** One `change` event arrived, right away. */
  counted(): void;
  /** A burst of `change` events ended; their topics. */
  changed(topics: string[]): void;
}

export function connectLive(handlers: LiveHandlers): Live {
  const changed = debounce<string>(handlers.changed, 300, 2000);
  // One stream for every tab of head office (and the shop) in this browser: see ui/src/events.
  return openEvents("/api/events", {
    connected: handlers.connected,
    change(data) {
      handlers.counted();
      changed(topicOf(data));
    },
  });
}
