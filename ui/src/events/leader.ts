// Sharing the stream where there is no shared worker (Chrome on Android): the tabs elect one of
// them with a Web Lock; it holds the stream in its own hub and relays to the others over a
// BroadcastChannel. When it goes (hidden, closed, crashed) its lock is released, the next tab
// waiting for the lock takes over and tells the others, which say hello to it again.

import { Hub, type OpenSource, type Subscriber, type ToHub, type ToPage } from "./hub";
import type { Link } from "./link";

/** What travels on the channel. */
export type Wire =
  /** From a page to whichever tab leads. */
  | { to: "hub"; from: string; message: ToHub }
  /** From the leader to one page. */
  | { to: "page"; page: string; message: ToPage }
  /** A tab took the lead: every page says hello to it. */
  | { to: "all"; leader: string };

/** The parts of `BroadcastChannel` used. */
export interface Channel {
  postMessage(message: Wire): void;
  onmessage: ((event: MessageEvent<Wire>) => void) | null;
  close(): void;
}

/** The part of the Web Locks API used (`navigator.locks`). */
export interface Locks {
  request(name: string, options: { signal: AbortSignal }, granted: () => Promise<void>): Promise<unknown>;
}

export interface Election {
  channel(): Channel;
  locks: Locks;
  open: OpenSource;
  /** This page's name on the channel. */
  id: string;
}

const NAME = "caisse-events";

/** A link to the elected tab's hub (which may be this page's own). */
export function electedLink(onMessage: (message: ToPage) => void, election: Election): Link {
  const { id } = election;
  const channel = election.channel();
  const me: Subscriber = { post: onMessage };
  /** The URLs this page listens to: said again to each new leader. */
  const listening = new Set<string>();
  /** Set while this page leads. */
  let hub: Hub | null = null;
  const followers = new Map<string, Subscriber>();
  let resign = () => {};

  const toHub = (message: ToHub) => {
    if (hub) hub.receive(me, message);
    else channel.postMessage({ to: "hub", from: id, message });
  };
  const helloAgain = () => {
    for (const url of listening) toHub({ kind: "hello", url });
  };

  channel.onmessage = (event) => {
    const wire = event.data;
    if (wire.to === "hub") {
      if (!hub) return;
      let follower = followers.get(wire.from);
      if (!follower) {
        const page = wire.from;
        follower = { post: (message) => channel.postMessage({ to: "page", page, message }) };
        followers.set(page, follower);
      }
      hub.receive(follower, wire.message);
    } else if (wire.to === "page") {
      if (wire.page === id) onMessage(wire.message);
    } else if (wire.leader !== id) {
      helloAgain();
    }
  };

  const abort = new AbortController();
  election.locks
    .request(NAME, { signal: abort.signal }, () => {
      if (abort.signal.aborted) return Promise.resolve();
      hub = new Hub(election.open);
      channel.postMessage({ to: "all", leader: id });
      helloAgain();
      // Held until this page goes.
      return new Promise<void>((resolve) => (resign = resolve));
    })
    .catch(() => {
      /* the request was withdrawn: this page went before being elected */
    });

  return {
    send(message) {
      if (message.kind === "hello") listening.add(message.url);
      else listening.delete(message.url);
      toHub(message);
    },
    close() {
      abort.abort();
      if (hub) {
        // The followers hear the stream drop, then the next leader's hello.
        hub.closeAll();
        hub = null;
        followers.clear();
        resign();
      } else {
        for (const url of listening) channel.postMessage({ to: "hub", from: id, message: { kind: "bye", url } });
      }
      listening.clear();
      channel.onmessage = null;
      channel.close();
    },
  };
}
