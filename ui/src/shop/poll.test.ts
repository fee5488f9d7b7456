import { FIRST_MS, follow, MAX_MS, nextDelay } from "./poll";

describe("following an order without an event stream", () => {
  afterEach(() => vi.useRealTimers());

  it("waits longer each time nothing changed, up to a ceiling", () => {
    let delay = FIRST_MS;
    const seen = [delay];
    for (let i = 0; i < 12; i++) seen.push((delay = nextDelay(delay)));
    expect(seen.slice(0, 3)).toEqual([2000, 3000, 4500]);
    expect(Math.max(...seen)).toBe(MAX_MS);
  });

  it("asks again sooner after a change, and stops once final", async () => {
    vi.useFakeTimers();
    const statuses = ["paid", "paid", "picked", "delivered"];
    const asked: number[] = [];
    let last = "paid";
    follow(
      async () => {
        asked.push(Date.now());
        return statuses.shift() ?? "delivered";
      },
      (s) => {
        const changed = s !== last;
        last = s;
        return { changed, final: s === "delivered" };
      },
    );
    const start = Date.now();
    await vi.advanceTimersByTimeAsync(60000);
    expect(asked.map((t) => t - start)).toEqual([2000, 5000, 9500, 11500]);
  });
});
