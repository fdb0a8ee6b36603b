// The page's behaviour: reads the form or the query string, runs on WebGPU or the JavaScript worker in chunks, shows progress, the estimate and the plot.
//
// Test contract (SPEC.md section 4): ?seed=S&first=F&count=N&run=1 runs at load and sets
// window.piResult = {hits, samples, seed, first, backend, adapter, seconds} (the first four
// as decimal strings); a bad query sets window.piError, naming the parameter, and no result.

import { GpuCounter, requestAdapter } from "./gpu.js";
import { parseCount, parseFirst, parseQuery, parseSeed } from "./query.js";
import { drawPlot } from "./plot.js";
import { estimate, TWO_64 } from "./stream.js";

/** The shader, relative to this file: the same layout in the repository and in the package. */
const SHADER_URL = new URL("../shaders/pi.wgsl", import.meta.url);
/** Wall time one chunk aims at: progress, the plot and Stop react this often. */
const CHUNK_SECONDS = 0.2;
/** Samples of the first chunk (and the least of any chunk but the last). */
const FIRST_CHUNK = 1024n;

const $ = (id) => document.getElementById(id);

/** Thrown into a run when Stop ends it. */
class Stopped extends Error {}

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

/** Runs shorter than this many samples per worker are not split further. */
const MIN_SAMPLES_PER_WORKER = 65536n;

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
 * The counter for a backend choice ("auto", "webgpu", "js") and dispatch tuning. "auto" takes
 * WebGPU when the browser offers an adapter that works, else JavaScript, and says why.
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

/** Python's format(x, ".{p}g"). */
function formatG(x, p) {
  if (x === 0) return "0";
  const exp = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(p)))));
  if (exp < -4 || exp >= p) {
    const [m, e] = x.toExponential(p - 1).split("e");
    const mant = m.includes(".") ? m.replace(/\.?0+$/, "") : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  }
  const s = x.toFixed(Math.max(0, p - 1 - exp));
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** The estimate line as `python -m pi` prints it. */
function estimateText(hits, samples) {
  const { pi, stdError } = estimate(hits, samples);
  const digits = stdError > 0 ? Math.max(1, Math.min(15, 1 - Math.floor(Math.log10(stdError)))) : 15;
  return `π ≈ ${pi.toFixed(digits)} ± ${formatG(stdError, 2)}`;
}

function formatRate(rate) {
  return rate < 1e3 ? formatG(rate, 3) : rate.toExponential(2).replace("e+", "e");
}

