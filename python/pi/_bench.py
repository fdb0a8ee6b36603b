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
import contextlib
import json
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import pi

from ._lib import check, ffi, lib

__all__ = ["add_arguments", "main", "run_bench"]

#: Points per NumPy chunk: 2**18 x 2 float64 = 4 MiB.
NUMPY_CHUNK = 1 << 18
#: The seed of every measured call (the count does not depend on it).
SEED = 20240601
#: n of the small-call rows: ``approximate_pi_cpu(n)`` against NumPy at the same n.
SMALL_NS = (1000, 10_000, 100_000)
#: Fewest timed repeats of a small-call row (they are short: the best of several).
SMALL_REPEAT = 5
#: The small-call goal: ``approximate_pi_cpu(n)`` at least this many times NumPy's throughput.
SMALL_GOAL = 2.0
#: Cycles per sample per core at the instruction bound, by CPU kernel (the name
#: ``pi_engine_describe`` gives): about 66 512-bit operations per 16 samples
#: (20 multiplies for Philox, 4 for the squares, shifts, 3-way XORs, compares)
#: at two 512-bit operations per cycle. No bound is stated for other kernels.
CYCLES_PER_SAMPLE = {"avx512": 2.1}
#: What a NumPy ratio compares with.
NUMPY_BASIS = "NumPy float64 at the same n (past the end of its sweep: at its largest n)"
#: Estimated ceilings (samples per second) of known cards, by a text in the
#: adapter's name: the card's integer issue rate over the int64 shader's
#: operations per sample (docs/gpu-performance.md: H200, 1.67e13 / 37).
GPU_CEILINGS = {"H200": 4.5e11}


@dataclass
class Settings:
    """How much to measure."""

    max_n: int
    repeat: int
    target: float  # seconds of one timed repeat (small n: many calls per repeat)
    max_call: float  # a sweep stops before a call longer than this
    max_call_python: float
    per_decade: tuple[int, ...]  # mantissas of the n grid
    cpu_ghz: float | None = None  # the clock of the CPU bound; None: read it

    @classmethod
    def make(
        cls, quick: bool, max_n: int | None, repeat: int | None, cpu_ghz: float | None = None
    ) -> Settings:
        if quick:
            s = cls(10**5, 2, 0.005, 0.25, 0.1, (1,))
        else:
            s = cls(10**9, 3, 0.1, 5.0, 1.0, (1, 3))
        if max_n is not None:
            s.max_n = max_n
        if repeat is not None:
            s.repeat = repeat
        s.cpu_ghz = cpu_ghz
        return s


@dataclass
class Point:
    """One measured n: the best, median and worst time of one call across the repeats."""

    n: int
    seconds: float  # best time of one call
    median: float
    worst: float
    spread: float  # worst / best - 1: how much the repeats disagree
    rate: float  # samples per second at the best time
    calls: int  # calls per timed repeat
    repeats: int
    hits: int | None = None
    # CPU seconds the process used per call (all its threads), least across the repeats,
    # and samples per CPU-second: on a machine shared with other work the wall-clock rate
    # drops, this one much less (None when the clock did not tick).
    cpu_seconds: float | None = None
    cpu_rate: float | None = None

    @classmethod
    def of(
        cls,
        n: int,
        times: list[float],
        calls: int,
        hits: int | None = None,
        cpu_times: list[float] | None = None,
    ) -> Point:
        best, worst = min(times), max(times)
        cpu = min(cpu_times) if cpu_times else None
        return cls(
            n=n,
            seconds=best,
            median=statistics.median(times),
            worst=worst,
            spread=worst / best - 1,
            rate=n / best,
            calls=calls,
            repeats=len(times),
            hits=hits,
            cpu_seconds=cpu,
            cpu_rate=n / cpu if cpu else None,
        )


@dataclass
class Limit:
    """What a throughput is measured against: ``rate`` samples per second."""

    name: str  # short, for the table: "NumPy", "AVX-512 bound", "H200 ceiling"
    rate: float
    basis: str  # how the rate was got, for the notes


