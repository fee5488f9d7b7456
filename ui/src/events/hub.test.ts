import { Hub, type OpenSource, type SourceEvents, type Subscriber, type ToPage } from "./hub";

/** Event sources that the test opens, fails and feeds by hand. */
function fakeSources() {
  const opened: { url: string; on: SourceEvents; closed: boolean }[] = [];
  const open: OpenSource = (url, on) => {
    const source = { url, on, closed: false };
    opened.push(source);
    return { close: () => (source.closed = true) };
  };
  return { opened, open, live: () => opened.filter((s) => !s.closed) };
}

function page(): Subscriber & { seen: ToPage[] } {
  const seen: ToPage[] = [];
  return { seen, post: (m) => seen.push(m) };
}

const URL_ = "/api/events";

describe("the event hub", () => {
  it("opens one stream for twelve pages and relays each event to all of them", () => {
    const sources = fakeSources();
    const hub = new Hub(sources.open);
    const pages = Array.from({ length: 12 }, page);
    for (const p of pages) hub.receive(p, { kind: "hello", url: URL_ });
    expect(sources.opened.length).toBe(1);
    expect(hub.openStreams).toBe(1);
    sources.opened[0].on.open();
    sources.opened[0].on.change('{"topic":"sales"}');
    for (const p of pages) {
      expect(p.seen).toEqual([
        { kind: "state", url: URL_, connected: false },
        { kind: "state", url: URL_, connected: true },
        { kind: "change", url: URL_, data: '{"topic":"sales"}' },
      ]);
    }
  });

  it("tells a page that arrives late that the stream is already open", () => {
    const sources = fakeSources();
    const hub = new Hub(sources.open);
    hub.receive(page(), { kind: "hello", url: URL_ });
    sources.opened[0].on.open();
    const late = page();
    hub.receive(late, { kind: "hello", url: URL_ });
    expect(late.seen).toEqual([{ kind: "state", url: URL_, connected: true }]);
    expect(sources.opened.length).toBe(1);
  });

  it("closes the stream when the last page leaves, and opens a new one for the next", () => {
    const sources = fakeSources();
    const hub = new Hub(sources.open);
    const [a, b] = [page(), page()];
    hub.receive(a, { kind: "hello", url: URL_ });
    hub.receive(b, { kind: "hello", url: URL_ });
    hub.receive(a, { kind: "bye", url: URL_ });
    expect(sources.live().length).toBe(1);
    hub.drop(b);
    expect(sources.live().length).toBe(0);
    expect(hub.openStreams).toBe(0);
    // A page that left hears nothing more from a stream it no longer holds.
    sources.opened[0].on.change('{"topic":"sales"}');
    expect(a.seen.some((m) => m.kind === "change")).toBe(false);
    hub.receive(a, { kind: "hello", url: URL_ });
    expect(sources.live().length).toBe(1);
  });

  it("keeps a dropped stream (the browser reconnects) but opens again one it gave up on", () => {
    const sources = fakeSources();
    const hub = new Hub(sources.open);
    const a = page();
    hub.receive(a, { kind: "hello", url: URL_ });
    sources.opened[0].on.open();
    sources.opened[0].on.error(false);
    hub.receive(page(), { kind: "hello", url: URL_ });
    expect(sources.opened.length).toBe(1);
    expect(a.seen.at(-1)).toEqual({ kind: "state", url: URL_, connected: false });
    // A 401 on reconnecting: the browser stops; the next page to say hello starts again.
    sources.opened[0].on.error(true);
    expect(sources.live().length).toBe(0);
    hub.receive(page(), { kind: "hello", url: URL_ });
    expect(sources.live().length).toBe(1);
    sources.opened[1].on.open();
    expect(a.seen.at(-1)).toEqual({ kind: "state", url: URL_, connected: true });
  });

  it("keeps one stream per URL", () => {
    const sources = fakeSources();
    const hub = new Hub(sources.open);
    const [office, shop] = [page(), page()];
    hub.receive(office, { kind: "hello", url: "/api/events" });
    hub.receive(shop, { kind: "hello", url: "/api/shop/events" });
    expect(sources.opened.map((s) => s.url)).toEqual(["/api/events", "/api/shop/events"]);
    sources.opened[1].on.change("x");
    expect(office.seen.some((m) => m.kind === "change")).toBe(false);
    expect(shop.seen.at(-1)).toEqual({ kind: "change", url: "/api/shop/events", data: "x" });
  });

  it("tells every page when the tab holding the streams goes", () => {
    const sources = fakeSources();
    const hub = new Hub(sources.open);
    const a = page();
    hub.receive(a, { kind: "hello", url: URL_ });
    sources.opened[0].on.open();
    hub.closeAll();
    expect(sources.live().length).toBe(0);
    expect(a.seen.at(-1)).toEqual({ kind: "state", url: URL_, connected: false });
  });
});
