// Tests of the JavaScript stream (web/stream.js), the dispatch planner (web/gpu.js), the query parser (web/query.js), the page's text (web/format.js) and plot range (web/plot.js), in Node, no browser.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";

import { nextChunk } from "../../web/counting.js";
import { cliCommand, estimateText, groupDigits, resultText } from "../../web/format.js";
import * as gpu from "../../web/gpu.js";
import { yRange, ZOOM_FROM } from "../../web/plot.js";
import { PARAMETERS, parseCount, parseFirst, parseQuery, parseSeed, runQuery } from "../../web/query.js";
import * as stream from "../../web/stream.js";
import { ROOT } from "./_browser.js";
import { pythonHits } from "./_reference.js";

const U64_MAX = (1n << 64n) - 1n;

describe("Philox4x32-10", () => {
  const lines = readFileSync(join(ROOT, "tests", "data", "philox4x32_10_kat.txt"), "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"));

  test("the known-answer vectors file has vectors", () => {
    assert.ok(lines.length >= 3, `only ${lines.length} vectors`);
  });

  for (const line of lines) {
    const [name, rounds, ...words] = line.trim().split(/\s+/);
    test(`KAT ${words.slice(0, 6).join(" ")}`, () => {
      assert.equal(name, "philox4x32");
      assert.equal(rounds, "10");
      const w = words.map((h) => parseInt(h, 16));
      assert.deepEqual(stream.philox4x32_10(w.slice(0, 4), w.slice(4, 6)), w.slice(6, 10));
    });
  }
});

describe("hit rule", () => {
  const exact = (x, y) => BigInt(x) * BigInt(x) + BigInt(y) * BigInt(y) < 1n << 64n;

  test("agrees with BigInt arithmetic next to the circle", () => {
    // Points whose squares sum to within a few units of 2^64, where doubles cannot decide.
    let checked = 0;
    for (let x = 0; x < 2 ** 32; x += 1_000_003 * 97) {
      const r = (1n << 64n) - BigInt(x) * BigInt(x);
      // y = floor(sqrt(r)) and its neighbours straddle the boundary.
      let y = BigInt(Math.floor(Math.sqrt(Number(r))));
      while (y * y > r) y--;
      while ((y + 1n) * (y + 1n) <= r) y++;
      for (const d of [-2n, -1n, 0n, 1n, 2n]) {
        const yy = y + d;
        if (yy < 0n || yy > 0xffffffffn) continue;
        assert.equal(stream.isHit(x, Number(yy)), exact(x, yy), `(${x}, ${yy})`);
        assert.equal(stream.isHitExact(x, Number(yy)), exact(x, yy), `exact (${x}, ${yy})`);
        checked++;
      }
    }
    assert.ok(checked > 100);
  });

  test("corners and edges", () => {
    const m = 0xffffffff;
    for (const [x, y] of [[0, 0], [m, 0], [0, m], [m, m], [m, 1], [1, m], [2 ** 31, 2 ** 31], [3037000499, 3037000499], [3037000500, 3037000500]]) {
      assert.equal(stream.isHit(x, y), exact(x, y), `(${x}, ${y})`);
    }
  });

  test("agrees with BigInt on random points", () => {
    let s = 12345;
    const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
    for (let i = 0; i < 100_000; i++) {
      const x = next();
      const y = next();
      assert.equal(stream.isHit(x, y), exact(x, y));
    }
  });
});