@dataclass
class Series:
    """One swept backend: how to count n samples, and what was measured."""

    name: str  # "python", "numpy", "cpu-1", ..., "gpu"
    label: str
    kind: str  # "python", "numpy", "cpu", "gpu"
    count: Callable[[int], Callable[[], Any]] = field(repr=False)
    max_call: float  # seconds: the sweep stops before a longer call
    threads: int | None = None
    points: list[Point] = field(default_factory=list)
    stopped: str | None = None  # why the sweep ended before max_n


# --- timing --------------------------------------------------------------------------------


def _repeat(fn: Callable[[], Any]) -> Callable[[int], Any]:
    """``loop(k)``: ``k`` calls of ``fn``, returning the last result."""

    def loop(number: int) -> Any:
        result = None
        for _ in range(number):
            result = fn()
        return result

    return loop


def calls_per_repeat(loop: Callable[[int], Any], target: float) -> tuple[int, Any]:
    """One warm-up call (engine, thread pool, shader, caches), then, when it was short,
    a timed call to choose how many calls make one repeat of about ``target`` seconds.
    Returns (calls per repeat, the last result)."""
    clock = time.perf_counter
    start = clock()
    result = loop(1)
    once = clock() - start
    if once < target:
        start = clock()
        result = loop(1)
        once = clock() - start
    return max(1, min(10**7, int(target / max(once, 1e-8)))), result


def time_repeat(loop: Callable[[int], Any], number: int) -> tuple[float, float, Any]:
    """One timed repeat: (seconds per call, CPU seconds of the process per call, result)."""
    cpu_start, start = time.process_time(), time.perf_counter()
    result = loop(number)
    seconds = (time.perf_counter() - start) / number
    return seconds, (time.process_time() - cpu_start) / number, result


def measure_together(
    fns: dict[str, Callable[[], Any]], n: int, repeat: int, target: float
) -> dict[str, Point]:
    """The point of each ``fn`` (one call of n samples; its hits when it returns an int),
    timed in turn within every repeat, so that a change of machine load hits them alike."""
    loops = {name: _repeat(fn) for name, fn in fns.items()}
    numbers = {name: calls_per_repeat(loop, target)[0] for name, loop in loops.items()}
    times: dict[str, list[float]] = {name: [] for name in fns}
    cpu_times: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, Any] = {}
    for _ in range(max(1, repeat)):
        for name, loop in loops.items():
            seconds, cpu, results[name] = time_repeat(loop, numbers[name])
            times[name].append(seconds)
            cpu_times[name].append(cpu)
    return {
        name: Point.of(
            n,
            times[name],
            numbers[name],
            results[name] if isinstance(results[name], int) else None,
            cpu_times[name],
        )
        for name in fns
    }


def measure(fn: Callable[[], Any], n: int, repeat: int, target: float) -> Point:
    """The point of ``fn`` (one call of n samples); its hits when it returns an int."""
    return measure_together({"fn": fn}, n, repeat, target)["fn"]


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
        log(f"n = {format_n(n)}:")
        for s in active:
            if s.points:
                expected = n / s.points[-1].rate
                if expected > s.max_call:
                    s.stopped = (
                        f"stopped before n = {format_n(n)}: "
                        f"one call would take about {expected:.2g} s"
                    )
                    continue
            try:
                s.points.append(measure(s.count(n), n, settings.repeat, settings.target))
            except pi.DeviceError as e:
                s.stopped = f"failed at n = {format_n(n)}: {e}"
                continue
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


def c_counter(n: int) -> Callable[[], int]:
    """``pi_count_hits`` through cffi on a CPU engine of all cores made through the C ABI
    (``pi_engine_new``), as a C caller would: the floor under every Python call."""
    out = ffi.new("pi_engine **")
    check(lib.pi_engine_new(lib.PI_BACKEND_CPU, 0, out))
    engine = ffi.gc(out[0], lib.pi_engine_free)
    hits = ffi.new("uint64_t *")
    count_hits = lib.pi_count_hits

    def count() -> int:
        check(count_hits(engine, SEED, 0, n, hits))
        return int(hits[0])

    return count


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


# --- the limits ----------------------------------------------------------------------------


