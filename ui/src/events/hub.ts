// One server-sent event stream per URL, shared by every page that listens to it. The hub runs
// where the stream is held: in the shared worker (worker.ts), in the tab elected to hold it
// (leader.ts), or in the page itself when the browser has neither. It knows nothing of how
// its subscribers are reached, so it is tested without a browser.

/** What a page tells the hub. */
export type ToHub =
  /** Start (or keep) listening to `url`. The stream sends the cookie of whoever opened it;
   * every role hears the same announcements (topics, never data), and a stream refused on
   * reconnecting (the session ended) is opened again by the next hello. */
  | { kind: "hello"; url: string }
  /** Stop listening (the page is hidden, closed, or signed out). */
  | { kind: "bye"; url: string };

/** What the hub tells a page. */
export type ToPage =
  | { kind: "state"; url: string; connected: boolean }
  /** One `change` event, its data as the server sent it. */
  | { kind: "change"; url: string; data: string };

export interface Subscriber {
  post(message: ToPage): void;
}

/** What the hub needs of an `EventSource`. */
export interface Source {
  close(): void;
}

export interface SourceEvents {
  open(): void;
  /** The stream dropped; `gaveUp` when the browser will not reconnect by itself (an HTTP
   * error such as a 401: the session ended). */
  error(gaveUp: boolean): void;
  change(data: string): void;
}

export type OpenSource = (url: string, on: SourceEvents) => Source;

/** The browser's `EventSource`, with cookies, listening to `change` events. */
export const openEventSource: OpenSource = (url, on) => {
  const source = new EventSource(url, { withCredentials: true });
  source.onopen = () => on.open();
  source.onerror = () => on.error(source.readyState === EventSource.CLOSED);
  source.addEventListener("change", (e) => on.change((e as MessageEvent<string>).data));
  return source;
};

interface Stream {
  source: Source | null;
  /** Counts the sources opened for this URL. */
  generation: number;
  connected: boolean;
  subscribers: Set<Subscriber>;
}

export class Hub {
  private readonly streams = new Map<string, Stream>();

  constructor(private readonly open: OpenSource) {}

  receive(from: Subscriber, message: ToHub): void {
    if (message.kind === "hello") this.hello(from, message.url);
    else this.bye(from, message.url);
  }

  /** Forgets a subscriber that went away without a word (its port closed). */
  drop(from: Subscriber): void {
    for (const url of [...this.streams.keys()]) this.bye(from, url);
  }

  /** Closes every stream (the tab holding them is going away); subscribers are told. */
  closeAll(): void {
    for (const [url, stream] of this.streams) {
      stream.generation += 1;
      stream.source?.close();
      for (const s of stream.subscribers) s.post({ kind: "state", url, connected: false });
    }
    this.streams.clear();
  }

  /** How many streams are open: one per URL, however many pages listen. */
  get openStreams(): number {
    return [...this.streams.values()].filter((s) => s.source !== null).length;
  }

  private hello(from: Subscriber, url: string) {
    let stream = this.streams.get(url);
    if (!stream) {
      stream = { source: null, generation: 0, connected: false, subscribers: new Set() };
      this.streams.set(url, stream);
    }
    stream.subscribers.add(from);
    if (!stream.source) stream.source = this.start(url, stream);
    from.post({ kind: "state", url, connected: stream.connected });
  }

  private bye(from: Subscriber, url: string) {
    const stream = this.streams.get(url);
    if (!stream || !stream.subscribers.delete(from)) return;
    if (stream.subscribers.size === 0) {
      // Nobody listens: the connection goes back to the browser's pool.
      stream.generation += 1;
      stream.source?.close();
      this.streams.delete(url);
    }
  }

  private start(url: string, stream: Stream): Source {
    // Events of a source since replaced (or closed) are not passed on.
    const generation = ++stream.generation;
    const current = () => stream.generation === generation;
    return this.open(url, {
      open: () => {
        if (current()) this.setConnected(url, stream, true);
      },
      error: (gaveUp) => {
        if (!current()) return;
        // A stream the browser gave up on is opened again by the next page that says hello.
        if (gaveUp) {
          stream.source?.close();
          stream.source = null;
          stream.generation += 1;
        }
        this.setConnected(url, stream, false);
      },
      change: (data) => {
        if (!current()) return;
        for (const s of stream.subscribers) s.post({ kind: "change", url, data });
      },
    });
  }

  private setConnected(url: string, stream: Stream, connected: boolean) {
    if (stream.connected === connected) return;
    stream.connected = connected;
    for (const s of stream.subscribers) s.post({ kind: "state", url, connected });
  }
}