/** The rows of a tests/data file: its non-comment lines split into columns. */
function dataRows(name) {
  return readFileSync(join(ROOT, "tests", "data", name), "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => l.trim().split(/\s+/));
}

describe("the hit rule's edge files (tests/data), as every kernel runs them", () => {
  test("edge_points.txt: the points nearest the circle, both ways round", () => {
    const rows = dataRows("edge_points.txt");
    assert.ok(rows.length >= 12, `only ${rows.length} points`);
    for (const [x, y, excess, hit] of rows) {
      assert.equal(hit === "1", BigInt(excess) < 0n, `the file's own row ${x} ${y}`);
      for (const [a, b] of [[x, y], [y, x]]) {
        assert.equal(stream.isHit(Number(a), Number(b)), hit === "1", `isHit(${a}, ${b})`);
        assert.equal(stream.isHitExact(Number(a), Number(b)), hit === "1", `isHitExact(${a}, ${b})`);
      }
    }
  });

  test("edge_samples.txt: samples with a zero coordinate, drawn and counted by the stream", () => {
    const rows = dataRows("edge_samples.txt");
    assert.ok(rows.length >= 9, `only ${rows.length} samples`);
    for (const [seed, index, x, y, hit] of rows) {
      const [s, i] = [BigInt(seed), BigInt(index)];
      assert.deepEqual(stream.sample(s, i), [Number(x), Number(y)], `sample ${index} of seed ${seed}`);
      assert.equal(stream.countHits(s, i, 1n), BigInt(hit), `hits of sample ${index} of seed ${seed}`);
      // In a block counted whole, and as the lone sample at either end of a run.
      const block = i & ~1n;
      const other = stream.countHits(s, i ^ 1n, 1n);
      assert.equal(stream.countHits(s, block, 2n), BigInt(hit) + other, `block ${block >> 1n} of seed ${seed}`);
      assert.equal(stream.countHits(s, i - 1n, 3n) - stream.countHits(s, i - 1n, 1n) - stream.countHits(s, i + 1n, 1n), BigInt(hit));
    }
  });
});

describe("counting runs", () => {
  test("reference cases (the hits python -m pi gives)", () => {
    assert.equal(stream.countHits(42n, 0n, 1000n), 794n);
    assert.equal(stream.countHits(42n, 0n, 1_000_000n), 785856n);
    assert.equal(stream.countHits(U64_MAX, (1n << 33n) - 3n, 1001n), 791n);
  });

  test("matches the pure-Python reference on odd ends, block 2^32 and the end of the stream", () => {
    const cases = [
      [0n, 0n, 1n],
      [0n, 1n, 1n],
      [0n, 1n, 2n],
      [7n, 3n, 10_000n],
      [7n, 3n, 9_999n],
      [42n, 999n, 12_345n],
      [U64_MAX, (1n << 33n) - 3n, 1001n],
      [U64_MAX, (1n << 33n) - 4n, 1000n],
      [123456789012345678n, U64_MAX - 1000n, 1001n],
      [1n << 32n, U64_MAX, 1n],
      [0xdeadbeefn, (1n << 40n) + 1n, 4097n],
    ];
    const want = pythonHits(cases);
    cases.forEach(([s, f, n], k) => assert.equal(stream.countHits(s, f, n), want[k], `(${s}, ${f}, ${n})`));
  });

  test("runs add up: hits(s, a, n) + hits(s, a + n, m) == hits(s, a, n + m)", () => {
    for (const [a, n, m] of [[0n, 1n, 1n], [1n, 2n, 3n], [5n, 1000n, 777n], [U64_MAX - 10n, 5n, 6n]]) {
      assert.equal(stream.countHits(9n, a, n) + stream.countHits(9n, a + n, m), stream.countHits(9n, a, n + m));
    }
  });

  test("count 0 is 0 hits; bad arguments name themselves", () => {
    assert.equal(stream.countHits(1n, 5n, 0n), 0n);
    assert.throws(() => stream.countHits(1n, U64_MAX, 2n), /count: first \+ count/);
    assert.throws(() => stream.countHits(U64_MAX + 1n, 0n, 1n), /seed:/);
    assert.throws(() => stream.countHits(1n, -1n, 1n), /first:/);
    assert.throws(() => stream.countHits(1, 0n, 1n), /seed: must be a BigInt/);
  });

  test("blocksOf splits as src/stream.rs Blocks::of", () => {
    assert.deepEqual(stream.blocksOf(3n, 4n), { head: 3n, firstBlock: 2n, nBlocks: 1n, tail: 6n });
    assert.deepEqual(stream.blocksOf(2n, 4n), { head: null, firstBlock: 1n, nBlocks: 2n, tail: null });
    assert.deepEqual(stream.blocksOf(1n, 1n), { head: 1n, firstBlock: 1n, nBlocks: 0n, tail: null });
    assert.deepEqual(stream.blocksOf(U64_MAX, 1n), { head: U64_MAX, firstBlock: 1n << 63n, nBlocks: 0n, tail: null });
  });
});

/** Limits like those Chromium reports for SwiftShader, for planning tests. */
const SWIFTSHADER = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBufferBindingSize: 1 << 30,
  maxBufferSize: 2 ** 32,
  minUniformBufferOffsetAlignment: 256,
};