def _cpuinfo(field: str) -> list[str]:
    """The values of ``field`` in ``/proc/cpuinfo`` (none where there is no such file)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return re.findall(rf"^{field}\s*:\s*(.*?)\s*$", f.read(), re.M)
    except OSError:
        return []


def cpu_model() -> str:
    """The processor's name (``model name`` of ``/proc/cpuinfo``), or the platform's."""
    names = _cpuinfo("model name")
    return names[0] if names else (platform.processor() or "unknown processor")


def cpu_clock(given: float | None) -> tuple[float | None, str]:
    """The clock (GHz) of the CPU bound and where it comes from: ``given``, or the
    largest ``cpu MHz`` of ``/proc/cpuinfo``; ``None`` when neither is known."""
    if given is not None:
        return given, "--cpu-ghz"
    mhz = []
    for text in _cpuinfo("cpu MHz"):
        with contextlib.suppress(ValueError):
            mhz.append(float(text))
    if not mhz or max(mhz) <= 0:
        return None, "no clock in /proc/cpuinfo (give --cpu-ghz)"
    return max(mhz) / 1000, "/proc/cpuinfo (a VM reports the nominal clock)"


def cpu_kernel(device: str) -> str | None:
    """The kernel named by the CPU engine's description (``"... avx512 kernel"``)."""
    found = re.search(r"(\w+) kernel", device)
    return found.group(1) if found else None


def cpu_bound(threads: int, cores: int, kernel: str | None, ghz: float | None) -> Limit | None:
    """The instruction bound of ``threads`` threads (at most one per core), when known."""
    cycles = CYCLES_PER_SAMPLE.get(kernel or "")
    if cycles is None or ghz is None:
        return None
    used = min(threads, cores)
    return Limit(
        f"{kernel} bound",
        used * ghz * 1e9 / cycles,
        f"{cycles} cycles per sample per core ({kernel} kernel) at {ghz:.3g} GHz",
    )


def gpu_ceiling(device: str) -> Limit | None:
    """The estimated ceiling of a known card, found by its name in ``device``."""
    for name, rate in GPU_CEILINGS.items():
        if name in device:
            return Limit(
                f"{name} ceiling",
                rate,
                f"{name}: estimated ceiling {rate:.3g} (docs/gpu-performance.md)",
            )
    return None


def numpy_limit(numpy: Series | None, n: int) -> Limit | None:
    """NumPy at n: its point at the largest n <= n (its asymptote past its sweep)."""
    if numpy is None:
        return None
    below = [p for p in numpy.points if p.n <= n]
    return Limit("NumPy", below[-1].rate, NUMPY_BASIS) if below else None


# --- the steps of a run --------------------------------------------------------------------


def make_series(settings: Settings, np: Any, cores: int, gpu_device: str | None) -> list[Series]:
    """The sweeps to run: pure Python, NumPy (when installed), the CPU on 1 .. cores threads,
    and the GPU (when there is an adapter)."""
    cap = settings.max_call
    series = [Series("python", "pure Python", "python", python_counter, settings.max_call_python)]
    if np is not None:
        label = f"NumPy {np.__version__} float64"
        series.append(Series("numpy", label, "numpy", lambda n: numpy_counter(np, n), cap))
    for threads in thread_counts(cores):
        label = f"cpu, {threads} thread{'s' if threads > 1 else ''}"
        count = estimate_counter("cpu", threads)
        series.append(Series(f"cpu-{threads}", label, "cpu", count, cap, threads))
    if gpu_device is not None:
        label = f"gpu (n <= {lib.PI_GPU_MIN_SAMPLES}: on the CPU)"
        series.append(Series("gpu", label, "gpu", estimate_counter("gpu", None), cap))
    return series


