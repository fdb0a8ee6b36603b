// Browser tests of web/index.html in headless Chromium: exact counts on WebGPU (SwiftShader) and on the JavaScript fallback, bad queries, Stop, keyboard and focus, form errors, the address and Copy result, announcements, contrast, layout and a screenshot.

import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";

import { browserUnavailable, launch, requirePart, ROOT, runPage, serve, skipUnless } from "./_browser.js";
import { pythonHits } from "./_reference.js";

const U64_MAX = (1n << 64n) - 1n;
/** Every hook ends in time too: starting or stopping Chromium and the server. */
const HOOK = { timeout: 90_000 };
const WHY = await browserUnavailable();

/** Runs with hits known from the library (python -m pi) and odd ends checked against Python. */
const KNOWN = [
  [42n, 0n, 1000n, 794n],
  [42n, 0n, 1_000_000n, 785856n],
  [U64_MAX, (1n << 33n) - 3n, 1001n, 791n],
];
const ODD_ENDS = [
  [0n, 0n, 1n],
  [7n, 3n, 10_000n],
  [7n, 3n, 9_999n],
  [42n, 999n, 12_345n],
  [U64_MAX, (1n << 33n) - 4n, 1000n],
  [123456789012345678n, U64_MAX - 1000n, 1001n],
  [1n, U64_MAX, 1n],
  [0xdeadbeefn, (1n << 40n) + 1n, 4097n],
];

