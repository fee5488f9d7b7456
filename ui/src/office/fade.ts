// A confirmation that fades by itself, but not while the reader is on it: the wait pauses while
// the banner is hovered or holds the focus, and goes on when they leave (WCAG 2.2.1).

/** Runs `fade` after `ms` of time not held, then `gone` after `fadeMs` more. */
export class Fader {
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Time still to wait before fading, while not running. */
  private left = 0;
  private since = 0;
  private armed = false;
  private holds = new Set<string>();

  constructor(
    private readonly ms: number,
    private readonly fadeMs: number,
    private readonly fade: () => void,
    private readonly gone: () => void,
    private readonly unfade: () => void,
  ) {}

  /** Starts the wait again from the beginning (a new confirmation). */
  start() {
    this.stop();
    this.armed = true;
    this.left = this.ms;
    if (this.holds.size === 0) this.run();
  }

  /** No fading: the banner was cleared or shows an error. */
  stop() {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armed = false;
  }

  /** The pointer is on the banner ("hover") or the focus is in it ("focus"). */
  hold(why: string) {
    this.holds.add(why);
    if (!this.armed || this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    // Fully visible again if the fade had begun; what was left of the wait is kept.
    this.left = Math.max(0, this.left - (Date.now() - this.since));
    this.unfade();
  }

  release(why: string) {
    this.holds.delete(why);
    if (!this.armed || this.holds.size > 0 || this.timer !== undefined) return;
    // A moment to read on after leaving, even if the wait had run out.
    this.left = Math.max(this.left, this.fadeMs * 2);
    this.run();
  }

  private run() {
    this.since = Date.now();
    this.timer = setTimeout(() => {
      this.fade();
      this.left = 0;
      this.since = Date.now();
      this.timer = setTimeout(() => {
        this.stop();
        this.gone();
      }, this.fadeMs);
    }, this.left);
  }
}
