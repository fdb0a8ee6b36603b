// Expected hits for the web tests, computed at test time by the pure-Python reference stream (python/pi/_stream.py).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

import { ROOT } from "./_browser.js";

/**
 * Hits of each [seed, first, count] (BigInt or decimal) by python/pi/_stream.py, loaded from
 * its file (no native library needed), as BigInts. Cheap runs only: it draws ~1e6 samples/s.
 */
export function pythonHits(cases) {
  const code = [
    "import importlib.util, json, sys",
    "spec = importlib.util.spec_from_file_location('_stream', sys.argv[1])",
    "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)",
    "cases = json.loads(sys.stdin.read())",
    "print(json.dumps([str(m.count_hits(int(s), int(f), int(n))) for s, f, n in cases]))",
  ].join("\n");
  const r = spawnSync("python3", ["-c", code, join(ROOT, "python", "pi", "_stream.py")], {
    input: JSON.stringify(cases.map((c) => c.map(String))),
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `python3 reference failed: ${r.error ?? r.stderr}`);
  return JSON.parse(r.stdout).map(BigInt);
}