function groupDigits(v) {
  return String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

const ui = {
  running: false,
  stop: null,
  /** What the plot shows, redrawn when the window's size changes. */
  plot: { points: [], total: 10_000_000n },
};

function redraw() {
  drawPlot($("plot"), ui.plot.points, ui.plot.total);
}

function showError(message) {
  const el = $("error");
  el.textContent = message;
  el.hidden = !message;
}

function setRunning(running) {
  ui.running = running;
  $("run").disabled = running;
  $("stop").disabled = !running;
  for (const id of ["seed", "count", "first", "backend"]) $(id).disabled = running;
}

/** A fresh 64-bit seed from crypto.getRandomValues. */
function freshSeed() {
  return crypto.getRandomValues(new BigUint64Array(1))[0];
}

/**
 * Runs (seed, first, count) on the chosen backend, chunk by chunk, updating the page.
 * Returns the result object, or null when stopped.
 */
async function run({ seed, first, count, backend, tuning }) {
  setRunning(true);
  showError("");
  let stopped = false;
  let current = null;
  ui.stop = () => {
    stopped = true;
    current?.counter.stop?.();
  };
  const points = [];
  ui.plot = { points, total: count };
  const cli = `python -m pi ${count} --seed ${seed}${first ? ` --first ${first}` : ""}`;
  $("cli").textContent = cli;
  $("seed-used").textContent = String(seed);
  $("hits").textContent = "–";
  $("rate").textContent = "–";
  $("estimate").textContent = "π ≈ …";
  $("progress").value = 0;
  redraw();
  try {
    $("status").textContent = "Starting…";
    current = await getCounter(backend, tuning);
    if (stopped) throw new Stopped("stopped");
    const { counter } = current;
    $("adapter").textContent = `${current.backend}: ${counter.adapter}`;
    if (current.note) showError(current.note);
    let hits = 0n;
    let done = 0n;
    let chunk = FIRST_CHUNK;
    const t0 = performance.now();
    while (done < count) {
      if (stopped) throw new Stopped("stopped");
      const n = count - done < chunk ? count - done : chunk;
      const tc = performance.now();
      try {
        hits += await counter.countHits(seed, first + done, n);
      } catch (e) {
        // A failed device (lost, out of memory) is not reused: the next run makes a new one.
        if (!(e instanceof Stopped)) forget(current);
        throw e;
      }
      const dt = (performance.now() - tc) / 1000;
      done += n;
      const seconds = (performance.now() - t0) / 1000;
      const { pi, stdError } = estimate(hits, done);
      points.push({ n: Number(done), pi, se: stdError });
      $("progress").value = Number(done) / Number(count);
      $("estimate").textContent = estimateText(hits, done);
      $("hits").textContent = `${groupDigits(hits)} of ${groupDigits(done)} samples`;
      $("rate").textContent = `${formatRate(Number(done) / Math.max(seconds, 1e-6))} samples/s`;
      $("status").textContent = `Running: ${groupDigits(done)} of ${groupDigits(count)} samples, ${seconds.toFixed(1)} s`;
      redraw();
      // The next chunk aims at CHUNK_SECONDS and grows at most fourfold; kept even so that
      // later chunks start on a block boundary when the run does.
      const rate = Number(n) / Math.max(dt, 1e-4);
      let next = BigInt(Math.floor(Math.min(Number(n) * 4, rate * CHUNK_SECONDS)));
      if (next < FIRST_CHUNK) next = FIRST_CHUNK;
      chunk = next + (next & 1n);
    }
    const seconds = (performance.now() - t0) / 1000;
    $("status").textContent = `Done: ${groupDigits(count)} samples in ${seconds.toFixed(3)} s.`;
    return {
      hits: String(hits),
      samples: String(count),
      seed: String(seed),
      first: String(first),
      backend: current.backend,
      adapter: current.counter.adapter,
      seconds,
    };
  } catch (e) {
    if (e instanceof Stopped || stopped) {
      $("status").textContent = `Stopped after ${groupDigits(points.length ? points[points.length - 1].n : 0)} samples.`;
      return null;
    }
    throw e;
  } finally {
    ui.stop = null;
    setRunning(false);
  }
}

/** Reads the form; throws an Error naming the field when one is bad. */
function readForm() {
  const seedIn = parseSeed($("seed").value);
  if (seedIn instanceof Error) throw seedIn;
  const count = parseCount($("count").value);
  if (count instanceof Error) throw count;
  const first = parseFirst($("first").value);
  if (first instanceof Error) throw first;
  if (first + count > TWO_64) throw new Error(`first: first + count = ${first + count} is past 2^64`);
  let seed = seedIn;
  if (seed === null) {
    seed = freshSeed();
    $("seed").value = String(seed);
  }
  return { seed, first, count, backend: $("backend").value, tuning: {} };
}

async function onSubmit(event) {
  event.preventDefault();
  if (ui.running) return;
  let job;
  try {
    job = readForm();
  } catch (e) {
    showError(e.message);
    return;
  }
  try {
    await run(job);
  } catch (e) {
    showError(`Run failed: ${e.message ?? e}`);
    $("status").textContent = "Failed.";
  }
}

async function main() {
  $("form").addEventListener("submit", onSubmit);
  $("stop").addEventListener("click", () => ui.stop?.());
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && ui.running) ui.stop?.();
  });
  window.addEventListener("resize", redraw);
  redraw();

  const query = parseQuery(location.search);
  if (query.error) {
    window.piError = query.error;
    showError(`Bad query: ${query.error}`);
    $("status").textContent = "Not run: bad query.";
    return;
  }
  if (query.seed !== null) $("seed").value = String(query.seed);
  $("count").value = String(query.count);
  $("first").value = String(query.first);
  $("backend").value = query.backend;
  if (!query.run) return;
  const seed = query.seed ?? freshSeed();
  $("seed").value = String(seed);
  try {
    const result = await run({ seed, first: query.first, count: query.count, backend: query.backend, tuning: query.tuning });
    if (result) window.piResult = result;
  } catch (e) {
    window.piError = `run failed: ${e.message ?? e}`;
    showError(`Run failed: ${e.message ?? e}`);
    $("status").textContent = "Failed.";
  }
}

main();
