// The page's counting, apart from its DOM: the backends (WebGPU, or the JavaScript stream in Web Workers) and a run counted in chunks.
//
// A chunk lasts about CHUNK_SECONDS, so that progress, the plot and Stop react that often; the
// hits of the chunks add up to the hits of the run, since runs of the stream add up exactly.

import { GpuCounter, requestAdapter } from "./gpu.js";

/** The shader, relative to this file: the same layout in the repository and in the package. */
const SHADER_URL = new URL("../shaders/pi.wgsl", import.meta.url);
/** Wall time one chunk aims at: progress, the plot and Stop react this often. */
const CHUNK_SECONDS = 0.2;
/** Samples of the first chunk (and the least of any chunk but the last). */
const FIRST_CHUNK = 1024n;
/** Runs shorter than this many samples per worker are not split further. */
const MIN_SAMPLES_PER_WORKER = 65536n;

/** Thrown into a run when Stop ends it. */
export class Stopped extends Error {}

/** One Web Worker running worker.js: counts one run per message. */
class JsWorker {
  #worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  #pending = new Map();
  #next = 0;

  constructor() {
    this.#worker.onmessage = (event) => {
      const { id, hits, error } = event.data;
      const p = this.#pending.get(id);
      this.#pending.delete(id);
      if (!p) return;
      if (error !== undefined) p.reject(new Error(error));
      else p.resolve(BigInt(hits));
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.fail(new Error(`the worker failed: ${event.message || "could not load worker.js"}`));
    };
  }

  /** Hits of the run (BigInt arguments). */
  count(seed, first, count) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, seed: String(seed), first: String(first), count: String(count) });
    });
  }

  /** Ends the worker; pending counts reject with `error`. */
  fail(error) {
    this.#worker.terminate();
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}

/**
 * The JavaScript fallback: the stream counted in one Web Worker per core (worker.js), each
 * taking a contiguous slice of every run; hits of slices add up to the hits of the run.
 */
class JsCounter {
  #workers = null;

