"""The public functions of ``pi``: argument checks, then native calls."""

from __future__ import annotations

import array
import math
import operator
import secrets
import sys
import time
from collections.abc import Iterator
from typing import Any, Callable, TypeVar

from . import _stream
from ._engine import BACKENDS, Engine, get_engine
from ._errors import NoDeviceError
from ._lib import ffi, lib

__all__ = [
    "approximate_pi_cpu",
    "approximate_pi_gpu",
    "approximate_pi_python",
    "count_hits_batched",
    "estimate",
    "iter_estimates",
]

_U64_MAX = (1 << 64) - 1
_STREAM_END = 1 << 64  # one past the last sample index

#: What an argument documented as ``int`` accepts: ``int`` and anything with
#: ``__index__`` (NumPy integers), never ``bool``.
IntLike = Any
Buffer = TypeVar("Buffer")


# --- argument checks (all in Python, before any native call) -------------------------------


def _int(value: Any, name: str) -> int:
    """``value`` as an ``int``; ``TypeError`` naming ``name`` for bool, float, str, ..."""
    if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):
        raise TypeError(f"{name} must be an int, not bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}") from None


def _u64(value: Any, name: str, minimum: int = 0) -> int:
    n = _int(value, name)
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    if n > _U64_MAX:
        raise ValueError(f"{name} must be <= 2**64 - 1, got {n}")
    return n


def _seed(seed: Any) -> int:
    """The seed to use: ``seed`` checked, or fresh OS entropy when ``None``."""
    if seed is None:
        return secrets.randbits(64)
    return _u64(seed, "seed")


def _threads(threads: Any) -> int:
    """CPU threads: ``None`` or ``0`` means one per core."""
    if threads is None:
        return 0
    n = _int(threads, "threads")
    if n < 0:
        raise ValueError(f"threads must be >= 0 (0 or None: one per core), got {n}")
    if n > lib.PI_MAX_CPU_THREADS:
        raise ValueError(f"threads must be <= {lib.PI_MAX_CPU_THREADS}, got {n}")
    return n


def _backend(backend: Any) -> str:
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a str, not {type(backend).__name__}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of 'auto', 'cpu', 'gpu', got {backend!r}")
    return backend


def _range(first: int, count: int, count_name: str) -> None:
    if first + count > _STREAM_END:
        raise ValueError(
            f"first + {count_name} = {first} + {count} passes the end of the stream "
            f"(sample 2**64 - 1 is the last)"
        )


def _uint64_view(out: Any, needed: int) -> Any:
    """A ``uint64_t[]`` cdata over ``out``, checked: unsigned 64-bit items, C-contiguous,
    writable, at least ``needed`` items (counted flat, in C order)."""
    try:
        view = memoryview(out)
    except TypeError:
        raise TypeError(
            f"out must be a buffer of unsigned 64-bit integers (numpy uint64, "
            f"array.array('Q'), ...), not {type(out).__name__}"
        ) from None
    with view:
        fmt = view.format
        order, code = (fmt[0], fmt[1:]) if fmt[:1] in ("@", "=", "<", ">", "!") else ("@", fmt)
        native = order in ("@", "=") or (order == "<") == (sys.byteorder == "little")
        if code not in ("Q", "L") or view.itemsize != 8 or not native:
            raise TypeError(
                f"out must hold unsigned 64-bit integers in native byte order (format 'Q'), "
                f"got format {fmt!r} with itemsize {view.itemsize}"
            )
        if view.readonly:
            raise ValueError("out must be writable, got a read-only buffer")
        if not view.c_contiguous:
            raise ValueError("out must be C-contiguous")
        if view.nbytes // 8 < needed:
            raise ValueError(f"out is too small: {view.nbytes // 8} items, num_batches = {needed}")
    return ffi.from_buffer("uint64_t[]", out, require_writable=True)


# --- results -----------------------------------------------------------------------------


def _pi_and_error(hits: int, samples: int) -> tuple[float, float]:
    p = hits / samples
    return 4.0 * p, 4.0 * math.sqrt(p * (1.0 - p) / samples)


def _result(
    hits: int, samples: int, seed: int, first: int, engine: Engine, seconds: float
) -> dict[str, Any]:
    pi_hat, std_error = _pi_and_error(hits, samples)
    return {
        "pi": pi_hat,
        "std_error": std_error,
        "hits": hits,
        "samples": samples,
        "seed": seed,
        "first": first,
        "backend": engine.backend,
        "device": engine.describe(),
        "seconds": seconds,
    }


