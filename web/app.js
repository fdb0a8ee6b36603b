// The page's DOM: reads the form or the query string, runs web/counting.js's Run, and shows its progress, the estimate and the plot.
//
// For programs (docs/browser.md, "The query string"): ?seed=S&first=F&count=N&run=1 runs at
// load and sets window.piResult = {hits, samples, seed, first, backend, adapter, seconds} (the
// first four as decimal strings); a bad query, or a run stopped before its end, sets
// window.piError to a message naming the parameter (or saying it was stopped), and no result.

import { Run, Stopped } from "./counting.js";
import { cliCommand, estimateText, formatRate, groupDigits, resultText } from "./format.js";
import { parseCount, parseFirst, parseQuery, parseSeed, runQuery } from "./query.js";
import { drawPlot } from "./plot.js";
import { estimate, rangeError } from "./stream.js";

const $ = (id) => document.getElementById(id);

/** The form's fields: their ids, as the label names them in messages. */
const FIELDS = { seed: "Seed", count: "Samples", first: "First sample", backend: "Backend" };

const ui = {
  /** The run in progress, or null. */
  run: null,
  /** Where the keyboard focus was when a run took it to Stop, given back at the end. */
  returnFocus: null,
  /** The last finished run's result, for "Copy result". */
  result: null,
  /** What the plot shows, redrawn when the window's size changes. */
  plot: { points: [], total: 10_000_000n },
};

function redraw() {
  drawPlot($("plot"), ui.plot.points, ui.plot.total);
}

/** Shows `text` in `id` (hidden when empty); unchanged text is not rewritten, so not re-announced. */
function show(id, text) {
  const el = $(id);
  if (el.textContent !== text) el.textContent = text;
  el.hidden = !text;
}

/** Tells assistive technology once, through the page's one polite live region: a run's start and end. */
function announce(text) {
  $("announce").textContent = text;
}

/** Marks a form field as the one at fault (aria-invalid, described by the error too), or none. */
function markField(id) {
  for (const name of Object.keys(FIELDS)) {
    const el = $(name);
    // The field's own description (a hint), kept from the page as written.
    el.dataset.hint ??= el.getAttribute("aria-describedby") ?? "";
    const ids = name === id ? `${el.dataset.hint} error`.trim() : el.dataset.hint;
    if (name === id) el.setAttribute("aria-invalid", "true");
    else el.removeAttribute("aria-invalid");
    if (ids) el.setAttribute("aria-describedby", ids);
    else el.removeAttribute("aria-describedby");
  }
}

/** Sets the buttons and fields for a run starting or ending, moving the focus to Stop and back. */
function setRunning(running) {
  const focused = document.activeElement;
  $("stop").disabled = !running;
  if (running && $("form").contains(focused)) {
    ui.returnFocus = focused;
    $("stop").focus();
  }
  $("run").disabled = running;
  for (const id of Object.keys(FIELDS)) $(id).disabled = running;
  if (!running && ui.returnFocus) {
    if ([$("stop"), document.body, null].includes(document.activeElement)) ui.returnFocus.focus();
    ui.returnFocus = null;
  }
}

/** Clears the result shown, for a run about to start (`job`) or for none. */
function clearResult(job = null) {
  ui.result = null;
  $("copy").disabled = true;
  show("copied", "");
  $("hits").textContent = "–";
  $("rate").textContent = "–";
  $("adapter").textContent = "–";
  $("seed-used").textContent = job ? String(job.seed) : "–";
  $("estimate").textContent = "π ≈ …";
  $("progress").value = 0;
  ui.plot = { points: [], total: job?.count ?? ui.plot.total };
  redraw();
}

/** Shows the progress of `run` after a chunk. */
function showChunk(run, seconds) {
  const { hits, done, count } = run;
  const { pi, stdError } = estimate(hits, done);
  ui.plot.points.push({ n: Number(done), pi, se: stdError });
  $("progress").value = Number(done) / Number(count);
  $("estimate").textContent = estimateText(hits, done);
  $("hits").textContent = `${groupDigits(hits)} of ${groupDigits(done)} samples`;
  $("rate").textContent = `${formatRate(Number(done) / Math.max(seconds, 1e-6))} samples/s`;
  $("status").textContent = `Running: ${groupDigits(done)} of ${groupDigits(count)} samples, ${seconds.toFixed(1)} s`;
  redraw();
}

/** The status line and the announcement of a run's end: "Done: ...", "Stopped ...", "Failed: ...". */
function finish(text) {
  $("status").textContent = text;
  announce(text);
}

/**
 * Runs `job` ({seed, first, count, backend, tuning}) with the page showing it. Returns the
 * result object; throws Stopped when stopped, or the run's failure.
 */