  constructor() {
    this.threads = Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 16));
    const plural = this.threads === 1 ? "" : "s";
    this.adapter = `JavaScript in ${this.threads} Web Worker${plural}`;
  }

  /** Hits of the run (BigInt arguments), counted in the workers. */
  async countHits(seed, first, count) {
    this.#workers ??= Array.from({ length: this.threads }, () => new JsWorker());
    const most = (count + MIN_SAMPLES_PER_WORKER - 1n) / MIN_SAMPLES_PER_WORKER;
    const parts = BigInt(this.threads) < most ? BigInt(this.threads) : most > 0n ? most : 1n;
    const jobs = [];
    for (let k = 0n; k < parts; k++) {
      const start = (count * k) / parts;
      const end = (count * (k + 1n)) / parts;
      jobs.push(this.#workers[Number(k)].count(seed, first + start, end - start));
    }
    try {
      return (await Promise.all(jobs)).reduce((a, b) => a + b, 0n);
    } catch (e) {
      // A failed or stopped worker leaves the pool: the next run starts fresh ones.
      this.stop(e);
      throw e;
    }
  }

  /** Ends the counts in progress at once (the workers are terminated; new ones start next time). */
  stop(error = new Stopped("stopped")) {
    for (const w of this.#workers ?? []) w.fail(error);
    this.#workers = null;
  }
}

/** Counters made so far, reused by later runs: the WebGPU device is made once. */
const counters = new Map();

/**
 * The counter for a backend choice ("auto", "webgpu", "js") and dispatch tuning:
 * {backend, counter, note}. "auto" takes WebGPU when the browser offers an adapter that
 * works, else JavaScript, and `note` says why.
 */
async function getCounter(choice, tuning) {
  const key = `${choice} ${JSON.stringify(tuning)}`;
  if (!counters.has(key)) counters.set(key, makeCounter(choice, tuning));
  try {
    return await counters.get(key);
  } catch (e) {
    counters.delete(key);
    throw e;
  }
}

/** Drops a counter from the cache (after a failure). */
function forget(entry) {
  for (const [key, value] of counters) {
    value.then((v) => v === entry && counters.get(key) === value && counters.delete(key)).catch(() => {});
  }
}

async function makeCounter(choice, tuning) {
  if (choice === "js") return { backend: "js", counter: new JsCounter(), note: "" };
  let why;
  try {
    const adapter = await requestAdapter(navigator.gpu);
    if (!adapter) {
      why = navigator.gpu ? "this browser offers no WebGPU adapter" : "this browser has no WebGPU (navigator.gpu)";
    } else {
      const response = await fetch(SHADER_URL);
      if (!response.ok) throw new Error(`fetching ${SHADER_URL.pathname} failed: HTTP ${response.status}`);
      const counter = await GpuCounter.create(adapter, await response.text(), tuning);
      return { backend: "webgpu", counter, note: "" };
    }
  } catch (e) {
    why = `WebGPU failed: ${e.message ?? e}`;
  }
  if (choice === "webgpu") throw new Error(`backend: WebGPU asked for, but ${why}`);
  return { backend: "js", counter: new JsCounter(), note: `${why}; counting in JavaScript` };
}

/**
 * The next chunk after `n` samples took `seconds`: aimed at CHUNK_SECONDS, growing at most
 * fourfold, at least FIRST_CHUNK; kept even so that later chunks start on a block boundary
 * when the run does.
 */
export function nextChunk(n, seconds) {
  const rate = Number(n) / Math.max(seconds, 1e-4);
  let next = BigInt(Math.floor(Math.min(Number(n) * 4, rate * CHUNK_SECONDS)));
  if (next < FIRST_CHUNK) next = FIRST_CHUNK;
  return next + (next & 1n);
}

/**
 * One run of the page, (seed, first, count) on a backend choice, counted chunk by chunk.
 * `stop()` ends it from anywhere (a button, a key): `start` then throws Stopped.
 */
export class Run {
  #stopped = false;
  #current = null;

  constructor({ seed, first, count, backend, tuning = {} }) {
    Object.assign(this, { seed, first, count, backend, tuning });
    /** Hits and samples counted so far. */
    this.hits = 0n;
    this.done = 0n;
  }

  stop() {
    this.#stopped = true;
    this.#current?.counter.stop?.();
  }

  get stopped() {
    return this.#stopped;
  }

  #check() {
    if (this.#stopped) throw new Stopped("stopped");
  }

  /**
   * Counts the run. Calls onStart({backend, counter, note}) once the counter is ready, and
   * onChunk(seconds) after every chunk (this.hits and this.done then updated). Returns
   * {hits, samples, seed, first, backend, adapter, seconds}, the first four decimal strings.
   */
  async start({ onStart = () => {}, onChunk = () => {} } = {}) {
    this.#current = await getCounter(this.backend, this.tuning);
    this.#check();
    onStart(this.#current);
    const t0 = performance.now();
    let chunk = FIRST_CHUNK;
    while (this.done < this.count) {
      this.#check();
      const n = this.count - this.done < chunk ? this.count - this.done : chunk;
      const tc = performance.now();
      this.hits += await this.#countChunk(this.first + this.done, n);
      this.done += n;
      onChunk((performance.now() - t0) / 1000);
      chunk = nextChunk(n, (performance.now() - tc) / 1000);
    }
    const { backend, counter } = this.#current;
    const seconds = (performance.now() - t0) / 1000;
    const [hits, samples, seed, first] = [this.hits, this.count, this.seed, this.first].map(String);
    return { hits, samples, seed, first, backend, adapter: counter.adapter, seconds };
  }

  async #countChunk(first, n) {
    try {
      return await this.#current.counter.countHits(this.seed, first, n);
    } catch (e) {
      if (this.#stopped) throw new Stopped("stopped");
      // A failed device (lost, out of memory) is not reused: the next run makes a new one.
      if (!(e instanceof Stopped)) forget(this.#current);
      throw e;
    }
  }
}
