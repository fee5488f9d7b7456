// Following something that changes on the server (an order's status, a claim's state) without
// an event stream for shoppers: asks again after 2 s, then waits half as long again each time
// nothing changed, up to 30 s; back to 2 s after a change, at once when the tab is shown
// again, and not at all while the tab is hidden or once the thing is final.

export interface Follow {
  stop(): void;
  /** Asks now (after an action of the page's own). */
  now(): void;
}

export const FIRST_MS = 2000;
export const MAX_MS = 30000;

/** The wait after `previous` when nothing changed. */
export function nextDelay(previous: number): number {
  return Math.min(MAX_MS, Math.round(previous * 1.5));
}

/**
 * Calls `fetch` repeatedly; `seen` gets each answer and says whether it differs from the last
 * one shown and whether it is final (then the following stops).
 */
export function follow<T>(fetch: () => Promise<T>, seen: (value: T) => { changed: boolean; final: boolean }): Follow {
  let delay = FIRST_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let running = false;

  const schedule = () => {
    clearTimeout(timer);
    if (stopped || document.hidden) return;
    timer = setTimeout(tick, delay);
  };
  const tick = async () => {
    if (stopped || running) return;
    running = true;
    try {
      const { changed, final } = seen(await fetch());
      if (final) {
        stop();
        return;
      }
      delay = changed ? FIRST_MS : nextDelay(delay);
    } catch {
      delay = nextDelay(delay);
    } finally {
      running = false;
    }
    schedule();
  };
  const visible = () => {
    if (!document.hidden) {
      delay = FIRST_MS;
      void tick();
    } else clearTimeout(timer);
  };
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", visible);
  };
  document.addEventListener("visibilitychange", visible);
  schedule();
  return {
    stop,
    now() {
      delay = FIRST_MS;
      void tick();
    },
  };
}