def measure_small_calls(
    settings: Settings, np: Any, log: Callable[[str], None]
) -> list[tuple[str, str, Point, Point | None]]:
    """``approximate_pi_cpu(n)`` and NumPy at each n of ``SMALL_NS``, and the C call at the
    first, timed in turn: ``(name, label, point, NumPy's point at that n)`` each."""
    repeat = max(settings.repeat, SMALL_REPEAT)
    measured = []
    for n in SMALL_NS:
        log(f"small calls, n = {format_n(n)}\n")
        fns = {"api": lambda n=n: pi.approximate_pi_cpu(n, seed=SEED)}
        if n == SMALL_NS[0]:
            fns["c"] = c_counter(n)
        if np is not None:
            fns["numpy"] = numpy_counter(np, n)
        points = measure_together(fns, n, repeat, settings.target)
        numpy = points.get("numpy")
        measured.append((f"small-{n}", f"pi.approximate_pi_cpu({n})", points["api"], numpy))
        if "c" in points:
            label = f"lib.pi_count_hits(.., {n}) (cffi)"
            measured.append((f"c-call-{n}", label, points["c"], numpy))
    return measured


def hit_disagreements(series: list[Series]) -> dict[int, dict[str, int]]:
    """The n at which native backends counted different hits (none expected)."""
    by_n: dict[int, dict[str, int]] = {}
    for s in series:
        if s.kind in ("cpu", "gpu"):
            for p in s.points:
                if p.hits is not None:
                    by_n.setdefault(p.n, {})[s.name] = p.hits
    return {n: hits for n, hits in by_n.items() if len(set(hits.values())) > 1}


def make_row(
    name: str,
    label: str,
    kind: str,
    threads: int | None,
    point: Point,
    numpy: Limit | None,
    limit: Limit | None,
) -> dict[str, Any]:
    """One table row: a point, its ratio to NumPy and to its limit."""
    return {
        "name": name,
        "label": label,
        "kind": kind,
        "threads": threads,
        "n": point.n,
        "seconds": point.seconds,
        "median": point.median,
        "worst": point.worst,
        "spread": point.spread,
        "repeats": point.repeats,
        "rate": point.rate,
        "cpu_seconds": point.cpu_seconds,
        "cpu_rate": point.cpu_rate,
        "calls": point.calls,
        "ratio_numpy": point.rate / numpy.rate if numpy else None,
        "limit": limit.name if limit else None,
        "limit_rate": limit.rate if limit else None,
        "ratio_limit": point.rate / limit.rate if limit else None,
        "cpu_ratio_core": None,  # CPU rows: cpu_rate against one core's bound
    }