const BAD = [
  ["seed=abc&count=10&run=1", /^seed: /],
  ["seed=18446744073709551616&count=10&run=1", /^seed: .*2\^64 - 1/],
  ["seed=1&count=0&run=1", /^count: .*at least 1/],
  ["seed=1&count=1.5&run=1", /^count: not a decimal integer/],
  ["seed=1&first=18446744073709551615&count=2&run=1", /^count: first \+ count .* past 2\^64/],
  ["seed=1&first=-3&count=2&run=1", /^first: not a decimal integer/],
  // A typo must not run the default 10,000,000 samples.
  ["seed=1&cout=5000&run=1", /^cout: not a parameter of this page/],
  ["seed=1&count=1e6&run=1", /^count: not a decimal integer: "1e6" \(the query takes plain digits/],
];

const query = (seed, first, count, extra = "") => `seed=${seed}&first=${first}&count=${count}&run=1${extra}`;

/** The suite for one browser set-up: `webgpu` true means SwiftShader through --enable-unsafe-webgpu. */
function pageSuite(name, { webgpu, backend }) {
  describe(name, skipUnless(WHY), () => {
    let server;
    let chrome;
    const url = (q) => `${server.url}/web/index.html?${q}`;

    before(async () => {
      requirePart(WHY);
      server = await serve();
      chrome = await launch({ webgpu });
    }, HOOK);
    after(async () => {
      await chrome?.close();
      await server?.close();
    }, HOOK);

    /** Loads a query, asserts it gave a result (not an error) and returns it. */
    async function result(q, ms = 60_000) {
      const { result, error, page } = await runPage(chrome.browser, url(q), ms);
      await page.close();
      assert.equal(error, undefined, `piError for ${q}`);
      assert.ok(result, `no piResult for ${q}`);
      assert.equal(result.backend, backend);
      assert.equal(typeof result.adapter, "string");
      assert.ok(result.adapter.length > 0);
      assert.ok(typeof result.seconds === "number" && result.seconds >= 0);
      return result;
    }

    for (const [s, f, n, hits] of KNOWN) {
      test(`(${s}, ${f}, ${n}) -> ${hits}`, { timeout: 120_000 }, async () => {
        const r = await result(query(s, f, n));
        assert.deepEqual(
          { hits: r.hits, samples: r.samples, seed: r.seed, first: r.first },
          { hits: String(hits), samples: String(n), seed: String(s), first: String(f) },
        );
      });
    }

    test("odd first and count ends, block 2^32 and the end of the stream match the Python reference", { timeout: 180_000 }, async () => {
      const want = pythonHits(ODD_ENDS);
      for (const [k, [s, f, n]] of ODD_ENDS.entries()) {
        const r = await result(query(s, f, n));
        assert.equal(r.hits, String(want[k]), `(${s}, ${f}, ${n})`);
      }
    });

    for (const [q, pattern] of BAD) {
      test(`bad query ${q} sets piError naming the parameter, and no result`, { timeout: 60_000 }, async () => {
        const { result, error, page } = await runPage(chrome.browser, url(q));
        // Give a wrongly started run time to finish: there must still be no result.
        await page.waitForTimeout(300);
        const late = await page.evaluate(() => window.piResult);
        await page.close();
        assert.match(error ?? "(none)", pattern);
        assert.equal(result, undefined);
        assert.equal(late, undefined);
      });
    }

    test("no seed draws one with crypto.getRandomValues and reports it", { timeout: 60_000 }, async () => {
      const { result, page } = await runPage(chrome.browser, url("count=2000&run=1"));
      const shown = await page.inputValue("#seed");
      await page.close();
      assert.match(result.seed, /^[0-9]+$/);
      assert.equal(shown, result.seed);
      assert.equal(result.hits, String(pythonHits([[BigInt(result.seed), 0n, 2000n]])[0]));
    });

    test("the form, from the keyboard, shows the numbers python -m pi prints, and the address names the run", { timeout: 60_000 }, async () => {
      const context = chrome.browser.contexts()[0];
      const page = await context.newPage();
      await page.goto(url(""));
      await page.focus("#seed");
      await page.keyboard.type("42");
      await page.keyboard.press("Tab");
      await page.keyboard.press("Control+A");
      await page.keyboard.type("1e6");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => document.querySelector("#status").textContent.startsWith("Done"), null, { timeout: 50_000 });
      const state = await page.evaluate(() => ({
        estimate: document.querySelector("#estimate").textContent,
        hits: document.querySelector("#hits").textContent,
        cli: document.querySelector("#cli").textContent,
        search: location.search,
        copy: document.querySelector("#copy").disabled,
      }));
      await page.close();
      // python -m pi 1000000 --seed 42: "pi ≈ 3.1434 ± 0.0016", hits 785856.
      assert.deepEqual(state, {
        estimate: "π ≈ 3.1434 ± 0.0016",
        hits: "785,856 of 1,000,000 samples",
        cli: "python -m pi 1000000 --seed 42",
        search: "?seed=42&count=1000000&run=1",
        copy: false,
      });
    });

    test("the address of a form run reruns it: the same hits", { timeout: 60_000 }, async () => {
      const page = await chrome.browser.contexts()[0].newPage();
      await page.goto(url("count=3000"));
      await page.click("summary");
      await page.fill("#first", "7");
      await page.click("#run");
      await page.waitForFunction(() => document.querySelector("#status").textContent.startsWith("Done"), null, { timeout: 50_000 });
      const seed = await page.inputValue("#seed");
      const search = await page.evaluate(() => location.search);
      await page.close();
      assert.equal(search, `?seed=${seed}&first=7&count=3000&run=1`);
      const r = await result(search.slice(1));
      assert.equal(r.hits, String(pythonHits([[BigInt(seed), 7n, 3000n]])[0]));
    });

    test("Copy result copies the estimate, the hits, the command and the address", { timeout: 60_000 }, async () => {
      const page = await chrome.browser.contexts()[0].newPage();
      await page.addInitScript(() => {
        window.copied = [];
        Object.defineProperty(Navigator.prototype, "clipboard", {
          get: () => ({ writeText: async (text) => void window.copied.push(text) }),
          configurable: true,
        });
      });
      await page.goto(url("seed=42&count=1000"));
      assert.equal(await page.isDisabled("#copy"), true, "nothing to copy before a run");
      await page.click("#run");
      await page.waitForFunction(() => !document.querySelector("#copy").disabled, null, { timeout: 50_000 });
      await page.click("#copy");
      await page.waitForFunction(() => window.copied.length > 0, null, { timeout: 5_000 });
      const { copied, href, said } = await page.evaluate(() => ({
        copied: window.copied,
        href: location.href,
        said: document.querySelector("#copied").textContent,
      }));
      await page.close();
      const lines = copied[0].split("\n");
      assert.equal(lines.length, 5);
      assert.equal(lines[0], "π ≈ 3.176 ± 0.051"); // python -m pi 1000 --seed 42: "pi ≈ 3.176 ± 0.051"
      assert.equal(lines[1], "hits 794 of 1000 samples from 0, seed 42");
      assert.match(lines[2], new RegExp(`^backend ${backend}: .+, [0-9.]+ s$`));
      assert.equal(lines[3], "python -m pi 1000 --seed 42");
      assert.equal(lines[4], href);
      assert.ok(href.endsWith("/web/index.html?seed=42&count=1000&run=1"), href);
      assert.equal(said, "Copied.");
    });

    test("a query's first sample opens More and joins the command line", { timeout: 30_000 }, async () => {
      const page = await chrome.browser.contexts()[0].newPage();
      const ready = () => document.querySelector("#status").textContent === "Ready.";
      await page.goto(url("seed=7&first=5&count=100"));
      await page.waitForFunction(ready, null, { timeout: 10_000 });
      const state = await page.evaluate(() => ({
        open: document.querySelector("#more").open,
        first: document.querySelector("#first").value,
        cli: document.querySelector("#cli").textContent,
      }));
      await page.goto(url("seed=7&count=100"));
      await page.waitForFunction(ready, null, { timeout: 10_000 });
      const closed = await page.evaluate(() => !document.querySelector("#more").open);
      await page.close();
      assert.deepEqual(state, { open: true, first: "5", cli: "python -m pi 100 --seed 7 --first 5" });
      assert.ok(closed, "More stays closed when its fields hold their defaults");
    });

    test("a bad form value marks its field, names it by its label, takes the focus and clears the old result", { timeout: 60_000 }, async () => {
      const page = await chrome.browser.contexts()[0].newPage();
      const done = () => document.querySelector("#status").textContent.startsWith("Done");
      await page.goto(url("seed=42&count=1000"));
      await page.click("#run");
      await page.waitForFunction(done, null, { timeout: 50_000 });
      await page.fill("#count", "0");
      await page.click("#run");
      const bad = await page.evaluate(() => ({
        message: document.querySelector("#error").textContent,
        invalid: [...document.querySelectorAll("[aria-invalid=true]")].map((el) => el.id),
        describedby: document.querySelector("#count").getAttribute("aria-describedby"),
        focused: document.activeElement.id,
        status: document.querySelector("#status").textContent,
        estimate: document.querySelector("#estimate").textContent,
        hits: document.querySelector("#hits").textContent,
        copy: document.querySelector("#copy").disabled,
      }));
      // A bad first sample: marked, and "More" opened to show it.
      await page.fill("#count", "1000");
      await page.evaluate(() => (document.querySelector("#more").open = false));
      await page.evaluate(() => (document.querySelector("#first").value = "abc"));
      await page.click("#run");
      const first = await page.evaluate(() => ({
        message: document.querySelector("#error").textContent,
        invalid: [...document.querySelectorAll("[aria-invalid=true]")].map((el) => el.id),
        focused: document.activeElement.id,
        open: document.querySelector("#more").open,
      }));
      // Fixed: the marks go, the run runs.
      await page.fill("#first", "0");
      await page.click("#run");
      await page.waitForFunction(done, null, { timeout: 50_000 });
      const fixed = await page.evaluate(() => ({
        invalid: document.querySelectorAll("[aria-invalid]").length,
        error: document.querySelector("#error").hidden,
        describedby: document.querySelector("#count").getAttribute("aria-describedby"),
      }));
      await page.close();
      assert.deepEqual(bad, {
        message: 'Samples: must be between 1 and 2^64 - 1: "0"',
        invalid: ["count"],
        describedby: "count-hint error",
        focused: "count",
        status: "Not run: Samples is not valid.",
        estimate: "π ≈ …",
        hits: "–",
        copy: true,
      });
      assert.deepEqual(first, {
        message: 'First sample: not a decimal integer: "abc"',
        invalid: ["first"],
        focused: "first",
        open: true,
      });
      assert.deepEqual(fixed, { invalid: 0, error: true, describedby: "count-hint" });
    });

    test("Enter in Samples moves the focus to Stop, and back when the run ends", { timeout: 60_000 }, async () => {
      const page = await chrome.browser.contexts()[0].newPage();
      const progressing = () => Number(document.querySelector("#progress").value) > 0;
      const stopped = () => document.querySelector("#status").textContent.startsWith("Stopped");
      await page.goto(url("seed=1&count=1000000000000"));
      await page.focus("#count");
      await page.keyboard.press("Enter");
      await page.waitForFunction(progressing, null, { timeout: 30_000 });
      const during = await page.evaluate(() => document.activeElement.id);
      await page.keyboard.press("Escape");
      await page.waitForFunction(stopped, null, { timeout: 5_000 });
      const after = await page.evaluate(() => document.activeElement.id);
      // Stop pressed with the keyboard (Enter on the focused button): back to Samples too.
      await page.keyboard.press("Enter");
      await page.waitForFunction(progressing, null, { timeout: 30_000 });
      await page.keyboard.press("Enter");
      await page.waitForFunction(stopped, null, { timeout: 5_000 });
      const afterStop = await page.evaluate(() => document.activeElement.id);
      await page.close();
      assert.deepEqual([during, after, afterStop], ["stop", "count", "count"]);
    });

    test("Stop ends a long run at once; the page stays responsive meanwhile", { timeout: 60_000 }, async () => {
      const page = await chrome.browser.contexts()[0].newPage();
      await page.goto(url("seed=1&count=1000000000000"));
      await page.click("#run");
      await page.waitForFunction(() => Number(document.querySelector("#progress").value) > 0, null, { timeout: 30_000 });
      const t0 = Date.now();
      const title = await page.evaluate(() => document.title);
      const evalMs = Date.now() - t0;
      assert.match(title, /π/);
      assert.ok(evalMs < 2000, `the main thread answered after ${evalMs} ms`);
      await page.keyboard.press("Escape");
      await page.waitForFunction(() => document.querySelector("#status").textContent.startsWith("Stopped"), null, { timeout: 5_000 });
      const state = await page.evaluate(() => ({
        result: window.piResult,
        run: document.querySelector("#run").disabled,
        stop: document.querySelector("#stop").disabled,
      }));
      await page.close();
      assert.deepEqual(state, { result: undefined, run: false, stop: true });
    });

    test("a run=1 run that is stopped sets piError saying so, and no result", { timeout: 60_000 }, async () => {
      const page = await chrome.browser.contexts()[0].newPage();
      await page.goto(url(query(1n, 0n, 1_000_000_000_000n)));
      await page.waitForFunction(() => Number(document.querySelector("#progress").value) > 0, null, { timeout: 30_000 });
      await page.keyboard.press("Escape");
      await page.waitForFunction(() => window.piError !== undefined, null, { timeout: 5_000, polling: 50 });
      await page.waitForTimeout(300);
      const { result, error } = await page.evaluate(() => ({ result: window.piResult, error: window.piError }));
      await page.close();
      assert.match(error, /^run: stopped by the user after [0-9]+ of 1000000000000 samples$/);
      assert.equal(result, undefined);
    });

    test("only a run's start and end are announced, not every progress tick", { timeout: 60_000 }, async () => {
      const page = await chrome.browser.contexts()[0].newPage();
      await page.addInitScript(() => {
        window.changes = [];
        new MutationObserver((records) => {
          for (const r of records) {
            const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
            if (el?.id) window.changes.push([el.id, el.textContent]);
          }
        }).observe(document, { subtree: true, childList: true, characterData: true });
      });
      const n = webgpu ? 30_000_000n : 3_000_000n;
      await page.goto(url(query(3n, 0n, n)));
      await page.waitForFunction(() => window.piResult || window.piError, null, { timeout: 50_000, polling: 100 });
      const { changes, live } = await page.evaluate(() => ({
        changes: window.changes,
        live: [...document.querySelectorAll("[aria-live], [role=status], [role=alert], [role=log]")].map((el) => el.id),
      }));
      await page.close();
      const texts = (id) => changes.filter(([i]) => i === id).map(([, t]) => t);
      assert.ok(!live.includes("status"), `the ticking status line is not live: ${live}`);
      assert.ok(texts("status").length >= 4, `the run had only ${texts("status").length} status updates`);
      assert.equal(texts("announce").length, 2, JSON.stringify(texts("announce")));
      assert.equal(texts("announce")[0], `Running ${n.toLocaleString("en-US")} samples…`);
      assert.match(texts("announce")[1], /^Done: /);
    });

    test("the Run button's text has at least 4.5:1 contrast, light and dark", { timeout: 30_000 }, async () => {
      const page = await chrome.browser.contexts()[0].newPage();
      await page.goto(url(""));
      const ratios = {};
      for (const scheme of ["light", "dark"]) {
        await page.emulateMedia({ colorScheme: scheme });
        ratios[scheme] = await page.evaluate(() => {
          const style = getComputedStyle(document.querySelector("#run"));
          const luminance = (css) => {
            const [r, g, b] = css.match(/[0-9.]+/g).slice(0, 3).map((v) => Number(v) / 255);
            const lin = (c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
            return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
          };
          const [a, b] = [luminance(style.color), luminance(style.backgroundColor)].sort((x, y) => y - x);
          return (a + 0.05) / (b + 0.05);
        });
      }
      await page.close();
      assert.ok(ratios.light >= 4.5 && ratios.dark >= 4.5, JSON.stringify(ratios));
      assert.ok(ratios.dark > 7, `dark ${ratios.dark}`);
    });

    test("a phone-sized screen needs no sideways scrolling", { timeout: 60_000 }, async () => {
      const { result, page } = await runPage(chrome.browser, url(query(42n, 0n, 100_000n)), 60_000, { width: 375, height: 740 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      await page.close();
      assert.ok(result);
      assert.ok(overflow <= 0, `${overflow} px wider than the screen`);
    });

    test("a screenshot after a run is not blank", { timeout: 120_000 }, async () => {
      const { result, page } = await runPage(chrome.browser, url(query(42n, 0n, webgpu ? 20_000_000n : 3_000_000n)), 100_000, {
        width: 900,
        height: 1000,
      });
      assert.ok(result);
      const png = await page.screenshot({ fullPage: true });
      await page.close();
      if (process.env.PI_WEB_SCREENSHOT && webgpu) writeFileSync(process.env.PI_WEB_SCREENSHOT, png);
      // Decode it in a blank page: how many colours, how much is not background.
      const viewer = await chrome.browser.contexts()[0].newPage();
      const stats = await viewer.evaluate(async (b64) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const c = document.createElement("canvas");
        c.width = img.width;
        c.height = img.height;
        const ctx = c.getContext("2d");
        ctx.drawImage(img, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        const bg = [d[0], d[1], d[2]];
        const colours = new Set();
        let ink = 0;
        for (let i = 0; i < d.length; i += 4) {
          colours.add((d[i] >> 3) * 1024 + (d[i + 1] >> 3) * 32 + (d[i + 2] >> 3));
          if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > 60) ink++;
        }
        return { width: c.width, height: c.height, colours: colours.size, ink: ink / (d.length / 4) };
      }, png.toString("base64"));
      await viewer.close();
      assert.ok(stats.width >= 800 && stats.height >= 900, JSON.stringify(stats));
      assert.ok(stats.colours >= 20, `only ${stats.colours} colours`);
      assert.ok(stats.ink > 0.03, `only ${(stats.ink * 100).toFixed(1)} % ink`);
    });

    if (webgpu) {
      test("(42, 0, 123456789) -> 96964650 on WebGPU", { timeout: 400_000 }, async () => {
        const r = await result(query(42n, 0n, 123456789n), 380_000);
        assert.equal(r.hits, "96964650");
        console.log(`# WebGPU ${r.adapter}: 123456789 samples in ${r.seconds.toFixed(2)} s, ${(123456789 / r.seconds).toExponential(2)} samples/s`);
      });

      test("many dispatches and submissions (tuned small) still count exactly", { timeout: 120_000 }, async () => {
        const [s, f, n] = [5n, 3n, 100_001n];
        const want = pythonHits([[s, f, n]])[0];
        const r = await result(query(s, f, n, "&workgroups=3&per_invocation=5&dispatches=2"), 100_000);
        assert.equal(r.hits, String(want));
      });

      test("without navigator.gpu the page counts in JavaScript and says why", { timeout: 60_000 }, async () => {
        const page = await chrome.browser.contexts()[0].newPage();
        await page.addInitScript(() => {
          Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined, configurable: true });
        });
        await page.goto(url(query(U64_MAX, (1n << 33n) - 3n, 1001n)));
        await page.waitForFunction(() => window.piResult || window.piError, null, { timeout: 50_000, polling: 100 });
        const state = await page.evaluate(() => ({
          result: window.piResult,
          note: document.querySelector("#note").textContent,
          noteRole: document.querySelector("#note").getAttribute("role"),
          errorShown: !document.querySelector("#error").hidden,
          hasGpu: "gpu" in navigator && navigator.gpu !== undefined,
        }));
        await page.close();
        assert.equal(state.hasGpu, false);
        assert.equal(state.result.backend, "js");
        assert.equal(state.result.hits, "791");
        // Information, not an error: the note, not the alert box.
        assert.match(state.note, /no WebGPU \(navigator\.gpu\); counting in JavaScript/);
        assert.equal(state.noteRole, null);
        assert.equal(state.errorShown, false);
      });

      test("backend=js on a WebGPU browser counts in JavaScript", { timeout: 60_000 }, async () => {
        const { result: r, page } = await runPage(chrome.browser, url(query(42n, 0n, 1000n, "&backend=js")));
        await page.close();
        assert.equal(r.backend, "js");
        assert.equal(r.hits, "794");
      });
    } else {
      test("backend=webgpu without an adapter is an error, not a fallback", { timeout: 60_000 }, async () => {
        const { result: r, error, page } = await runPage(chrome.browser, url(query(42n, 0n, 1000n, "&backend=webgpu")));
        await page.close();
        assert.equal(r, undefined);
        assert.match(error, /backend: WebGPU asked for/);
      });
    }
  });
}

