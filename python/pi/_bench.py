"""``python -m pi bench``: throughput of every backend, in one process, best of k.

What is measured (samples per second = n / seconds of one call, the best of
``--repeat`` timed repeats, each after a warm-up call):

- ``python``: ``pi.approximate_pi_python(n)``, the pure Python stream (small n);
- ``numpy``: a vectorized NumPy float64 Monte Carlo, the usual baseline
  (``rng.random((m, 2))``, count ``x*x + y*y < 1``, in chunks of
  ``NUMPY_CHUNK`` points so memory stays bounded); skipped when NumPy is
  missing;
- ``cpu, T threads``: ``pi.estimate(n, backend="cpu", threads=T)`` for T = 1
  .. the number of cores;
- ``gpu``: ``pi.estimate(n, backend="gpu")``, skipped with a note without an
  adapter;
- call overhead at n = 1000: ``pi.approximate_pi_cpu(1000)`` per call, and
  the engine's raw ``lib.pi_count_hits`` call through cffi.

Each backend is swept over n = 1e2, 3e2, 1e3, ... up to ``--max-n``; a sweep
stops early when one call would take longer than a time cap. The table shows
each backend at the largest n it reached (its asymptote); the plot shows the
whole sweep, log-log, where the fixed cost (the rising left part) and the
asymptote (the flat right part) can be read off.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import pi

from . import _engine
from ._lib import ffi, lib

__all__ = ["add_arguments", "run_bench"]

#: Points per NumPy chunk: 2**18 x 2 float64 = 4 MiB.
NUMPY_CHUNK = 1 << 18
#: The seed of every measured call (the count does not depend on it).
SEED = 20240601
#: n of the call-overhead rows.
OVERHEAD_N = 1000


@dataclass
class Settings:
    """How much to measure."""

    max_n: int
    repeat: int
    target: float  # seconds of one timed repeat (small n: many calls per repeat)
    max_call: float  # a sweep stops before a call longer than this
    max_call_python: float
    per_decade: tuple[int, ...]  # mantissas of the n grid

    @classmethod
    def make(cls, quick: bool, max_n: int | None, repeat: int | None) -> Settings:
        if quick:
            s = cls(10**5, 2, 0.005, 0.25, 0.1, (1,))
        else:
            s = cls(10**9, 3, 0.1, 5.0, 1.0, (1, 3))
        if max_n is not None:
            s.max_n = max_n
        if repeat is not None:
            s.repeat = repeat
        return s


@dataclass
class Point:
    n: int
    seconds: float  # best time of one call
    rate: float  # samples per second
    calls: int  # calls per timed repeat
    hits: int | None = None


@dataclass
class Series:
    name: str  # "python", "numpy", "cpu-1", ..., "gpu"
    label: str
    kind: str  # "python", "numpy", "cpu", "gpu"
    threads: int | None = None
    count: Callable[[int], Callable[[], Any]] = field(default=lambda n: lambda: None, repr=False)
    max_call: float = math.inf  # seconds: the sweep stops before a longer call
    points: list[Point] = field(default_factory=list)
    stopped: str | None = None  # why the sweep ended before max_n


# --- timing --------------------------------------------------------------------------------


def best_of(loop: Callable[[int], Any], repeat: int, target: float) -> tuple[float, int, Any]:
    """Best time of one call: ``loop(k)`` makes ``k`` calls and returns the last result.

    One warm-up call, then (when it was short) a timed call to choose how many
    calls make one repeat of about ``target`` seconds, then ``repeat`` timed
    repeats. Returns (best seconds per call, calls per repeat, last result).
    """
    clock = time.perf_counter
    start = clock()
    result = loop(1)  # warm-up: engine, thread pool, shader, caches
    once = clock() - start
    if once < target:
        start = clock()
        result = loop(1)
        once = clock() - start
    number = max(1, min(10**7, int(target / max(once, 1e-8))))
    best = math.inf
    for _ in range(max(1, repeat)):
        start = clock()
        result = loop(number)
        best = min(best, (clock() - start) / number)
    return best, number, result


def _repeat_call(fn: Callable[[], Any]) -> Callable[[int], Any]:
    def loop(number: int) -> Any:
        result = None
        for _ in range(number):
            result = fn()
        return result

    return loop


def grid(max_n: int, mantissas: tuple[int, ...], start: int = 100) -> list[int]:
    """n = 1e2, 3e2, 1e3, ... (the given mantissas per decade) up to and including max_n."""
    ns = []
    exponent = 0
    while 10**exponent <= max_n:
        ns.extend(m * 10**exponent for m in mantissas)
        exponent += 1
    out = sorted({n for n in ns if start <= n <= max_n} | {max_n})
    return [n for n in out if n >= min(start, max_n)]


def sweep(
    series: list[Series], ns: list[int], settings: Settings, log: Callable[[str], None]
) -> None:
    """Measures every series at n = ns[0], then every one at ns[1], ...: interleaved, so a
    change of machine load hits all of them alike. A series stops before a call that would
    take longer than its ``max_call`` seconds, or after a ``DeviceError``."""
    for n in ns:
        active = [s for s in series if s.stopped is None]
        if not active:
            break
        log(f"n = {n:.0e}:")
        for s in active:
            if s.points:
                expected = n / s.points[-1].rate
                if expected > s.max_call:
                    s.stopped = (
                        f"stopped before n = {n:.0e}: one call would take about {expected:.2g} s"
                    )
                    continue
            try:
                seconds, calls, result = best_of(
                    _repeat_call(s.count(n)), settings.repeat, settings.target
                )
            except pi.DeviceError as e:
                s.stopped = f"failed at n = {n:.0e}: {e}"
                continue
            hits = result if isinstance(result, int) else None
            s.points.append(Point(n, seconds, n / seconds, calls, hits))
            log(f" {s.name}")
        log("\n")


# --- what is measured ----------------------------------------------------------------------


def numpy_counter(np: Any, n: int) -> Callable[[], int]:
    """The NumPy float64 baseline: hits among n uniform points, drawn in chunks."""

    def count() -> int:
        rng = np.random.default_rng(SEED)
        buf = np.empty((min(n, NUMPY_CHUNK), 2))
        hits = 0
        left = n
        while left > 0:
            m = min(left, NUMPY_CHUNK)
            xy = buf[:m]
            rng.random(out=xy)
            xy *= xy
            hits += int(np.count_nonzero(xy[:, 0] + xy[:, 1] < 1.0))
            left -= m
        return hits

    return count


def estimate_counter(backend: str, threads: int | None) -> Callable[[int], Callable[[], int]]:
    def make(n: int) -> Callable[[], int]:
        def count() -> int:
            return int(pi.estimate(n, seed=SEED, backend=backend, threads=threads)["hits"])

        return count

    return make


def python_counter(n: int) -> Callable[[], float]:
    return lambda: pi.approximate_pi_python(n, seed=SEED)


def thread_counts(cores: int) -> list[int]:
    """1 .. cores; above 8 cores, the powers of two and cores."""
    if cores <= 8:
        return list(range(1, cores + 1))
    counts = {cores}
    t = 1
    while t < cores:
        counts.add(t)
        t *= 2
    return sorted(counts)


def core_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def overhead(settings: Settings) -> list[dict[str, Any]]:
    """Per-call time at n = OVERHEAD_N: the public function, then the raw cffi call."""
    rows = []
    n = OVERHEAD_N
    seconds, calls, _ = best_of(
        _repeat_call(lambda: pi.approximate_pi_cpu(n, seed=SEED)),
        settings.repeat,
        settings.target,
    )
    rows.append(_overhead_row("overhead-api", f"pi.approximate_pi_cpu({n})", n, seconds, calls))

    engine = _engine.get_engine("cpu", 0)  # the engine approximate_pi_cpu uses
    raw = engine._raw
    out = ffi.new("uint64_t *")
    count_hits = lib.pi_count_hits

    def loop(number: int) -> int:
        status = 0
        for _ in range(number):
            status |= count_hits(raw, SEED, 0, n, out)
        if status != lib.PI_OK:
            raise RuntimeError(f"pi_count_hits failed with status {status}")
        return int(out[0])

    seconds, calls, _ = best_of(loop, settings.repeat, settings.target)
    rows.append(
        _overhead_row("overhead-raw", f"lib.pi_count_hits(.., {n}) (cffi)", n, seconds, calls)
    )
    return rows


def _overhead_row(name: str, label: str, n: int, seconds: float, calls: int) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "kind": "overhead",
        "threads": None,
        "n": n,
        "seconds": seconds,
        "rate": n / seconds,
        "ratio_numpy": None,
        "calls": calls,
    }


# --- the run -------------------------------------------------------------------------------


def run_bench(settings: Settings, log: Callable[[str], None]) -> dict[str, Any]:
    """Runs every measurement; returns the results (the --json document)."""
    notes: list[str] = []
    all_series: list[Series] = []
    ns = grid(settings.max_n, settings.per_decade)
    load_before = _load()
    started = time.time()

    python = Series("python", "pure Python", "python")
    python.count, python.max_call = python_counter, settings.max_call_python
    all_series.append(python)

    try:
        import numpy as np
    except ImportError:
        np = None
        notes.append("numpy is not installed: no NumPy baseline (pip install numpy)")
    if np is not None:
        numpy_series = Series("numpy", f"NumPy {np.__version__} float64", "numpy")
        numpy_series.count = lambda n: numpy_counter(np, n)
        numpy_series.max_call = settings.max_call
        all_series.append(numpy_series)

    cores = core_count()
    cpu_device = _engine.get_engine("cpu", 0).describe()
    for threads in thread_counts(cores):
        label = f"cpu, {threads} thread{'s' if threads > 1 else ''}"
        series = Series(f"cpu-{threads}", label, "cpu", threads)
        series.count, series.max_call = estimate_counter("cpu", threads), settings.max_call
        all_series.append(series)

    gpu_device = None
    try:
        gpu_device = _engine.get_engine("gpu", 0).describe()
    except pi.NoDeviceError as e:
        notes.append(f"no GPU adapter, GPU skipped: {e}")
    if gpu_device is not None:
        gpu = Series("gpu", "gpu (small n: on the CPU)", "gpu")
        gpu.count, gpu.max_call = estimate_counter("gpu", None), settings.max_call
        all_series.append(gpu)
        notes.append(
            "gpu: the engine counts small runs (up to GPU_MIN_SAMPLES, src/engine.rs) "
            "on the CPU, so at small n the gpu line follows the cpu line"
        )

    sweep(all_series, ns, settings, log)
    notes.extend(f"{s.label}: {s.stopped}" for s in all_series if not s.points)
    all_series = [s for s in all_series if s.points]

    # call overhead
    log("call overhead\n")
    overhead_rows = overhead(settings)

    # consistency: every native backend counts the same hits at the same n
    by_n: dict[int, dict[str, int]] = {}
    for s in all_series:
        if s.kind in ("cpu", "gpu"):
            for p in s.points:
                if p.hits is not None:
                    by_n.setdefault(p.n, {})[s.name] = p.hits
    mismatches = {n: h for n, h in by_n.items() if len(set(h.values())) > 1}
    if mismatches:
        notes.append(f"WARNING: backends disagree on the hit count: {mismatches}")

    # the table: each series at its largest n
    numpy_rate = None
    for s in all_series:
        if s.kind == "numpy" and s.points:
            numpy_rate = s.points[-1].rate
    rows = []
    for s in all_series:
        if not s.points:
            continue
        p = s.points[-1]
        rows.append(
            {
                "name": s.name,
                "label": s.label,
                "kind": s.kind,
                "threads": s.threads,
                "n": p.n,
                "seconds": p.seconds,
                "rate": p.rate,
                "ratio_numpy": p.rate / numpy_rate if numpy_rate else None,
                "calls": p.calls,
            }
        )
        if s.stopped:
            notes.append(f"{s.label}: {s.stopped}")
    rows.extend(overhead_rows)

    cpu_rates = {r["threads"]: r["rate"] for r in rows if r["kind"] == "cpu"}
    if 1 in cpu_rates and len(cpu_rates) > 1:
        top = max(cpu_rates)
        notes.append(
            f"cpu scaling: {top} threads = {cpu_rates[top] / cpu_rates[1]:.2f}x one thread"
        )

    return {
        "meta": {
            "pi_version": pi.__version__,
            "python": platform.python_version(),
            "numpy": getattr(np, "__version__", None),
            "machine": platform.machine(),
            "platform": platform.platform(),
            "cores": cores,
            "cpu_device": cpu_device,
            "gpu_device": gpu_device,
            "load_before": load_before,
            "load_after": _load(),
            "seconds": time.time() - started,
            "settings": asdict(settings),
            "seed": SEED,
            "command": [sys.executable, "-m", "pi", *sys.argv[1:]],
        },
        "rows": rows,
        "series": {
            s.name: {
                "label": s.label,
                "kind": s.kind,
                "threads": s.threads,
                "stopped": s.stopped,
                "points": [asdict(p) for p in s.points],
            }
            for s in all_series
        },
        "notes": notes,
    }


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


# --- output --------------------------------------------------------------------------------


def format_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def _format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def format_table(results: dict[str, Any]) -> str:
    meta = results["meta"]
    header = ("what", "n", "time/call", "samples/s", "vs NumPy")
    lines = [
        (
            r["label"],
            f"{r['n']:.0e}" if r["n"] >= 10**4 else str(r["n"]),
            format_seconds(r["seconds"]),
            f"{r['rate']:.3g}",
            _format_ratio(r["ratio_numpy"]),
        )
        for r in results["rows"]
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def fmt(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join([first, *rest]).rstrip()

    settings = meta["settings"]
    out = [
        f"pi {meta['pi_version']} bench: best of {settings['repeat']}, "
        f"Python {meta['python']}, {meta['cores']} cores, "
        f"load {meta['load_before']} -> {meta['load_after']}",
        f"cpu: {meta['cpu_device']}",
        f"gpu: {meta['gpu_device'] or 'none'}",
        "",
        fmt(header),
        fmt(tuple("-" * w for w in widths)),
        *(fmt(line) for line in lines),
    ]
    if results["notes"]:
        out.append("")
        out.extend(f"note: {note}" for note in results["notes"])
    return "\n".join(out)


def write_plot(results: dict[str, Any], path: str) -> str | None:
    """Writes the throughput-against-n plot; returns a note instead when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        hint = "pip install matplotlib: the 'plot' extra"
        return f"matplotlib is not installed: no plot written to {path} ({hint})"
    fig, ax = plt.subplots(figsize=(8, 5.5))
    styles = {"python": ":", "numpy": "--", "cpu": "-", "gpu": "-."}
    for series in results["series"].values():
        points = series["points"]
        if not points:
            continue
        ax.plot(
            [p["n"] for p in points],
            [p["rate"] for p in points],
            styles.get(series["kind"], "-"),
            marker="o",
            markersize=3,
            label=series["label"],
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples per call (n)")
    ax.set_ylabel("samples per second")
    meta = results["meta"]
    ax.set_title(
        f"pi {meta['pi_version']}: Monte Carlo throughput, best of {meta['settings']['repeat']}"
    )
    overhead = [r for r in results["rows"] if r["kind"] == "overhead"]
    if overhead:
        text = "\n".join(f"{r['label']}: {format_seconds(r['seconds'])}/call" for r in overhead)
        ax.text(
            0.99,
            0.02,
            text,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
            family="monospace",
        )
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.12), fontsize=9)
    device = meta["cpu_device"] + (f"\ngpu: {meta['gpu_device']}" if meta["gpu_device"] else "")
    fig.text(0.01, 0.005, device, fontsize=7, va="bottom", color="gray")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


# --- the command ---------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text!r}")
    return n


def add_arguments(parser: argparse.ArgumentParser, count: Callable[[str], int]) -> None:
    """The options of ``python -m pi bench``; ``count`` parses a sample count."""
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and short timings (for tests)"
    )
    parser.add_argument("--out", metavar="FILE", help="write the throughput plot (.png)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument(
        "--repeat",
        type=_positive_int,
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


def main(args: argparse.Namespace) -> int:
    """Runs ``python -m pi bench``; returns the exit code."""
    settings = Settings.make(args.quick, args.max_n, args.repeat)

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
