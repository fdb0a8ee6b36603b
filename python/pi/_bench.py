"""``python -m pi bench``: every backend's throughput, its spread and its distance to its limit.

What is measured, in one process (samples per second = n / seconds of one call;
every figure is the best of ``--repeat`` timed repeats after a warm-up call,
and the spread across those repeats is kept: best, median and worst):

- ``python``: ``pi.approximate_pi_python(n)``, the pure Python stream (small n);
- ``numpy``: a vectorized NumPy float64 Monte Carlo, the usual baseline
  (``rng.random((m, 2))``, count ``x*x + y*y < 1``, in chunks of
  ``NUMPY_CHUNK`` points so memory stays bounded); skipped when NumPy is
  missing;
- ``cpu, T threads``: ``pi.estimate(n, backend="cpu", threads=T)`` for T = 1
  .. the number of cores;
- ``gpu``: ``pi.estimate(n, backend="gpu")``, skipped with a note without an
  adapter (runs up to ``PI_GPU_MIN_SAMPLES`` go to the CPU);
- small calls: ``pi.approximate_pi_cpu(n)`` at n = ``SMALL_NS`` against NumPy
  at the same n, best of at least ``SMALL_REPEAT``, and, under them, the C call
  ``pi_count_hits`` through cffi on an engine made through the C ABI.

Each throughput is printed next to its ratio to the limit it is measured
against (``Limit``):

- the Python API (pure Python, the small calls) against NumPy at the same n;
- the CPU kernel against the core's instruction bound: ``CYCLES_PER_SAMPLE``
  cycles per sample per core (the AVX-512 kernel: about 66 512-bit vector
  operations per 16 samples, two per cycle), at the clock given by
  ``--cpu-ghz`` or else read from ``/proc/cpuinfo``. A virtual machine's
  ``/proc/cpuinfo`` gives the nominal clock, and a core in turbo runs faster,
  so a ratio above 1 means the core ran above that clock: the notes give the
  clock each CPU figure implies at the bound;
- the GPU against its estimated ceiling where one is known
  (``GPU_CEILINGS``, the arithmetic is in docs/gpu-performance.md).

Each backend is swept over n = 1e2, 3e2, 1e3, ... up to ``--max-n``; a sweep
stops early when one call would take longer than a time cap. The table shows
each backend at the largest n it reached (its asymptote); the plot shows the
whole sweep, log-log, with the spread as a band and the CPU bound as a line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from typing import Any, Callable

from ._bench_limits import NUMPY_BASIS, Machine, limit_notes, load_average
from ._bench_measure import (
    SEED,
    Settings,
    grid,
    hit_disagreements,
    make_series,
    measure_small_calls,
    sweep,
)
from ._bench_report import (
    format_table,
    small_call_rows,
    summary_notes,
    sweep_rows,
    write_plot,
)

__all__ = ["add_arguments", "main", "run_bench"]


def run_bench(settings: Settings, log: Callable[[str], None]) -> dict[str, Any]:
    """Runs every measurement; returns the results (the --json document)."""
    started, load_before = time.time(), load_average()
    machine = Machine.find(settings)
    series = make_series(settings, machine.np, machine.cores, machine.gpu_device)
    sweep(series, grid(settings.max_n, settings.per_decade), settings, log)
    small = measure_small_calls(settings, machine.np, log)

    notes = [*machine.notes, *(f"{s.label}: {s.stopped}" for s in series if s.stopped)]
    series = [s for s in series if s.points]
    disagree = hit_disagreements(series)
    if disagree:
        notes.append(f"WARNING: backends disagree on the hit count: {disagree}")
    rows, limits = sweep_rows(series, machine)
    rows.extend(small_call_rows(small))
    if any(r["limit"] == "NumPy" for r in rows):
        limits["NumPy"] = NUMPY_BASIS
    notes.extend(limit_notes(machine))
    notes.extend(summary_notes(rows, machine.kernel))

    meta = machine.meta()
    meta.update(
        load_before=load_before,
        load_after=load_average(),
        seconds=time.time() - started,
        settings=asdict(settings),
        seed=SEED,
        command=[sys.executable, "-m", "pi", *sys.argv[1:]],
    )
    return {
        "meta": meta,
        "rows": rows,
        "limits": limits,
        "series": {
            s.name: {
                "label": s.label,
                "kind": s.kind,
                "threads": s.threads,
                "stopped": s.stopped,
                "points": [asdict(p) for p in s.points],
            }
            for s in series
        },
        "notes": notes,
    }


# --- the command ---------------------------------------------------------------------------


def _ranged(convert: Callable[[str], Any], low: float, high: float, what: str) -> Callable:
    """An option's parser: ``convert(text)`` (``int``, ``float``) within ``low .. high``."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low} to {high}: {text!r}")
        return value

    return parse


def add_arguments(parser: argparse.ArgumentParser, count: Callable[[str], int]) -> None:
    """The options of ``python -m pi bench``; ``count`` parses a sample count."""
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and short timings (for tests)"
    )
    parser.add_argument("--out", metavar="FILE", help="write the throughput plot (.png)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument(
        "--repeat",
        type=_ranged(int, 1, 10**6, "an integer"),
        default=None,
        metavar="K",
        help="timed repeats, best kept (3)",
    )
    parser.add_argument(
        "--max-n",
        type=count,
        default=None,
        metavar="N",
        help="largest samples per call (default 1e9; 1e5 with --quick)",
    )
    parser.add_argument(
        "--cpu-ghz",
        type=_ranged(float, 0.1, 10, "a number of GHz"),
        default=None,
        metavar="GHZ",
        help="the core clock of the CPU's instruction bound (default: from /proc/cpuinfo)",
    )


def main(args: argparse.Namespace) -> int:
    """Runs ``python -m pi bench``; returns the exit code."""
    settings = Settings.make(args.quick, args.max_n, args.repeat, args.cpu_ghz)

    def log(text: str) -> None:
        print(text, end="", file=sys.stderr, flush=True)

    results = run_bench(settings, log)
    print(format_table(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
            f.write("\n")
        print(f"wrote {args.json}")
    if args.out:
        note = write_plot(results, args.out)
        print(note if note else f"wrote {args.out}")
    return 0
