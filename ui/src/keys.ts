// Keyboard first: every action has a function key, Enter confirms, Esc cancels. The scan field
// forwards each key with its time so the library's wedge decoder can tell a scanner's burst
// from a person typing; this file only collects the keys, it decides nothing about them.

export type Screen = "sale" | "tender" | "return" | "stock" | "z" | "settings";

export type Action =
  | { kind: "screen"; screen: Screen }
  | { kind: "search" }
  | { kind: "quantity" }
  | { kind: "discount" }
  | { kind: "remove" }
  | { kind: "park" }
  | { kind: "reprint" }
  | { kind: "void" }
  | { kind: "signOut" }
  | { kind: "up" }
  | { kind: "down" }
  | { kind: "cancel" }
  | { kind: "debit" }
  | { kind: "credit" }
  | { kind: "sync" };

/** The function keys, the same on every screen, so a cashier's fingers learn them once. */
export const FUNCTION_KEYS: Record<string, Action> = {
  F1: { kind: "screen", screen: "sale" },
  F2: { kind: "search" },
  F3: { kind: "quantity" },
  F4: { kind: "discount" },
  F5: { kind: "remove" },
  F6: { kind: "park" },
  F7: { kind: "reprint" },
  F8: { kind: "screen", screen: "return" },
  F9: { kind: "screen", screen: "stock" },
  F10: { kind: "screen", screen: "tender" },
  F11: { kind: "screen", screen: "z" },
  F12: { kind: "screen", screen: "settings" },
};

/** On the tender screen F2 and F3 pay by debit and credit instead of search and quantity. */
const TENDER_KEYS: Record<string, Action> = {
  F2: { kind: "debit" },
  F3: { kind: "credit" },
};

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  altKey?: boolean;
  metaKey?: boolean;
}

/** What a key does on a screen, or null when it is just typing. */
export function actionFor(event: KeyLike, screen: Screen): Action | null {
  if (event.key === "Escape") return { kind: "cancel" };
  if (event.ctrlKey && event.key.toLowerCase() === "q") return { kind: "signOut" };
  if (event.ctrlKey && event.key.toLowerCase() === "s") return { kind: "sync" };
  if (event.ctrlKey && event.key === "Delete") return { kind: "void" };
  if (screen === "tender" && TENDER_KEYS[event.key]) return TENDER_KEYS[event.key];
  if (FUNCTION_KEYS[event.key]) return FUNCTION_KEYS[event.key];
  if (screen === "sale") {
    if (event.key === "ArrowUp") return { kind: "up" };
    if (event.key === "ArrowDown") return { kind: "down" };
    if (event.key === "Delete") return { kind: "remove" };
  }
  return null;
}

export interface TimedKey {
  key: string;
  at_ms: number;
}

/**
 * The keys typed into the scan field since the last Enter, with their times. Enter hands the
 * whole burst over; Backspace takes the last key back, as it does in the field.
 */
export class ScanBuffer {
  private keys: TimedKey[] = [];

  /** Returns the burst when the key is Enter, else null. */
  push(key: string, atMs: number): TimedKey[] | null {
    if (key === "Enter") {
      const burst = [...this.keys, { key: "Enter", at_ms: atMs }];
      this.keys = [];
      return burst;
    }
    if (key === "Backspace") {
      this.keys.pop();
      return null;
    }
    // Only keys that type a character: Shift, arrows and the like type nothing.
    if ([...key].length === 1) this.keys.push({ key, at_ms: atMs });
    return null;
  }

  /** Puts back text a person typed (it stays in the field), spaced as typing is. */
  restore(text: string, atMs: number): void {
    this.keys = [...text].map((key, i) => ({ key, at_ms: atMs - 1000 * (text.length - i) }));
  }

  clear(): void {
    this.keys = [];
  }

  get text(): string {
    return this.keys.map((k) => k.key).join("");
  }
}

/** The digits pad of the sign-in and tender screens: what a press makes of the entry. */
export function padPress(entry: string, key: string, maxLength = 12): string {
  if (key === "Backspace" || key === "⌫") return entry.slice(0, -1);
  if (key === "C") return "";
  if (entry.length >= maxLength) return entry;
  if (/^\d$/.test(key)) return entry + key;
  if ((key === "." || key === ",") && !entry.includes(".")) return `${entry}.`;
  return entry;
}
