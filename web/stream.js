// The sample stream of pi in JavaScript (as src/stream.rs defines it): Philox4x32-10, the hit rule and exact run counts.
//
// An ES module with no imports, shared by the page, its Web Worker and the Node tests.
// Seeds, sample indices and counts are BigInt (they pass 2^53); 32-bit words are Numbers.
//
// * Seed s gives the key (lo32(s), hi32(s)).
// * Sample i lives in block j = i / 2: (x0, x1, x2, x3) = Philox4x32-10(counter =
//   (lo32(j), hi32(j), 0, 0), key); sample 2j is the point (x0, x1), sample 2j + 1 is (x2, x3).
// * A point (x, y) is a hit when x*x + y*y < 2^64, in exact integers.

/** Philox4x32 multipliers and Weyl key increments (Salmon et al., SC'11; Random123). */
export const M0 = 0xd2511f53;
export const M1 = 0xcd9e8d57;
export const W0 = 0x9e3779b9;
export const W1 = 0xbb67ae85;
/** Rounds of Philox4x32-10. */
export const ROUNDS = 10;

/** 2^64: one past the last sample index, and the largest valid first + count. */
export const TWO_64 = 1n << 64n;
/** The largest 64-bit value (seed, first, count). */
export const U64_MAX = TWO_64 - 1n;

const TWO_32 = 4294967296;

/**
 * Philox4x32-10 of the counter (c0, c1, c2, c3) under the key (k0, k1), all 32-bit words,
 * written into out[0..4] (a Uint32Array or an Array). Products are formed from 16-bit
 * limbs with Math.imul, as in the portable variant of shaders/pi.wgsl: every value stays
 * a 32-bit integer, which V8 keeps in registers.
 */
export function philoxInto(out, c0, c1, c2, c3, k0, k1) {
  c0 |= 0;
  c1 |= 0;
  c2 |= 0;
  c3 |= 0;
  k0 |= 0;
  k1 |= 0;
  for (let round = 0; round < ROUNDS; round++) {
    const hi0 = mulhi(M0, c0);
    const hi1 = mulhi(M1, c2);
    const lo0 = Math.imul(M0, c0);
    const lo1 = Math.imul(M1, c2);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    // The key is bumped between rounds (the bump after the last round is unused).
    k0 = (k0 + W0) | 0;
    k1 = (k1 + W1) | 0;
  }
  out[0] = c0 >>> 0;
  out[1] = c1 >>> 0;
  out[2] = c2 >>> 0;
  out[3] = c3 >>> 0;
  return out;
}

/** Philox4x32-10 of one counter under one key: [x0, x1, x2, x3], 32-bit words. */
export function philox4x32_10(ctr, key) {
  return Array.from(philoxInto(new Uint32Array(4), ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1]));
}