def sweep_rows(
    series: list[Series], machine: Machine
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Each series at its largest n against its limit; and the basis of the limits used
    (NumPy's apart: ``NUMPY_BASIS``)."""
    numpy = next((s for s in series if s.kind == "numpy"), None)
    rows, limits = [], {}
    for s in series:
        p = s.points[-1]
        vs_numpy = numpy_limit(numpy, p.n)
        if s.kind == "cpu":
            limit = cpu_bound(s.threads or 1, machine.cores, machine.kernel, machine.ghz)
        elif s.kind == "gpu":
            limit = gpu_ceiling(machine.gpu_device or "")
        else:  # the Python API against NumPy; NumPy is the baseline itself
            limit = vs_numpy if s.kind == "python" else None
        if limit is not None and limit.name != "NumPy":
            limits[limit.name] = limit.basis
        row = make_row(s.name, s.label, s.kind, s.threads, p, vs_numpy, limit)
        core = cpu_bound(1, 1, machine.kernel, machine.ghz) if s.kind == "cpu" else None
        row["cpu_ratio_core"] = p.cpu_rate / core.rate if core and p.cpu_rate else None
        rows.append(row)
    return rows, limits


def small_call_rows(
    measured: list[tuple[str, str, Point, Point | None]],
) -> list[dict[str, Any]]:
    """The small-call rows, each against NumPy at the same n."""
    rows = []
    for name, label, point, numpy in measured:
        limit = None if numpy is None else Limit("NumPy", numpy.rate, NUMPY_BASIS)
        rows.append(make_row(name, label, "small", None, point, limit, limit))
    return rows


def summary_notes(rows: list[dict[str, Any]], kernel: str | None) -> list[str]:
    """What the rows say: CPU scaling, the clock each CPU figure implies at its bound,
    and the small calls against their goal."""
    notes = []
    cpu = {r["threads"]: r for r in rows if r["kind"] == "cpu"}
    if 1 in cpu and len(cpu) > 1:
        top = max(cpu)
        notes.append(
            f"cpu scaling: {top} threads = {cpu[top]['rate'] / cpu[1]['rate']:.2f}x one thread"
        )
    cycles = CYCLES_PER_SAMPLE.get(kernel or "")
    if cycles is not None and 1 in cpu:
        implied = cpu[1]["rate"] * cycles / 1e9
        notes.append(
            f"cpu, 1 thread at {cycles} cycles per sample implies a clock of {implied:.2f} GHz"
        )
    for threads, row in sorted(cpu.items()):
        if row["cpu_ratio_core"] is not None:
            notes.append(
                f"cpu, {threads} thread{'s' if threads > 1 else ''}: {row['cpu_rate']:.3g} "
                f"samples per CPU-second, {row['cpu_ratio_core']:.2f}x one core's {row['limit']}"
            )
    small = [r for r in rows if r["kind"] == "small" and r["name"].startswith("small-")]
    if small and all(r["ratio_numpy"] is not None for r in small):
        parts = ", ".join(f"{1 / r['ratio_numpy']:.2f}x at n = {format_n(r['n'])}" for r in small)
        met = all(r["ratio_numpy"] >= SMALL_GOAL for r in small)
        notes.append(
            f"small calls: pi.approximate_pi_cpu(n) takes {parts} of NumPy's time "
            f"(goal: at most {1 / SMALL_GOAL:g}x): {'met' if met else 'not met'}"
        )
    return notes


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


@dataclass
class Machine:
    """What the run is measured on."""

    np: Any  # the numpy module, or None
    cores: int
    cpu_device: str
    gpu_device: str | None  # None: no adapter
    ghz: float | None  # the clock of the CPU bound
    clock_source: str
    notes: list[str]  # what is missing

    @classmethod
    def find(cls, settings: Settings) -> Machine:
        notes = []
        try:
            import numpy as np
        except ImportError:
            np = None
            notes.append("numpy is not installed: no NumPy baseline (pip install numpy)")
        cpu_device = pi.estimate(1, seed=SEED, backend="cpu")["device"]
        try:
            gpu_device = pi.estimate(1, seed=SEED, backend="gpu")["device"]
        except pi.NoDeviceError as e:
            gpu_device = None
            notes.append(f"no GPU adapter, GPU skipped: {e}")
        ghz, source = cpu_clock(settings.cpu_ghz)
        return cls(np, core_count(), cpu_device, gpu_device, ghz, source, notes)

    @property
    def kernel(self) -> str | None:
        return cpu_kernel(self.cpu_device)

    def meta(self) -> dict[str, Any]:
        return {
            "pi_version": pi.__version__,
            "python": platform.python_version(),
            "numpy": getattr(self.np, "__version__", None),
            "machine": platform.machine(),
            "cpu_model": cpu_model(),
            "platform": platform.platform(),
            "cores": self.cores,
            "cpu_device": self.cpu_device,
            "cpu_kernel": self.kernel,
            "cpu_ghz": self.ghz,
            "cpu_ghz_source": self.clock_source,
            "gpu_device": self.gpu_device,
            "gpu_min_samples": lib.PI_GPU_MIN_SAMPLES,
        }


def limit_notes(machine: Machine) -> list[str]:
    """The limits that could not be stated."""
    notes = []
    kernel = machine.kernel
    if kernel is not None and kernel not in CYCLES_PER_SAMPLE:
        notes.append(f"cpu: no instruction bound is stated for the {kernel} kernel")
    if machine.ghz is None:
        notes.append(f"cpu: no instruction bound: {machine.clock_source}")
    if machine.gpu_device is not None and gpu_ceiling(machine.gpu_device) is None:
        notes.append("gpu: no ceiling is known for this adapter")
    return notes


def run_bench(settings: Settings, log: Callable[[str], None]) -> dict[str, Any]:
    """Runs every measurement; returns the results (the --json document)."""
    started, load_before = time.time(), _load()
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
        load_after=_load(),
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


# --- output --------------------------------------------------------------------------------


def format_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def format_n(n: int) -> str:
    """1000, 1e4, 3e5, ...: short, exact for the grid's n."""
    if n < 10**4:
        return str(n)
    mantissa, exponent = f"{n:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}" if float(f"{n:.0e}") == n else str(n)


def format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def format_table(results: dict[str, Any]) -> str:
    meta = results["meta"]
    header = ("what", "n", "time/call", "spread", "samples/s", "per CPU-s", "vs NumPy", "vs limit")
    lines = [
        (
            r["label"],
            format_n(r["n"]),
            format_seconds(r["seconds"]),
            f"{100 * r['spread']:.1f}%",
            f"{r['rate']:.3g}",
            "-" if r["cpu_rate"] is None else f"{r['cpu_rate']:.3g}",
            format_ratio(r["ratio_numpy"]),
            "-" if r["limit"] is None else f"{format_ratio(r['ratio_limit'])} {r['limit']}",
        )
        for r in results["rows"]
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def fmt(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:-1], widths[1:-1])]
        return "  ".join([first, *rest, cells[-1]]).rstrip()

    settings = meta["settings"]
    out = [
        f"pi {meta['pi_version']} bench: best of {settings['repeat']} (small calls: of "
        f"{max(settings['repeat'], SMALL_REPEAT)}), Python {meta['python']}, "
        f"{meta['cores']} cores, load {meta['load_before']} -> {meta['load_after']}",
        f"cpu: {meta['cpu_device']} ({meta['cpu_model']}, {meta['machine']})",
        f"gpu: {meta['gpu_device'] or 'none'}",
        "",
        fmt(header),
        fmt(tuple("-" * w for w in widths)),
        *(fmt(line) for line in lines),
        "",
        "spread: worst / best time of one call across the repeats, minus 1; per CPU-s: samples "
        "per CPU-second the process used (all its threads), which a shared machine lowers less",
        *(f"limit: {name}: {basis}" for name, basis in results["limits"].items()),
    ]
    if meta["cpu_ghz"] is not None:
        out.append(f"clock: {meta['cpu_ghz']:.3g} GHz from {meta['cpu_ghz_source']}")
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
        ns = [p["n"] for p in points]
        (line,) = ax.plot(
            ns,
            [p["rate"] for p in points],
            styles.get(series["kind"], "-"),
            marker="o",
            markersize=3,
            label=series["label"],
        )
        # the spread: from the worst repeat to the best
        ax.fill_between(
            ns,
            [p["n"] / p["worst"] for p in points],
            [p["rate"] for p in points],
            color=line.get_color(),
            alpha=0.15,
            linewidth=0,
        )
    for row in results["rows"]:
        if row["kind"] == "cpu" and row["limit_rate"]:
            ax.axhline(row["limit_rate"], color="gray", linestyle=":", linewidth=0.8)
            ax.annotate(
                f"{row['limit']}, {row['threads']} thread{'s' if row['threads'] > 1 else ''}",
                (1.0, row["limit_rate"]),
                xycoords=("axes fraction", "data"),
                ha="right",
                va="bottom",
                fontsize=7,
                color="gray",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples per call (n)")
    ax.set_ylabel("samples per second")
    meta = results["meta"]
    ax.set_title(
        f"pi {meta['pi_version']}: Monte Carlo throughput, best of {meta['settings']['repeat']}"
        f" (band: worst repeat)"
    )
    small = [r for r in results["rows"] if r["kind"] == "small"]
    if small:
        text = "\n".join(
            f"{r['label']}: {format_seconds(r['seconds'])}/call, "
            f"{format_ratio(r['ratio_numpy'])} NumPy"
            for r in small
        )
        ax.text(
            0.99,
            0.02,
            text,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            family="monospace",
        )
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    device = meta["cpu_device"] + (f"\ngpu: {meta['gpu_device']}" if meta["gpu_device"] else "")
    device += f"\nload {meta['load_before']} -> {meta['load_after']}"
    fig.text(0.01, 0.005, device, fontsize=7, va="bottom", color="gray")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None


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