def _run(
    num_points: Any,
    seed: Any = None,
    backend: str = "auto",
    threads: Any = None,
    first: Any = 0,
    on_progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """``estimate`` with a progress hook: ``on_progress(samples)`` after each piece."""
    n = _u64(num_points, "num_points", minimum=1)
    seed_ = _seed(seed)
    backend = _backend(backend)
    nthreads = _threads(threads)
    first_ = _u64(first, "first")
    _range(first_, n, "num_points")
    engine = get_engine(backend, nthreads)
    start = time.perf_counter()
    hits = engine.count_hits(seed_, first_, n, on_progress)
    return _result(hits, n, seed_, first_, engine, time.perf_counter() - start)


# --- the API -----------------------------------------------------------------------------


def approximate_pi_python(num_points: IntLike, seed: IntLike | None = None) -> float:
    """Estimates pi from ``num_points`` samples of the stream in pure Python.

    The same samples as every native backend, so the same value: slow (about
    1e5 to 1e6 samples per second), for reference and tests. ``seed=None``
    draws a fresh seed from the OS.
    """
    n = _u64(num_points, "num_points", minimum=1)
    seed_ = _seed(seed)
    return 4.0 * _stream.count_hits(seed_, 0, n) / n


def approximate_pi_cpu(
    num_points: IntLike, seed: IntLike | None = None, threads: IntLike | None = None
) -> float:
    """Estimates pi from ``num_points`` samples counted on the CPU.

    ``threads``: ``None`` or ``0`` for one thread per core, else that many.
    ``seed=None`` draws a fresh seed from the OS.
    """
    return float(_run(num_points, seed, "cpu", threads)["pi"])


def approximate_pi_gpu(
    num_points: IntLike, seed: IntLike | None = None, fallback: bool = True
) -> float:
    """Estimates pi from ``num_points`` samples counted on a GPU.

    Any adapter counts, software ones (lavapipe) included. Without one,
    ``fallback=True`` counts on the CPU (the same value) and ``fallback=False``
    raises ``NoDeviceError``.
    """
    if not isinstance(fallback, bool):
        raise TypeError(f"fallback must be a bool, not {type(fallback).__name__}")
    n = _u64(num_points, "num_points", minimum=1)
    seed_ = _seed(seed)
    try:
        engine = get_engine("gpu", 0)
    except NoDeviceError:
        if not fallback:
            raise
        engine = get_engine("cpu", 0)
    return 4.0 * engine.count_hits(seed_, 0, n) / n


def estimate(
    num_points: IntLike,
    seed: IntLike | None = None,
    backend: str = "auto",
    threads: IntLike | None = None,
    first: IntLike = 0,
) -> dict[str, Any]:
    """Estimates pi from samples ``first .. first + num_points - 1`` and says how.

    ``backend``: ``"auto"`` (a hardware GPU if there is one, else the CPU),
    ``"cpu"``, or ``"gpu"`` (any adapter, software ones included; raises
    ``NoDeviceError`` without one). ``threads``: CPU threads, ``None`` or ``0``
    for one per core. ``seed=None`` draws a fresh seed from the OS.

    Returns a dict: ``pi`` (4 hits / samples), ``std_error``
    (4 sqrt(p (1 - p) / samples), p = hits / samples), ``hits``, ``samples``,
    ``seed`` (the one used), ``first``, ``backend`` (``"cpu"`` or ``"gpu"``,
    the one that counted), ``device`` (its description), ``seconds``.
    """
    return _run(num_points, seed, backend, threads, first)


def iter_estimates(
    batch_size: IntLike,
    num_batches: IntLike | None = None,
    seed: IntLike | None = None,
    backend: str = "auto",
) -> Iterator[dict[str, Any]]:
    """Yields a running estimate after each batch of ``batch_size`` samples.

    Each dict has the keys of ``estimate`` with running totals (``hits``,
    ``samples``, ``seconds``), plus ``batch`` (batches done, from 1) and
    ``batch_hits``. After ``k`` batches it equals ``estimate(k * batch_size,
    seed)`` exactly. ``num_batches=None`` goes on until the stream ends (2**64
    samples, in practice forever). Arguments are checked at the call, before
    the first batch.
    """
    size = _u64(batch_size, "batch_size", minimum=1)
    total = None if num_batches is None else _u64(num_batches, "num_batches")
    seed_ = _seed(seed)
    backend = _backend(backend)
    if total is not None:
        _range(0, size * total, "batch_size * num_batches")
    engine = get_engine(backend, 0)
    return _iter_estimates(engine, size, total, seed_)


def _iter_estimates(
    engine: Engine, size: int, total: int | None, seed: int
) -> Iterator[dict[str, Any]]:
    hits = 0
    samples = 0
    seconds = 0.0
    batch = 0
    while (total is None or batch < total) and samples + size <= _STREAM_END:
        start = time.perf_counter()
        batch_hits = engine.count_hits(seed, samples, size)
        seconds += time.perf_counter() - start
        hits += batch_hits
        samples += size
        batch += 1
        result = _result(hits, samples, seed, 0, engine, seconds)
        result["batch"] = batch
        result["batch_hits"] = batch_hits
        yield result


def count_hits_batched(
    batch_size: IntLike,
    num_batches: IntLike,
    seed: IntLike,
    first: IntLike = 0,
    out: Buffer | None = None,
    backend: str = "auto",
) -> Buffer | array.array:
    """Hits of ``num_batches`` consecutive batches of ``batch_size`` samples.

    ``out[k]`` gets the hits of samples ``first + k * batch_size .. first +
    (k + 1) * batch_size - 1`` of ``seed``. ``out`` is any writable,
    C-contiguous buffer of unsigned 64-bit integers (a NumPy ``uint64`` array,
    ``array.array("Q")``, a ``memoryview`` cast to ``"Q"``; several dimensions
    are counted flat in C order) with at least ``num_batches`` items; only the
    first ``num_batches`` are written. With ``out=None`` a new
    ``array.array("Q")`` is returned. Otherwise ``out`` itself is returned; if
    an error interrupts the run, it may be partly filled.
    """
    size = _u64(batch_size, "batch_size", minimum=1)
    n = _u64(num_batches, "num_batches")
    seed_ = _u64(seed, "seed")
    first_ = _u64(first, "first")
    backend = _backend(backend)
    _range(first_, size * n, "batch_size * num_batches")
    if out is None:
        result: Any = array.array("Q", bytes(8 * n))
    else:
        result = out
    pointer = _uint64_view(result, n)
    if n:
        get_engine(backend, 0).count_hits_batched(seed_, first_, size, n, pointer)
    return result
