// Test helpers for the browser tests: the one skip-or-fail rule, a static HTTP server, Chromium started by hand and attached over CDP.
//
// Chromium is Debian's /usr/bin/chromium (or $PI_CHROMIUM), started headless with BASE_FLAGS
// (no sandbox, which containers lack; WebGPU's SwiftShader adapter only with
// --enable-unsafe-webgpu) and a fresh profile, then attached with playwright-core's
// connectOverCDP. Every wait has a deadline.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** PI_REQUIRE_ALL=1: a missing optional part fails the tests instead of skipping them. */
export const REQUIRE_ALL = !["", "0", undefined].includes(process.env.PI_REQUIRE_ALL);

/**
 * The one rule for a missing optional part: returns node:test options that skip the test
 * (or suite) with `reason`, or, under PI_REQUIRE_ALL=1, run it so that it fails at once.
 * With no reason it returns {} (run normally).
 */
export function skipUnless(reason) {
  if (!reason) return {};
  if (REQUIRE_ALL) return {};
  return { skip: reason };
}

/** Fails the running test with `reason` when a part is missing (reached only under PI_REQUIRE_ALL=1). */
export function requirePart(reason) {
  if (reason) throw new Error(`PI_REQUIRE_ALL=1 but ${reason}`);
}

/** The Chromium executable, or null: $PI_CHROMIUM when set (only it), else Debian's. */
export function chromiumPath() {
  const candidates = process.env.PI_CHROMIUM ? [process.env.PI_CHROMIUM] : ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** Why the browser tests cannot run here, or null when they can. */
export async function browserUnavailable() {
  if (!chromiumPath()) return `no Chromium at ${process.env.PI_CHROMIUM || "/usr/bin/chromium"} (apt-get install chromium, or set PI_CHROMIUM)`;
  try {
    await import("playwright-core");
  } catch {
    return "no playwright-core (npm ci at the repository root)";
  }
  const py = spawnSync("python3", ["--version"]);
  if (py.error || py.status !== 0) return "no python3 (serves the page)";
  return null;
}

/** Resolves with the first match of `pattern` in the child's `stream`, or rejects after `ms`. */
function waitForLine(child, stream, pattern, ms, what) {
  return new Promise((resolvePromise, reject) => {
    let seen = "";
    const timer = setTimeout(() => {
      reject(new Error(`${what}: nothing matching ${pattern} within ${ms} ms; output:\n${seen.slice(-2000)}`));
    }, ms);
    const onData = (data) => {
      seen += data.toString();
      const m = pattern.exec(seen);
      if (m) {
        clearTimeout(timer);
        child[stream].off("data", onData);
        resolvePromise(m);
      }
    };
    child[stream].on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready; output:\n${seen.slice(-2000)}`));
    });
  });
}

/**
 * Serves `root` over HTTP on 127.0.0.1 with `command` (default: python3 -m http.server on a
 * free port). Returns {url, close}. `ready` is the pattern whose first group is the port.
 */
export async function serve({
  root = ROOT,
  command = ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", root],
  ready = /port (\d+)/,
  stream = "stdout",
  env = {},
} = {}) {
  const child = spawn(command[0], command.slice(1), {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1", ...env },
  });
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  // Keep the pipes drained: a full pipe would block the server.
  child.stderr.on("data", () => {});
  child.stdout.on("data", () => {});
  const m = await waitForLine(child, stream, ready, 20_000, command.join(" "));
  return {
    url: `http://127.0.0.1:${m[1]}`,
    child,
    close: () => stop(child),
  };
}

/**
 * Ends a child we started (SIGTERM, then SIGKILL after a second) and waits for it. A child
 * spawned `detached` leads its own process group, and the whole group gets the signals.
 */
export function stop(child) {
  const signal = (name) => {
    try {
      if (child.pid && isGroupLeader(child)) process.kill(-child.pid, name);
      else child.kill(name);
    } catch {
      // Already gone.
    }
  };
  const exited = child.exitCode !== null || child.signalCode !== null;
  if (exited) {
    signal("SIGKILL"); // helpers of an exited leader
    return Promise.resolve();
  }
  return new Promise((resolvePromise) => {
    const kill = setTimeout(() => signal("SIGKILL"), 1000);
    child.once("exit", () => {
      clearTimeout(kill);
      signal("SIGKILL");
      // Give the killed helpers a moment to go before the caller removes their files.
      setTimeout(resolvePromise, 200);
    });
    signal("SIGTERM");
  });
}

/** Children spawned with `detached: true` (marked by launch) lead their own process group. */
const groupLeaders = new WeakSet();
const isGroupLeader = (child) => groupLeaders.has(child);

/** Flags for every Chromium we start: headless, no sandbox (containers), nothing fetched from the network. */
const BASE_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--disable-dev-shm-usage",
  "--remote-debugging-port=0",
];

/**
 * Removes a Chromium profile folder. Chromium's helper processes may still write to it for a
 * moment after the browser exits, so removal is retried; a leftover temporary folder is not
 * a test failure.
 */
function removeProfile(profile) {
  try {
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch (e) {
    console.error(`# could not remove ${profile}: ${e.message}`);
  }
}

/**
 * Starts Chromium (with WebGPU's SwiftShader adapter when `webgpu` is true, with no WebGPU
 * adapter otherwise, plus any `extraFlags`) and attaches to it. Returns {browser, close}.
 */
export async function launch({ webgpu, extraFlags = [] }) {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "pi-web-chromium-"));
  const flags = [...BASE_FLAGS, `--user-data-dir=${profile}`, ...(webgpu ? ["--enable-unsafe-webgpu"] : []), ...extraFlags];
  // Its own process group, so that stop() ends its helper processes with it.
  const child = spawn(chromiumPath(), [...flags, "about:blank"], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR || profile },
  });
  groupLeaders.add(child);
  child.stdout.on("data", () => {});
  child.stderr.setEncoding("utf8");
  let browser;
  try {
    const m = await waitForLine(child, "stderr", /DevTools listening on (ws:\/\/\S+)/, 30_000, "chromium");
    child.stderr.on("data", () => {});
    browser = await chromium.connectOverCDP(m[1], { timeout: 30_000 });
  } catch (e) {
    await stop(child);
    removeProfile(profile);
    throw e;
  }
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      await stop(child);
      removeProfile(profile);
    },
  };
}

/**
 * Opens `url` in a fresh page and waits (at most `ms`) until it sets window.piResult or
 * window.piError. Returns {result, error, page}; the caller closes the page.
 */
export async function runPage(browser, url, ms = 60_000, viewport = { width: 1000, height: 900 }) {
  const context = browser.contexts()[0] ?? (await browser.newContext());
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  const consoleErrors = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(msg.text());
  });
  page.on("pageerror", (err) => consoleErrors.push(String(err)));
  await page.goto(url, { timeout: ms });
  try {
    await page.waitForFunction(() => window.piResult !== undefined || window.piError !== undefined, null, {
      timeout: ms,
      polling: 100,
    });
  } catch (e) {
    const status = await page.textContent("#status").catch(() => "?");
    await page.close();
    throw new Error(`${url}: no piResult or piError within ${ms} ms (status: ${status}; console: ${consoleErrors.join(" | ")})`);
  }
  const { result, error } = await page.evaluate(() => ({ result: window.piResult, error: window.piError }));
  return { result, error, page, consoleErrors };
}
