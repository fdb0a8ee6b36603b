// The JavaScript fallback's Web Worker: counts one run of the stream per message, off the page's main thread.
//
// Message in: {id, seed, first, count} (decimal strings). Message out: {id, hits} (a decimal
// string) or {id, error} (a message). The page sends runs of a fraction of a second each and
// stops a run by terminating the worker.

import { countHits } from "./stream.js";

self.onmessage = (event) => {
  const { id, seed, first, count } = event.data;
  try {
    const hits = countHits(BigInt(seed), BigInt(first), BigInt(count));
    self.postMessage({ id, hits: hits.toString() });
  } catch (e) {
    self.postMessage({ id, error: String(e.message ?? e) });
  }
};
