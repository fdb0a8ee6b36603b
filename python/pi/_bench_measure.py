"""The measuring half of ``python -m pi bench``: what is timed, and how.

Every figure is the best of ``Settings.repeat`` timed repeats after a warm-up
call (the spread across them kept: best, median and worst), with the calls
being compared timed in turn within each repeat so that a change of machine
load hits them alike. Each backend (``Series``) is swept over a grid of n,
and a sweep stops before a call longer than its time cap.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pi

from ._lib import check, ffi, lib

#: Points per NumPy chunk: 2**18 x 2 float64 = 4 MiB.
NUMPY_CHUNK = 1 << 18
#: The seed of every measured call (the count does not depend on it).
SEED = 20240601
#: n of the small-call rows: ``approximate_pi_cpu(n)`` against NumPy at the same n.
SMALL_NS = (1000, 10_000, 100_000)
#: Fewest timed repeats of a small-call row (they are short: the best of several).
SMALL_REPEAT = 5


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


# --- the sweeps and the small calls --------------------------------------------------------


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


# --- labels ------------------------------------------------------------------------------


def format_n(n: int) -> str:
    """1000, 1e4, 3e5, ...: short, exact for the grid's n."""
    if n < 10**4:
        return str(n)
    mantissa, exponent = f"{n:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}" if float(f"{n:.0e}") == n else str(n)
