// The page's inputs: the query string that programs use (docs/browser.md, "The query string") and the form's friendlier numbers.
//
// The query takes ?seed=S&first=F&count=N&run=1, each a plain decimal integer up to 2^64 - 1;
// optional backend=auto|webgpu|js and the dispatch tuning knobs workgroups=, per_invocation=,
// dispatches= (as GpuOptions in src/gpu/mod.rs). Any other parameter, or a bad value, gives an
// error naming the parameter. The form also takes what `python -m pi` takes: counts such as 1e9
// or 1_000, and seeds in 0x hexadecimal.

import { rangeError, U64_MAX } from "./stream.js";

/** Backends the page can be asked for. */
export const BACKENDS = ["auto", "webgpu", "js"];
/** The sample count the form starts with. */
export const DEFAULT_COUNT = 10_000_000n;
/** Dispatch tuning knobs of the query and the GpuOptions field each sets. */
const KNOBS = { workgroups: "workgroupsPerDispatch", per_invocation: "blocksPerInvocation", dispatches: "dispatchesPerSubmit" };
/** Every parameter the query takes. */
export const PARAMETERS = ["seed", "first", "count", "run", "backend", ...Object.keys(KNOBS)];

/** What a query's non-decimal number is told: the form and the command line take more. */
const DIGITS_ONLY = " (the query takes plain digits; the form also takes 1e6 and 0x2a)";

/** A decimal integer 0 .. 2^64 - 1 (digits only), or an Error naming `name` (`note` after it). */
function decimalU64(name, text, note = "") {
  if (!/^[0-9]+$/.test(text)) return new Error(`${name}: not a decimal integer: ${JSON.stringify(text)}${note}`);
  const v = BigInt(text);
  if (v > U64_MAX) return new Error(`${name}: must be at most 2^64 - 1 = ${U64_MAX}, got ${text}`);
  return v;
}

/** The query's parameters by name; an error for one the page does not know or one given twice. */
function queryParameters(search) {
  const seen = new Map();
  for (const [name, value] of new URLSearchParams(search)) {
    if (!PARAMETERS.includes(name)) {
      return { error: `${name}: not a parameter of this page (it takes ${PARAMETERS.join(", ")})` };
    }
    if (seen.has(name)) return { error: `${name}: given more than once` };
    seen.set(name, value);
  }
  return { seen };
}

/** The choices of the query beyond the run itself: run, backend and the tuning knobs, into `out`. */
function readChoices(seen, out) {
  if (seen.has("run")) {
    const run = seen.get("run");
    if (run !== "0" && run !== "1") return `run: must be 1 or 0, got ${JSON.stringify(run)}`;
    out.run = run === "1";
  }
  if (seen.has("backend")) {
    const b = seen.get("backend");
    if (!BACKENDS.includes(b)) return `backend: must be one of ${BACKENDS.join(", ")}, got ${JSON.stringify(b)}`;
    out.backend = b;
  }
  for (const [name, field] of Object.entries(KNOBS)) {
    if (!seen.has(name)) continue;
    const v = decimalU64(name, seen.get(name));
    if (v instanceof Error) return v.message;
    if (v === 0n || v > 0xffffffffn) return `${name}: must be between 1 and 2^32 - 1, got ${v}`;
    out.tuning[field] = Number(v);
  }
  return null;
}

/**
 * Parses a query string (with or without the leading "?"). Returns
 * {seed (BigInt or null: draw one), first, count (BigInt), run (bool), backend, tuning}
 * or {error}. An absent count is DEFAULT_COUNT, an absent first 0.
 */
export function parseQuery(search) {
  const { seen, error } = queryParameters(search);
  if (error) return { error };
  const out = { seed: null, first: 0n, count: DEFAULT_COUNT, run: false, backend: "auto", tuning: {} };
  for (const name of ["seed", "first", "count"]) {
    if (!seen.has(name)) continue;
    const v = decimalU64(name, seen.get(name), DIGITS_ONLY);
    if (v instanceof Error) return { error: v.message };
    out[name] = v;
  }
  if (out.count === 0n) return { error: "count: must be at least 1, got 0" };
  const problem = rangeError(out.first, out.count) ?? readChoices(seen, out);
  return problem ? { error: problem } : out;
}

/**
 * The query string of a run (seed, first and count BigInt; backend a name), as parseQuery
 * reads it: first and backend only when not their defaults, `run=1` last.
 */
export function runQuery({ seed, first, count, backend = "auto" }) {
  const parts = [`seed=${seed}`];
  if (first !== 0n) parts.push(`first=${first}`);
  parts.push(`count=${count}`);
  if (backend !== "auto") parts.push(`backend=${backend}`);
  parts.push("run=1");
  return `?${parts.join("&")}`;
}

/**
 * A sample count typed into the form, as `python -m pi N` reads it: 1000, 1_000, 1,000,
 * 1e9 or 2.5e3 (exact integers only), 1 .. 2^64 - 1. Returns a BigInt or an Error naming `name`.
 */
export function parseCount(text, name = "count") {
  const t = text.trim().replace(/[_,\s]/g, "");
  const whole = `${name}: not a whole number of samples: ${JSON.stringify(text)}`;
  const range = `${name}: must be between 1 and 2^64 - 1: ${JSON.stringify(text)}`;
  let v;
  if (/^[0-9]+$/.test(t)) {
    v = BigInt(t);
  } else {
    const m = /^([0-9]+)(?:\.([0-9]*))?[eE]\+?([0-9]{1,4})$/.exec(t);
    if (!m) return new Error(whole);
    const frac = (m[2] ?? "").replace(/0+$/, "");
    const exp = Number(m[3]);
    if (frac.length > exp) return new Error(whole);
    if (exp > 40) return new Error(range);
    v = BigInt(m[1] + frac) * 10n ** BigInt(exp - frac.length);
  }
  if (v < 1n || v > U64_MAX) return new Error(range);
  return v;
}

/** A seed typed into the form: decimal or 0x hexadecimal, 0 .. 2^64 - 1; "" means draw one (null). */
export function parseSeed(text, name = "seed") {
  const t = text.trim().replace(/_/g, "");
  if (t === "") return null;
  if (!/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(t)) {
    return new Error(`${name}: not an integer: ${JSON.stringify(text)}`);
  }
  const v = BigInt(t);
  if (v > U64_MAX) return new Error(`${name}: must be between 0 and 2^64 - 1: ${JSON.stringify(text)}`);
  return v;
}

/** The index of the first sample typed into the form: decimal, 0 .. 2^64 - 1; "" means 0. */
export function parseFirst(text, name = "first") {
  const t = text.trim().replace(/[_,\s]/g, "");
  if (t === "") return 0n;
  return decimalU64(name, t);
}
