import type { OpenSource, SourceEvents, ToPage } from "./hub";
import { electedLink, type Channel, type Locks, type Wire } from "./leader";

/** BroadcastChannels of one origin: a message reaches every other open channel, later. */
function channels() {
  const open = new Set<Channel>();
  return () => {
    const channel: Channel = {
      onmessage: null,
      postMessage(message: Wire) {
        const copy = structuredClone(message);
        for (const other of open) {
          if (other !== channel) setTimeout(() => other.onmessage?.(new MessageEvent("message", { data: copy })));
        }
      },
      close: () => open.delete(channel),
    };
    open.add(channel);
    return channel;
  };
}

/** One exclusive lock, granted in the order asked, as navigator.locks does. */
function locks(): Locks {
  const waiting: { granted: () => Promise<void>; signal: AbortSignal; settle: (v: unknown) => void; fail: (e: unknown) => void }[] = [];
  let held = false;
  const next = () => {
    if (held) return;
    const turn = waiting.shift();
    if (!turn) return;
    held = true;
    void turn.granted().then((v) => {
      held = false;
      turn.settle(v);
      next();
    });
  };
  return {
    request(_name, { signal }, granted) {
      return new Promise((settle, fail) => {
        const turn = { granted, signal, settle, fail };
        waiting.push(turn);
        signal.addEventListener("abort", () => {
          const at = waiting.indexOf(turn);
          if (at >= 0) {
            waiting.splice(at, 1);
            fail(new DOMException("aborted", "AbortError"));
          }
        });
        next();
      });
    },
  };
}

function sources() {
  const opened: { on: SourceEvents; closed: boolean }[] = [];
  const open: OpenSource = (_url, on) => {
    const source = { on, closed: false };
    opened.push(source);
    return { close: () => (source.closed = true) };
  };
  return { open, opened, live: () => opened.filter((s) => !s.closed) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("the elected tab's stream", () => {
  it("is held by one tab, relayed to the others, and taken over when that tab goes", async () => {
    const [channel, lock, source] = [channels(), locks(), sources()];
    const tabs = ["a", "b", "c"].map((id) => {
      const seen: ToPage[] = [];
      const link = electedLink((m) => seen.push(m), { channel, locks: lock, open: source.open, id });
      link.send({ kind: "hello", url: "/api/events" });
      return { id, seen, link };
    });
    await settle();
    expect(source.opened.length).toBe(1);
    source.opened[0].on.open();
    source.opened[0].on.change('{"topic":"sales"}');
    await settle();
    for (const tab of tabs) {
      expect(tab.seen).toContainEqual({ kind: "state", url: "/api/events", connected: true });
      expect(tab.seen.at(-1)).toEqual({ kind: "change", url: "/api/events", data: '{"topic":"sales"}' });
    }

    // The leader's tab is hidden: its stream closes, the next tab takes the lead with a new one.
    tabs[0].link.send({ kind: "bye", url: "/api/events" });
    tabs[0].link.close();
    await settle();
    expect(source.opened[0].closed).toBe(true);
    expect(source.live().length).toBe(1);
    expect(tabs[2].seen).toContainEqual({ kind: "state", url: "/api/events", connected: false });
    source.live()[0].on.open();
    source.live()[0].on.change('{"topic":"stock"}');
    await settle();
    for (const tab of tabs.slice(1)) {
      expect(tab.seen.at(-1)).toEqual({ kind: "change", url: "/api/events", data: '{"topic":"stock"}' });
    }
    expect(tabs[0].seen.some((m) => m.kind === "change" && m.data.includes("stock"))).toBe(false);

    // A follower leaving changes nothing for the others; the last one closes the stream.
    tabs[2].link.send({ kind: "bye", url: "/api/events" });
    tabs[2].link.close();
    await settle();
    expect(source.live().length).toBe(1);
    tabs[1].link.send({ kind: "bye", url: "/api/events" });
    tabs[1].link.close();
    await settle();
    expect(source.live().length).toBe(0);
    expect(source.opened.length).toBe(2);
  });

  it("withdraws a tab that goes before it is elected", async () => {
    const [channel, lock, source] = [channels(), locks(), sources()];
    const first = electedLink(() => {}, { channel, locks: lock, open: source.open, id: "a" });
    first.send({ kind: "hello", url: "/api/events" });
    const second = electedLink(() => {}, { channel, locks: lock, open: source.open, id: "b" });
    second.send({ kind: "hello", url: "/api/events" });
    await settle();
    second.send({ kind: "bye", url: "/api/events" });
    second.close();
    first.send({ kind: "bye", url: "/api/events" });
    first.close();
    await settle();
    // The second tab never led: only the first one's stream was opened, and it is closed.
    expect(source.opened.length).toBe(1);
    expect(source.live().length).toBe(0);
  });
});