/** hi32(a * b) for 32-bit words a and b, from 16-bit limbs. */
function mulhi(a, b) {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = Math.imul(a0, b0);
  const p01 = Math.imul(a0, b1);
  const p10 = Math.imul(a1, b0);
  const p11 = Math.imul(a1, b1);
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/** Squares below this sum are hits whatever the rounding; above HIT_SURE_MISS, misses. */
const HIT_SURE_HIT = 2 ** 64 - 2 ** 14;
const HIT_SURE_MISS = 2 ** 64 + 2 ** 14;

/**
 * The hit rule, x*x + y*y < 2^64, exactly. The sum of the squares as doubles is off by
 * at most 2^12 from the true sum (2^10 per square, 2^11 for the sum), so it decides every point more than 2^14 from the
 * circle; the few closer ones are decided in 16-bit limbs.
 */
export function isHit(x, y) {
  const s = x * x + y * y;
  if (s < HIT_SURE_HIT) return true;
  if (s > HIT_SURE_MISS) return false;
  return isHitExact(x, y);
}

/** x*x + y*y < 2^64 with 16-bit limbs: x*x <= 2^64 - 1 - y*y, compared as (hi, lo) words. */
export function isHitExact(x, y) {
  const xh = mulhi(x, x);
  const xl = Math.imul(x, x) >>> 0;
  const yh = ~mulhi(y, y) >>> 0;
  const yl = (~Math.imul(y, y)) >>> 0;
  return xh < yh || (xh === yh && xl <= yl);
}

/** The Philox key of a seed: [lo32(seed), hi32(seed)]. */
export function keyOf(seed) {
  return [Number(seed & 0xffffffffn), Number((seed >> 32n) & 0xffffffffn)];
}

/** Block j (BigInt) of the stream under `key`: four 32-bit words, two samples. */
export function block(key, j) {
  const lo = Number(j & 0xffffffffn);
  const hi = Number((j >> 32n) & 0xffffffffn);
  return philoxInto(new Uint32Array(4), lo, hi, 0, 0, key[0], key[1]);
}

/** Sample i (BigInt) of `seed` (BigInt) as the integer point [x, y]. */
export function sample(seed, i) {
  const b = block(keyOf(seed), i >> 1n);
  return (i & 1n) === 0n ? [b[0], b[1]] : [b[2], b[3]];
}

/** Whether (first, count) is a valid run: first + count <= 2^64, both unsigned. */
export function rangeIsValid(first, count) {
  return first >= 0n && count >= 0n && first + count <= TWO_64;
}

/**
 * The one range rule's message: null for a valid run, else why not, naming the count under
 * `countName` and the first sample under `firstName` (the query's and the form's words).
 */
export function rangeError(first, count, firstName = "first", countName = "count") {
  if (rangeIsValid(first, count)) return null;
  return `${countName}: ${firstName} + ${countName} = ${first + count} is past 2^64 (the last sample is 2^64 - 1)`;
}

/**
 * How a valid run splits into whole blocks and at most one lone sample at each end
 * (src/stream.rs, Blocks::of): {head, firstBlock, nBlocks, tail}, head and tail a
 * sample index or null.
 */
export function blocksOf(first, count) {
  if (count === 0n) return { head: null, firstBlock: first >> 1n, nBlocks: 0n, tail: null };
  const head = (first & 1n) === 1n ? first : null;
  const restFirst = head === null ? first : first + 1n;
  const rest = head === null ? count : count - 1n;
  const tail = (rest & 1n) === 1n ? restFirst + rest - 1n : null;
  return { head, firstBlock: restFirst >> 1n, nBlocks: rest >> 1n, tail };
}

/** Hits (0, 1 or 2) of the lone samples at both ends of a split run. */
export function edgeHits(seed, blocks) {
  let hits = 0;
  for (const i of [blocks.head, blocks.tail]) {
    if (i !== null) {
      const [x, y] = sample(seed, i);
      if (isHit(x, y)) hits++;
    }
  }
  return hits;
}

/**
 * Hits of the whole blocks firstBlock .. firstBlock + n - 1 (firstBlock a BigInt, n a
 * Number up to 2^53), as a Number. The counter is kept as two 32-bit words.
 */
export function blockRangeHits(key, firstBlock, n) {
  let lo = Number(firstBlock & 0xffffffffn);
  let hi = Number((firstBlock >> 32n) & 0xffffffffn);
  const [k0, k1] = key;
  const b = new Uint32Array(4);
  let hits = 0;
  for (let k = 0; k < n; k++) {
    philoxInto(b, lo, hi, 0, 0, k0, k1);
    if (isHit(b[0], b[1])) hits++;
    if (isHit(b[2], b[3])) hits++;
    lo++;
    if (lo === TWO_32) {
      lo = 0;
      hi = (hi + 1) >>> 0;
    }
  }
  return hits;
}

/** Blocks counted per call to blockRangeHits by countHits (keeps hits a safe Number). */
const BLOCKS_PER_STEP = 1 << 24;

/**
 * Hits of the run (seed, first, count), all BigInt, as a BigInt. Throws a RangeError
 * naming the argument when the run is not valid.
 */
export function countHits(seed, first, count) {
  checkU64("seed", seed);
  checkU64("first", first);
  checkU64("count", count);
  const outside = rangeError(first, count);
  if (outside) throw new RangeError(outside);
  const b = blocksOf(first, count);
  let hits = BigInt(edgeHits(seed, b));
  const key = keyOf(seed);
  for (let done = 0n; done < b.nBlocks; ) {
    const n = b.nBlocks - done < BigInt(BLOCKS_PER_STEP) ? Number(b.nBlocks - done) : BLOCKS_PER_STEP;
    hits += BigInt(blockRangeHits(key, b.firstBlock + done, n));
    done += BigInt(n);
  }
  return hits;
}

function checkU64(name, v) {
  if (typeof v !== "bigint") throw new TypeError(`${name}: must be a BigInt, got ${typeof v}`);
  if (v < 0n || v > U64_MAX) throw new RangeError(`${name}: must be between 0 and 2^64 - 1, got ${v}`);
}

/**
 * pi_hat = 4 * hits / samples and its standard error 4 * sqrt(p (1 - p) / samples),
 * p = hits / samples, as Numbers (as pi.estimate computes them).
 */
export function estimate(hits, samples) {
  const n = Number(samples);
  const p = Number(hits) / n;
  return { pi: 4 * p, stdError: 4 * Math.sqrt((p * (1 - p)) / n) };
}
