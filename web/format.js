// The page's numbers as text, as `python -m pi` prints them: the estimate, rates, grouped counts, the same run's command and a result to copy.

import { estimate } from "./stream.js";

/** Python's format(x, ".{p}g"). */
export function formatG(x, p) {
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

/** The estimate line as `python -m pi` prints it: "π ≈ 3.1434 ± 0.0016". */
export function estimateText(hits, samples) {
  const { pi, stdError } = estimate(hits, samples);
  const digits = stdError > 0 ? Math.max(1, Math.min(15, 1 - Math.floor(Math.log10(stdError)))) : 15;
  return `π ≈ ${pi.toFixed(digits)} ± ${formatG(stdError, 2)}`;
}

/** Samples per second: three digits, in exponent notation from 1000 up. */
export function formatRate(rate) {
  return rate < 1e3 ? formatG(rate, 3) : rate.toExponential(2).replace("e+", "e");
}

/** 1234567 -> "1,234,567" (a Number or a BigInt). */
export function groupDigits(v) {
  return String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The command line of the same run; a seed of null (to be drawn) shows as S. */
export function cliCommand({ seed, first, count }) {
  return `python -m pi ${count} --seed ${seed ?? "S"}${first ? ` --first ${first}` : ""}`;
}

/** A finished run (window.piResult's shape) as lines to paste elsewhere, the page's address last. */
export function resultText(result, address) {
  const { hits, samples, seed, first } = result;
  return [
    estimateText(BigInt(hits), BigInt(samples)),
    `hits ${hits} of ${samples} samples from ${first}, seed ${seed}`,
    `backend ${result.backend}: ${result.adapter}, ${result.seconds.toFixed(3)} s`,
    cliCommand({ seed, first: BigInt(first), count: samples }),
    address,
  ].join("\n");
}
