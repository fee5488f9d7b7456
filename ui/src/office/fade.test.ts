import { Fader } from "./fade";

describe("a confirmation that fades by itself", () => {
  afterEach(() => vi.useRealTimers());

  function fader() {
    const seen: string[] = [];
    const f = new Fader(5000, 600, () => seen.push("fade"), () => seen.push("gone"), () => seen.push("unfade"));
    return { f, seen };
  }

  it("fades, then goes, when nobody is on it", () => {
    vi.useFakeTimers();
    const { f, seen } = fader();
    f.start();
    vi.advanceTimersByTime(4999);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual(["fade"]);
    vi.advanceTimersByTime(600);
    expect(seen).toEqual(["fade", "gone"]);
  });

  it("waits while hovered or focused, and goes on with what was left after", () => {
    vi.useFakeTimers();
    const { f, seen } = fader();
    f.start();
    vi.advanceTimersByTime(3000);
    f.hold("hover");
    f.hold("focus");
    vi.advanceTimersByTime(60_000);
    expect(seen).toEqual(["unfade"]);
    f.release("hover");
    vi.advanceTimersByTime(60_000);
    expect(seen).toEqual(["unfade"]); // the focus is still in it
    f.release("focus");
    vi.advanceTimersByTime(1999);
    expect(seen).toEqual(["unfade"]);
    vi.advanceTimersByTime(1 + 600);
    expect(seen).toEqual(["unfade", "fade", "gone"]);
  });

  it("comes back when reached while fading, and leaves a moment to read after", () => {
    vi.useFakeTimers();
    const { f, seen } = fader();
    f.start();
    vi.advanceTimersByTime(5300);
    f.hold("hover");
    expect(seen).toEqual(["fade", "unfade"]);
    vi.advanceTimersByTime(10_000);
    f.release("hover");
    vi.advanceTimersByTime(1199);
    expect(seen).toEqual(["fade", "unfade"]);
    vi.advanceTimersByTime(1 + 600);
    expect(seen).toEqual(["fade", "unfade", "fade", "gone"]);
  });

  it("does nothing once stopped (an error replaced the confirmation)", () => {
    vi.useFakeTimers();
    const { f, seen } = fader();
    f.start();
    f.stop();
    f.hold("hover");
    f.release("hover");
    vi.advanceTimersByTime(60_000);
    expect(seen).toEqual([]);
  });
});
