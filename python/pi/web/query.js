// The page's inputs: the query string of the test contract (SPEC.md section 4) and the form's friendlier counts.
//
// ?seed=S&first=F&count=N&run=1, each a decimal integer up to 2^64 - 1; optional
// backend=auto|webgpu|js and the dispatch tuning knobs workgroups=, per_invocation=,
// dispatches= (as GpuOptions in src/gpu/mod.rs). A bad value gives an error naming its parameter.

import { TWO_64, U64_MAX } from "./stream.js";

/** Parameters the page understands; others are ignored. */
const KNOWN = ["seed", "first", "count", "run", "backend", "workgroups", "per_invocation", "dispatches"];
/** Backends the page can be asked for. */
export const BACKENDS = ["auto", "webgpu", "js"];
/** The sample count the form starts with. */
export const DEFAULT_COUNT = 10_000_000n;

/** A decimal integer 0 .. 2^64 - 1 (digits only), or an Error naming `name`. */
function decimalU64(name, text) {
  if (!/^[0-9]+$/.test(text)) return new Error(`${name}: not a decimal integer: ${JSON.stringify(text)}`);
  const v = BigInt(text);
  if (v > U64_MAX) return new Error(`${name}: must be at most 2^64 - 1 = ${U64_MAX}, got ${text}`);
  return v;
}

/**
 * Parses a query string (with or without the leading "?"). Returns
 * {seed (BigInt or null: draw one), first, count (BigInt), run (bool), backend, tuning}
 * or {error}. An absent count is DEFAULT_COUNT, an absent first 0.
 */
export function parseQuery(search) {
  const params = new URLSearchParams(search);
  const seen = new Map();
  for (const [name, value] of params) {
    if (!KNOWN.includes(name)) continue;
    if (seen.has(name)) return { error: `${name}: given more than once` };
    seen.set(name, value);
  }
  const out = { seed: null, first: 0n, count: DEFAULT_COUNT, run: false, backend: "auto", tuning: {} };
  for (const name of ["seed", "first", "count"]) {
    if (!seen.has(name)) continue;
    const v = decimalU64(name, seen.get(name));
    if (v instanceof Error) return { error: v.message };
    out[name] = v;
  }
  if (out.count === 0n) return { error: "count: must be at least 1, got 0" };
  if (out.first + out.count > TWO_64) {
    return {
      error: `count: first + count = ${out.first + out.count} is past 2^64 (the last sample is 2^64 - 1)`,
    };
  }
  if (seen.has("run")) {
    const run = seen.get("run");
    if (run !== "0" && run !== "1") return { error: `run: must be 1 or 0, got ${JSON.stringify(run)}` };
    out.run = run === "1";
  }
  if (seen.has("backend")) {
    const b = seen.get("backend");
    if (!BACKENDS.includes(b)) {
      return { error: `backend: must be one of ${BACKENDS.join(", ")}, got ${JSON.stringify(b)}` };
    }
    out.backend = b;
  }
  const knobs = { workgroups: "workgroupsPerDispatch", per_invocation: "blocksPerInvocation", dispatches: "dispatchesPerSubmit" };
  for (const [name, field] of Object.entries(knobs)) {
    if (!seen.has(name)) continue;
    const v = decimalU64(name, seen.get(name));
    if (v instanceof Error) return { error: v.message };
    if (v === 0n || v > 0xffffffffn) return { error: `${name}: must be between 1 and 2^32 - 1, got ${v}` };
    out.tuning[field] = Number(v);
  }
  return out;
}

/**
 * A sample count typed into the form, as `python -m pi N` reads it: 1000, 1_000, 1,000,
 * 1e9 or 2.5e3 (exact integers only), 1 .. 2^64 - 1. Returns a BigInt or an Error.
 */
export function parseCount(text) {
  const t = text.trim().replace(/[_,\s]/g, "");
  let v;
  if (/^[0-9]+$/.test(t)) {
    v = BigInt(t);
  } else {
    const m = /^([0-9]+)(?:\.([0-9]*))?[eE]\+?([0-9]{1,4})$/.exec(t);
    if (!m) return new Error(`count: not a whole number of samples: ${JSON.stringify(text)}`);
    const frac = (m[2] ?? "").replace(/0+$/, "");
    const exp = Number(m[3]);
    if (frac.length > exp) return new Error(`count: not a whole number of samples: ${JSON.stringify(text)}`);
    if (exp > 40) return new Error(`count: must be between 1 and 2^64 - 1: ${JSON.stringify(text)}`);
    v = BigInt(m[1] + frac) * 10n ** BigInt(exp - frac.length);
  }
  if (v < 1n || v > U64_MAX) return new Error(`count: must be between 1 and 2^64 - 1: ${JSON.stringify(text)}`);
  return v;
}

/** A seed typed into the form: decimal or 0x hexadecimal, 0 .. 2^64 - 1; "" means draw one (null). */
export function parseSeed(text) {
  const t = text.trim().replace(/_/g, "");
  if (t === "") return null;
  if (!/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(t)) {
    return new Error(`seed: not an integer: ${JSON.stringify(text)}`);
  }
  const v = BigInt(t);
  if (v > U64_MAX) return new Error(`seed: must be between 0 and 2^64 - 1: ${JSON.stringify(text)}`);
  return v;
}

/** The index of the first sample typed into the form: decimal, 0 .. 2^64 - 1; "" means 0. */
export function parseFirst(text) {
  const t = text.trim().replace(/[_,\s]/g, "");
  if (t === "") return 0n;
  const v = decimalU64("first", t);
  return v;
}
