// A page's server-sent event stream, shared by every tab of the browser. A browser opens at
// most six HTTP/1.1 connections to a server, and an `EventSource` holds one for as long as its
// page lives, back/forward cache included: with one stream per tab, six open tabs of head
// office took every connection and the seventh never loaded. Here one stream serves all tabs:
// a shared worker holds it (worker.ts), or where there is none, a tab elected with a Web Lock
// (leader.ts); a page that is hidden lets go of it and asks again when shown.

import { Hub, openEventSource, type ToPage } from "./hub";
import { electedLink } from "./leader";
import type { Link } from "./link";

export interface EventHandlers {
  /** The stream opened (true) or dropped (false; it reconnects by itself). */
  connected(on: boolean): void;
  /** One `change` event, its data as the server sent it. */
  change(data: string): void;
}

export interface Events {
  close(): void;
}

type MakeLink = (onMessage: (message: ToPage) => void, failed: () => void) => Link;

/** Through the shared worker; `failed` if the browser could not start it. */
const workerLink: MakeLink = (onMessage, failed) => {
  // Vite bundles the worker as its own file of this origin, as the pages' CSP requires.
  const worker = new SharedWorker(new URL("./worker.ts", import.meta.url), { type: "module", name: "caisse-events" });
  worker.onerror = () => failed();
  worker.port.onmessage = (e: MessageEvent<ToPage>) => onMessage(e.data);
  return {
    send: (message) => worker.port.postMessage(message),
    close: () => {
      worker.port.onmessage = null;
      worker.port.close();
    },
  };
};

/** Through the tab that holds the stream for the others. */
const leaderLink: MakeLink = (onMessage) =>
  electedLink(onMessage, {
    channel: () => new BroadcastChannel("caisse-events"),
    locks: navigator.locks,
    open: openEventSource,
    id: crypto.randomUUID(),
  });

/** The page's own stream: a browser with neither shared workers nor Web Locks. */
const ownLink: MakeLink = (onMessage) => {
  const hub = new Hub(openEventSource);
  const me = { post: onMessage };
  return { send: (message) => hub.receive(me, message), close: () => hub.closeAll() };
};

function withoutWorker(): MakeLink {
  const elect = typeof navigator.locks?.request === "function" && typeof BroadcastChannel === "function";
  return elect ? leaderLink : ownLink;
}

function bestLink(): MakeLink {
  return typeof SharedWorker === "function" ? workerLink : withoutWorker();
}

/** Listens to the server's events at `url` (same origin, with the session's cookie). */
export function openEvents(url: string, handlers: EventHandlers): Events {
  let link: Link | null = null;
  let closed = false;
  const onMessage = (message: ToPage) => {
    if (message.url !== url) return;
    if (message.kind === "state") handlers.connected(message.connected);
    else handlers.change(message.data);
  };
  const start = (make: MakeLink) => {
    const made: Link = make(onMessage, () => {
      // The worker would not start: share the stream the other way.
      if (link !== made) return;
      stop();
      start(withoutWorker());
    });
    link = made;
    link.send({ kind: "hello", url });
  };
  const stop = () => {
    if (!link) return;
    link.send({ kind: "bye", url });
    link.close();
    link = null;
    handlers.connected(false);
  };
  // A page going into the back/forward cache keeps its connections unless told: let go, and
  // listen again if the page is shown from the cache.
  const onHide = () => stop();
  const onShow = (e: PageTransitionEvent) => {
    if (e.persisted && !link && !closed) start(bestLink());
  };
  window.addEventListener("pagehide", onHide);
  window.addEventListener("pageshow", onShow);
  start(bestLink());
  return {
    close() {
      closed = true;
      window.removeEventListener("pagehide", onHide);
      window.removeEventListener("pageshow", onShow);
      stop();
    },
  };
}
