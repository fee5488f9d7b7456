import { debounce, topicOf } from "./live";

describe("live updates", () => {
  it("reads the topic of a change event", () => {
    expect(topicOf('{"topic":"sales"}')).toBe("sales");
    expect(topicOf("not json")).toBe("");
    expect(topicOf('{"topic":3}')).toBe("");
  });
  it("runs once after a burst", () => {
    vi.useFakeTimers();
    const seen: string[][] = [];
    const fire = debounce<string>((items) => seen.push(items), 300);
    fire("sales");
    vi.advanceTimersByTime(200);
    fire("stock");
    vi.advanceTimersByTime(299);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([["sales", "stock"]]);
    fire("alerts");
    vi.advanceTimersByTime(300);
    expect(seen).toEqual([["sales", "stock"], ["alerts"]]);
    vi.useRealTimers();
  });
  it("still runs during a steady stream of events", () => {
    vi.useFakeTimers();
    const seen: number[] = [];
    const fire = debounce<string>((items) => seen.push(items.length), 300, 2000);
    for (let i = 0; i < 30; i++) {
      fire("registers");
      vi.advanceTimersByTime(100);
    }
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen[0]).toBe(20);
    vi.useRealTimers();
  });
});