/**
 * Replays a plan on the CPU exactly as shaders/pi.wgsl reads its Params: invocation i of a
 * dispatch counts per_invocation blocks (i < full_invocations), remainder blocks
 * (i == full_invocations) or none, from base + i * per_invocation (mod 2^64).
 */
function replay(cfg, seed, first, count) {
  const b = stream.blocksOf(first, count);
  let hits = BigInt(stream.edgeHits(seed, b));
  if (b.nBlocks === 0n) return { hits, submissions: 0, dispatches: 0 };
  const key = stream.keyOf(seed);
  let submissions = 0;
  let dispatches = 0;
  let covered = 0n;
  for (const batch of gpu.submissions(cfg, b.firstBlock, b.nBlocks)) {
    submissions++;
    assert.ok(batch.dispatches.length <= cfg.dispatchesPerSubmit);
    assert.ok(batch.perInvocation >= 1 && batch.perInvocation <= cfg.blocksPerInvocation);
    assert.ok(batch.partials <= cfg.workgroupsPerDispatch * cfg.dispatchesPerSubmit, "partials fit the buffer");
    const partials = new Array(batch.partials).fill(0);
    for (const d of batch.dispatches) {
      dispatches++;
      assert.ok(d.workgroups >= 1 && d.workgroups <= cfg.workgroupsPerDispatch);
      const [k0, k1, baseLo, baseHi, per, full, rem, offset] = gpu.paramsWords(key, batch.perInvocation, d);
      assert.deepEqual([k0, k1], key);
      assert.ok(rem < per);
      const base = (BigInt(baseHi) << 32n) | BigInt(baseLo);
      for (let inv = 0; inv < d.workgroups * cfg.workgroupSize; inv++) {
        const n = inv < full ? per : inv === full ? rem : 0;
        const start = (base + BigInt(inv) * BigInt(per)) & U64_MAX;
        const h = stream.blockRangeHits(key, start, n);
        partials[offset + Math.floor(inv / cfg.workgroupSize)] += h;
        covered += BigInt(n);
      }
    }
    hits += BigInt(partials.reduce((a, c) => a + c, 0));
  }
  assert.equal(covered, b.nBlocks, "every block counted once");
  return { hits, submissions, dispatches };
}