pageSuite("page on WebGPU (SwiftShader, --enable-unsafe-webgpu)", { webgpu: true, backend: "webgpu" });
pageSuite("page without WebGPU (JavaScript fallback)", { webgpu: false, backend: "js" });

/** Why lavapipe (Mesa's software Vulkan) is not here, or null. */
function lavapipeMissing() {
  const dirs = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"];
  const found = dirs.some((d) => existsSync(d) && readdirSync(d).some((f) => f.startsWith("lvp_icd")));
  return found ? null : "no lavapipe (apt-get install mesa-vulkan-drivers libvulkan1)";
}

const LAVAPIPE_WHY = WHY ?? lavapipeMissing();

describe("page on lavapipe through ANGLE (WebGPU compatibility mode)", skipUnless(LAVAPIPE_WHY), () => {
  let server;
  let chrome;
  before(async () => {
    requirePart(LAVAPIPE_WHY);
    server = await serve();
    chrome = await launch({ webgpu: true, extraFlags: ["--use-angle=vulkan", "--use-webgpu-adapter=opengles"] });
  }, HOOK);
  after(async () => {
    await chrome?.close();
    await server?.close();
  }, HOOK);

  test("reference runs and odd ends give the library's hits on a non-fallback adapter", { timeout: 180_000 }, async () => {
    const want = pythonHits(ODD_ENDS);
    const cases = [...KNOWN, ...ODD_ENDS.map((c, k) => [...c, want[k]])];
    for (const [s, f, n, hits] of cases) {
      const { result, error, page } = await runPage(chrome.browser, `${server.url}/web/index.html?${query(s, f, n)}`, 120_000);
      await page.close();
      assert.equal(error, undefined);
      assert.equal(result.backend, "webgpu");
      assert.doesNotMatch(result.adapter, /fallback/, "lavapipe, not SwiftShader");
      assert.equal(result.hits, String(hits), `(${s}, ${f}, ${n})`);
    }
  });
});

describe("page opened as a file:// URL", skipUnless(WHY), () => {
  let chrome;
  before(async () => {
    requirePart(WHY);
    chrome = await launch({ webgpu: false });
  }, HOOK);
  after(async () => {
    await chrome?.close();
  }, HOOK);

  test("says to serve it, and sets piError instead of waiting forever", { timeout: 60_000 }, async () => {
    const { result, error, page } = await runPage(chrome.browser, `file://${ROOT}/web/index.html?seed=1&count=10&run=1`, 30_000);
    const state = await page.evaluate(() => ({
      shown: !document.querySelector("#error").hidden,
      message: document.querySelector("#error").textContent,
      run: document.querySelector("#run").disabled,
    }));
    await page.close();
    assert.equal(result, undefined);
    assert.match(error, /^page: opened as a file:\/\/ URL; serve it over HTTP \(python -m pi web\)$/);
    assert.ok(state.shown);
    assert.match(state.message, /python -m pi web/);
    assert.equal(state.run, true);
  });
});
