// The shared worker every tab of this origin connects to: it holds one event stream per URL
// for all of them, so that twelve open tabs use one of the browser's six HTTP/1.1 connections
// to the server instead of all six (and the seventh tab never loads).

import { Hub, openEventSource, type Subscriber, type ToHub } from "./hub";

const hub = new Hub(openEventSource);

// `self` is typed as a window here: the project's TypeScript includes the DOM library, which
// cannot be mixed with the worker one. A shared worker's global is given its ports this way.
const scope = self as unknown as { onconnect: ((event: MessageEvent) => void) | null };

scope.onconnect = (event) => {
  const port = event.ports[0];
  const page: Subscriber = { post: (message) => port.postMessage(message) };
  port.onmessage = (e: MessageEvent<ToHub>) => hub.receive(page, e.data);
  // A tab that crashed or was closed before saying goodbye (browsers that fire `close` on a
  // port whose other end is gone).
  port.addEventListener("close", () => hub.drop(page));
  port.start();
};