describe("dispatch planning (web/gpu.js, as src/gpu/mod.rs)", () => {
  test("constants match the Rust GPU backend's, and Params the shader's struct", () => {
    const dir = join(ROOT, "src", "gpu");
    const rs = readdirSync(dir)
      .filter((f) => f.endsWith(".rs"))
      .map((f) => readFileSync(join(dir, f), "utf8"))
      .join("\n");
    const constant = (name) => {
      const m = new RegExp(`const ${name}: \\w+ = ([^;]+);`).exec(rs);
      assert.ok(m, `${name} not found in the Rust GPU backend`);
      return m[1].replace(/_/g, "").trim();
    };
    assert.equal(Number(constant("WORKGROUP_SIZE")), gpu.WORKGROUP_SIZE);
    assert.equal(Number(constant("MAX_BLOCKS_PER_INVOCATION")), gpu.MAX_BLOCKS_PER_INVOCATION);
    assert.equal(Number(constant("MAX_DISPATCHES_PER_SUBMIT")), gpu.MAX_DISPATCHES_PER_SUBMIT);
    assert.equal(Number(constant("DEFAULT_WORKGROUPS_PER_DISPATCH")), gpu.DEFAULT_WORKGROUPS_PER_DISPATCH);
    assert.equal(Number(constant("DEFAULT_DISPATCHES_PER_SUBMIT")), gpu.DEFAULT_DISPATCHES_PER_SUBMIT);
    assert.equal(constant("MAX_BLOCKS_PER_SUBMIT"), `1 << ${gpu.MAX_BLOCKS_PER_SUBMIT.toString(2).length - 1}`);
    // Params: eight u32 words (two vec2<u32> and four u32) in the shader.
    const wgsl = readFileSync(join(ROOT, "shaders", "pi.wgsl"), "utf8");
    const body = /struct Params \{([^}]*)\}/.exec(wgsl)[1].replace(/\/\/.*$/gm, "");
    const words = [...body.matchAll(/:\s*(vec2<u32>|u32)\s*,/g)].reduce((n, m) => n + (m[1] === "u32" ? 1 : 2), 0);
    assert.equal(words * 4, gpu.PARAMS_SIZE);
    assert.deepEqual(
      [...body.matchAll(/(\w+)\s*:/g)].map((m) => m[1]),
      ["key", "base", "per_invocation", "full_invocations", "remainder", "partial_offset"],
      "the order paramsWords writes",
    );
  });

  test("the portable shader variant keeps only its lines, the line count and no u64", () => {
    const template = readFileSync(join(ROOT, "shaders", "pi.wgsl"), "utf8");
    const limbs = gpu.shaderSource(template, false);
    const wide = gpu.shaderSource(template, true);
    assert.equal(limbs.split("\n").length, template.split("\n").length);
    assert.ok(!/u64\(/.test(limbs), "no u64 in the portable variant");
    assert.ok(/0xFFFFu/.test(limbs));
    assert.ok(/u64\(a\)/.test(wide));
    assert.ok(!limbs.split("\n").some((l) => l.trim().startsWith("// #")));
    assert.ok(/fn count_hits/.test(limbs) && /override WORKGROUP_SIZE/.test(limbs));
  });

  test("configure clamps to the adapter's limits", () => {
    const cfg = gpu.configure(SWIFTSHADER);
    assert.deepEqual(cfg, {
      workgroupSize: 256,
      workgroupsPerDispatch: 8192,
      blocksPerInvocation: 16384,
      dispatchesPerSubmit: 16,
      paramsStride: 256,
    });
    const small = gpu.configure({ ...SWIFTSHADER, maxComputeWorkgroupsPerDimension: 100, maxComputeInvocationsPerWorkgroup: 128, minUniformBufferOffsetAlignment: 16 });
    assert.equal(small.workgroupsPerDispatch, 100);
    assert.equal(small.workgroupSize, 128);
    assert.equal(small.paramsStride, 32);
    const tiny = gpu.configure({ ...SWIFTSHADER, maxStorageBufferBindingSize: 4 * 16 * 10 });
    assert.equal(tiny.workgroupsPerDispatch, 10, "partials of a submission fit one binding");
    assert.equal(gpu.configure({ ...SWIFTSHADER, maxComputeWorkgroupSizeX: 16 }), null);
    const tuned = gpu.configure(SWIFTSHADER, { blocksPerInvocation: 1e9, dispatchesPerSubmit: 0, workgroupsPerDispatch: 3 });
    assert.equal(tuned.blocksPerInvocation, 16384);
    assert.equal(tuned.dispatchesPerSubmit, 1);
    assert.equal(tuned.workgroupsPerDispatch, 3);
  });

  test("blocks per invocation grow to the cap before a second dispatch", () => {
    const cfg = gpu.configure(SWIFTSHADER);
    const inv = 8192n * 256n;
    assert.equal(gpu.blocksPerInvocationFor(cfg, 1n), 1);
    assert.equal(gpu.blocksPerInvocationFor(cfg, inv), 1);
    assert.equal(gpu.blocksPerInvocationFor(cfg, inv + 1n), 2);
    assert.equal(gpu.blocksPerInvocationFor(cfg, inv * 16384n * 5n), 16384);
    // A full dispatch is 2^35 blocks: one per submission.
    const full = [...gpu.submissions(cfg, 0n, inv * 16384n * 3n)];
    assert.deepEqual(full.map((b) => b.dispatches.length), [1, 1, 1]);
    // Dispatches of 2^31 blocks: 16 per submission (2^35 blocks), then the rest.
    const tuned = gpu.configure(SWIFTSHADER, { blocksPerInvocation: 1024 });
    const batches = [...gpu.submissions(tuned, 0n, inv * 1024n * 40n)];
    assert.deepEqual(batches.map((b) => b.dispatches.length), [16, 16, 8]);
    assert.deepEqual(batches[2].dispatches.map((d) => d.partialOffset).slice(0, 3), [0, 8192, 16384]);
    const huge = gpu.submissions(tuned, 0n, 1n << 62n).next().value;
    assert.equal(huge.dispatches.length, 16, "a submission stops at 2^35 blocks");
  });

  test("a plan replayed as the shader reads it counts exactly the run", () => {
    const cfg = gpu.configure(
      { ...SWIFTSHADER, maxComputeInvocationsPerWorkgroup: 64, maxComputeWorkgroupSizeX: 64 },
      { workgroupsPerDispatch: 3, blocksPerInvocation: 5, dispatchesPerSubmit: 2 },
    );
    const cases = [
      [42n, 0n, 1000n],
      [42n, 1n, 5000n],
      [U64_MAX, (1n << 33n) - 3n, 1001n],
      [7n, U64_MAX - 4000n, 4001n],
      [3n, 17n, 1n],
    ];
    for (const [s, f, n] of cases) {
      const r = replay(cfg, s, f, n);
      assert.equal(r.hits, stream.countHits(s, f, n), `(${s}, ${f}, ${n})`);
      if (n > 4000n) assert.ok(r.submissions > 1 && r.dispatches > 2, "several dispatches and submissions");
    }
    const big = replay(gpu.configure(SWIFTSHADER), 42n, 0n, 1_000_000n);
    assert.equal(big.hits, 785856n);
  });

  test("params carry the base block across 2^32 and past the last block", () => {
    const d = { base: (1n << 32n) + 5n, blocks: 10n, workgroups: 1, fullInvocations: 2, remainder: 0, partialOffset: 7 };
    assert.deepEqual(gpu.paramsWords([1, 2], 5, d), [1, 2, 5, 1, 5, 2, 0, 7]);
  });
});