async function runJob(job) {
  const run = new Run(job);
  ui.run = run;
  setRunning(true);
  show("error", "");
  clearResult(job);
  $("cli").textContent = cliCommand(job);
  $("status").textContent = "Starting…";
  announce(`Running ${groupDigits(job.count)} samples…`);
  try {
    const result = await run.start({
      onStart: ({ backend, counter, note }) => {
        $("adapter").textContent = `${backend}: ${counter.adapter}`;
        show("note", note);
      },
      onChunk: (seconds) => showChunk(run, seconds),
    });
    finish(`Done: ${groupDigits(job.count)} samples in ${result.seconds.toFixed(3)} s.`);
    ui.result = result;
    $("copy").disabled = false;
    return result;
  } catch (e) {
    if (e instanceof Stopped || run.stopped) {
      finish(`Stopped after ${groupDigits(run.done)} of ${groupDigits(job.count)} samples.`);
      throw new Stopped(`stopped by the user after ${run.done} of ${job.count} samples`);
    }
    show("error", `Run failed: ${e.message ?? e}`);
    finish("Failed.");
    throw e;
  } finally {
    ui.run = null;
    setRunning(false);
  }
}

/** A form value that cannot run: the field's id and a message in the label's words. */
class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

/** Reads the form; throws a FieldError for the first bad field. */
function readForm() {
  const checked = (field, v) => {
    if (v instanceof Error) throw new FieldError(field, v.message);
    return v;
  };
  const seedIn = checked("seed", parseSeed($("seed").value, FIELDS.seed));
  const count = checked("count", parseCount($("count").value, FIELDS.count));
  const first = checked("first", parseFirst($("first").value, FIELDS.first));
  const outside = rangeError(first, count, FIELDS.first, FIELDS.count);
  if (outside) throw new FieldError("count", outside);
  const seed = seedIn ?? crypto.getRandomValues(new BigUint64Array(1))[0];
  $("seed").value = String(seed);
  return { seed, first, count, backend: $("backend").value, tuning: {} };
}

/** Shows a form error at its field: marked invalid, focused (its section opened), no old result beside it. */
function showFieldError(e) {
  markField(e.field);
  if (e.field === "first" || e.field === "backend") $("more").open = true;
  show("error", e.message);
  show("note", "");
  clearResult();
  // The error box is an alert: the status line says it too, without a second announcement.
  $("status").textContent = `Not run: ${FIELDS[e.field]} is not valid.`;
  $(e.field).focus();
}

async function onSubmit(event) {
  event.preventDefault();
  if (ui.run) return;
  let job;
  try {
    job = readForm();
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    showFieldError(e);
    return;
  }
  markField(null);
  // The address now names this run, so that it can be shared or bookmarked.
  history.replaceState(null, "", runQuery(job));
  await runJob(job).catch(() => {});
}

/** "Copy result": the finished run's numbers, its command and the page's address. */
async function copyResult() {
  if (!ui.result) return;
  try {
    await navigator.clipboard.writeText(resultText(ui.result, location.href));
    show("copied", "Copied.");
  } catch (e) {
    show("copied", `Could not copy (${e.message ?? e}): select the numbers above instead.`);
  }
}

/** The form's fields as the query set them, "More" opened when one of its fields is not the default. */
function fillForm(query) {
  if (query.seed !== null) $("seed").value = String(query.seed);
  $("count").value = String(query.count);
  $("first").value = String(query.first);
  $("backend").value = query.backend;
  if (query.first !== 0n || query.backend !== "auto") $("more").open = true;
  $("cli").textContent = cliCommand(query);
}

/** The command line of what the form would run, while it is being edited (kept when a field is bad). */
function onInput() {
  const seed = parseSeed($("seed").value);
  const count = parseCount($("count").value);
  const first = parseFirst($("first").value);
  if (![seed, count, first].some((v) => v instanceof Error)) $("cli").textContent = cliCommand({ seed, first, count });
}

/** A run=1 query's run: window.piResult when it ends, window.piError when it fails or is stopped. */
async function runQueryJob(query) {
  const seed = query.seed ?? crypto.getRandomValues(new BigUint64Array(1))[0];
  $("seed").value = String(seed);
  try {
    window.piResult = await runJob({ ...query, seed });
  } catch (e) {
    window.piError = e instanceof Stopped ? `run: ${e.message}` : `run failed: ${e.message ?? e}`;
  }
}

function main() {
  $("form").addEventListener("submit", onSubmit);
  $("form").addEventListener("input", onInput);
  $("stop").addEventListener("click", () => ui.run?.stop());
  $("copy").addEventListener("click", copyResult);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") ui.run?.stop();
  });
  window.addEventListener("resize", redraw);
  redraw();
  $("status").textContent = "Ready.";

  const query = parseQuery(location.search);
  if (query.error) {
    window.piError = query.error;
    show("error", `Bad query: ${query.error}`);
    $("status").textContent = "Not run: bad query.";
    return;
  }
  fillForm(query);
  if (query.run) runQueryJob(query);
}

main();
