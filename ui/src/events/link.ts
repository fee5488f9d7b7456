// How a page reaches the hub that holds its stream.

import type { ToHub } from "./hub";

export interface Link {
  send(message: ToHub): void;
  /** Goes away (after a `bye`); nothing more is received. */
  close(): void;
}