describe("query string (docs/browser.md)", () => {
  test("a good query", () => {
    const q = parseQuery("?seed=18446744073709551615&first=8589934589&count=1001&run=1");
    assert.equal(q.error, undefined);
    assert.equal(q.seed, U64_MAX);
    assert.equal(q.first, 8589934589n);
    assert.equal(q.count, 1001n);
    assert.equal(q.run, true);
    assert.equal(q.backend, "auto");
  });

  test("defaults: no seed (draw one), first 0, no run", () => {
    const q = parseQuery("");
    assert.equal(q.seed, null);
    assert.equal(q.first, 0n);
    assert.equal(q.run, false);
  });

  const bad = [
    ["seed=abc&count=10&run=1", /^seed: not a decimal integer/],
    ["seed=-1&count=10&run=1", /^seed: not a decimal integer/],
    ["seed=1.5&count=10&run=1", /^seed: not a decimal integer/],
    ["seed=0x10&count=10&run=1", /^seed: not a decimal integer/],
    ["seed=&count=10&run=1", /^seed: not a decimal integer/],
    ["seed=18446744073709551616&count=10&run=1", /^seed: must be at most 2\^64 - 1/],
    ["seed=1&count=0&run=1", /^count: must be at least 1/],
    ["seed=1&count=1e6&run=1", /^count: not a decimal integer: "1e6" \(the query takes plain digits; the form also takes 1e6/],
    ["seed=1&cout=5000&run=1", /^cout: not a parameter of this page \(it takes seed, first, count, run, backend/],
    ["seed=1&count=5&run=1&x", /^x: not a parameter of this page/],
    ["count=5&Seed=1", /^Seed: not a parameter/],
    ["seed=1&count=18446744073709551616&run=1", /^count: must be at most/],
    ["seed=1&first=18446744073709551615&count=2&run=1", /^count: first \+ count = 18446744073709551617 is past 2\^64 \(the last sample is 2\^64 - 1\)$/],
    ["seed=1&first=18446744073709551616&count=1&run=1", /^first: must be at most/],
    ["seed=1&first=x&count=1&run=1", /^first: not a decimal integer/],
    ["seed=1&count=5&run=yes", /^run: must be 1 or 0/],
    ["seed=1&seed=2&count=5&run=1", /^seed: given more than once/],
    ["seed=1&count=5&run=1&backend=cuda", /^backend: must be one of/],
    ["seed=1&count=5&run=1&workgroups=0", /^workgroups: must be between 1/],
  ];
  for (const [query, pattern] of bad) {
    test(`bad: ${query}`, () => {
      const q = parseQuery(query);
      assert.match(q.error ?? "(no error)", pattern);
    });
  }

  test("the Browser page rows of docs/bad-input.md", () => {
    const doc = readFileSync(join(ROOT, "docs", "bad-input.md"), "utf8").split("## Browser page")[1];
    const rows = [...doc.matchAll(/^\| `(\?[^`]*)` \| (\w+) \| `(.*)` \|$/gm)];
    assert.ok(rows.length >= 15, `only ${rows.length} rows`);
    for (const [, query, name, start] of rows) {
      const { error } = parseQuery(query);
      assert.ok(error?.startsWith(`${name}: `), `${query}: ${error}`);
      assert.ok(error.startsWith(start), `${query}: ${error}`);
    }
  });

  test("the last sample alone is a valid run", () => {
    const q = parseQuery("seed=1&first=18446744073709551615&count=1&run=1");
    assert.equal(q.error, undefined);
  });

  test("form counts read as python -m pi reads N", () => {
    assert.equal(parseCount("1e9"), 1_000_000_000n);
    assert.equal(parseCount("2.5e3"), 2500n);
    assert.equal(parseCount("10_000"), 10_000n);
    assert.equal(parseCount(" 1,000 "), 1000n);
    assert.equal(parseCount("18446744073709551615"), U64_MAX);
    for (const t of ["0", "1.5e0", "abc", "", "1e20", "-5"]) assert.ok(parseCount(t) instanceof Error, t);
    assert.match(parseCount("x").message, /^count:/);
    assert.equal(parseSeed(""), null);
    assert.equal(parseSeed("0x2a"), 42n);
    assert.ok(parseSeed("18446744073709551616") instanceof Error);
  });
});

describe("the form, the query and the page's text agree", () => {
  test("runQuery writes what parseQuery reads back", () => {
    const job = { seed: U64_MAX, first: 5n, count: 1_000_000n, backend: "js" };
    assert.equal(runQuery(job), "?seed=18446744073709551615&first=5&count=1000000&backend=js&run=1");
    const q = parseQuery(runQuery(job));
    assert.deepEqual([q.seed, q.first, q.count, q.backend, q.run], [U64_MAX, 5n, 1_000_000n, "js", true]);
    assert.equal(runQuery({ seed: 42n, first: 0n, count: 1000n }), "?seed=42&count=1000&run=1");
    for (const name of new URLSearchParams(runQuery(job)).keys()) assert.ok(PARAMETERS.includes(name), name);
  });

  test("form errors name the field by its label", () => {
    assert.match(parseCount("0", "Samples").message, /^Samples: must be between 1 and 2\^64 - 1: "0"$/);
    assert.match(parseCount("1.5e0", "Samples").message, /^Samples: not a whole number of samples/);
    assert.match(parseSeed("x", "Seed").message, /^Seed: not an integer/);
    assert.match(parseFirst("-1", "First sample").message, /^First sample: not a decimal integer: "-1"$/);
    assert.equal(
      stream.rangeError(U64_MAX, 2n, "First sample", "Samples"),
      "Samples: First sample + Samples = 18446744073709551617 is past 2^64 (the last sample is 2^64 - 1)",
    );
    assert.equal(stream.rangeError(U64_MAX, 1n), null);
  });

  test("the estimate, the command line and the copied result read as python -m pi prints them", () => {
    // python -m pi 1000000 --seed 42: "pi ≈ 3.1434 ± 0.0016", hits 785856.
    assert.equal(estimateText(785856n, 1_000_000n), "π ≈ 3.1434 ± 0.0016");
    assert.equal(groupDigits(1234567n), "1,234,567");
    assert.equal(cliCommand({ seed: null, first: 0n, count: 10n }), "python -m pi 10 --seed S");
    assert.equal(cliCommand({ seed: 1n, first: 5n, count: 10n }), "python -m pi 10 --seed 1 --first 5");
    const result = { hits: "785856", samples: "1000000", seed: "42", first: "0", backend: "js", adapter: "JavaScript in 2 Web Workers", seconds: 0.5 };
    assert.equal(
      resultText(result, "http://127.0.0.1:8000/web/index.html?seed=42&count=1000000&run=1"),
      [
        "π ≈ 3.1434 ± 0.0016",
        "hits 785856 of 1000000 samples from 0, seed 42",
        "backend js: JavaScript in 2 Web Workers, 0.500 s",
        "python -m pi 1000000 --seed 42",
        "http://127.0.0.1:8000/web/index.html?seed=42&count=1000000&run=1",
      ].join("\n"),
    );
  });

  test("chunks aim at a fifth of a second, grow at most fourfold and stay even", () => {
    assert.equal(nextChunk(1024n, 1), 1024n);
    assert.equal(nextChunk(1024n, 1e-6), 4096n);
    assert.equal(nextChunk(1_000_000n, 0.1), 2_000_000n);
    assert.equal(nextChunk(1001n, 0.0001) % 2n, 0n);
  });
});

describe("the plot's y range (web/plot.js)", () => {
  /** The running estimate of a real run: (42, 0, n) at n = 1e3 .. 1e8 (hits from the library). */
  const points = [
    [1e3, 794],
    [1e6, 785856],
  ].map(([n, hits]) => {
    const { pi, stdError } = stream.estimate(BigInt(hits), BigInt(n));
    return { n, pi, se: stdError };
  });

  test("up to 10^6 samples it covers every point's band", () => {
    const [lo, hi] = yRange(points);
    for (const p of points) assert.ok(lo <= p.pi - 2 * p.se && p.pi + 2 * p.se <= hi);
    assert.ok(hi - lo > 0.2, "the first point at 1e3 samples is far from pi");
  });

  test("past 10^6 samples it zooms to the band of the last two decades", () => {
    const tail = [1e7, 1e8, 1e9].map((n) => ({ n, pi: Math.PI + 1e-5, se: 1.6 / Math.sqrt(n) }));
    const all = [...points, ...tail];
    const [lo, hi] = yRange(all);
    const half = (hi - lo) / 2;
    assert.ok(all[all.length - 1].n > ZOOM_FROM);
    // Set by the point at 1e7 (the last two decades start there): 1e-5 + 2 * 5.06e-4, plus 8 %.
    assert.ok(Math.abs(half - (1e-5 + 2 * tail[0].se) * 1.08) < 1e-12, `half ${half}`);
    assert.ok(half < 0.002, "the early points no longer set the range");
  });

  test("an empty plot shows pi plus or minus 0.002", () => {
    const [lo, hi] = yRange([]);
    assert.ok(Math.abs(hi - lo - 2 * 0.002 * 1.08) < 1e-12);
  });
});
