"""The public functions of ``pi``: arguments checked (``_checks``), then native calls."""

from __future__ import annotations

import array
import time
from collections.abc import Iterator
from typing import Any, Callable, TypeVar

from . import _checks, _stream
from ._checks import STREAM_END
from ._engine import GPU_OR_CPU, SMALL_RUN, Engine, get_engine
from ._lib import ffi
from ._result import result

__all__ = [
    "approximate_pi_cpu",
    "approximate_pi_gpu",
    "approximate_pi_python",
    "count_hits_batched",
    "estimate",
    "iter_estimates",
    "run",
]

#: What an argument documented as ``int`` accepts: ``int`` and anything with
#: ``__index__`` (NumPy integers), never ``bool``.
IntLike = Any
Buffer = TypeVar("Buffer")

#: Batches counted per native call when ``count_hits_batched`` makes its own array.
_OUTPUT_CHUNK = 1 << 20


def run(
    num_points: Any,
    seed: Any = None,
    backend: Any = "auto",
    threads: Any = None,
    first: Any = 0,
    on_progress: Callable[[int], Any] | None = None,
    gpu: Any = None,
) -> dict[str, Any]:
    """``estimate`` with a progress hook: ``on_progress(samples)`` after each piece."""
    n = _checks.count(num_points, "num_points")
    seed_ = _checks.seed(seed)
    backend_ = _checks.backend(backend)
    threads_ = _checks.threads(threads)
    first_ = _checks.u64(first, "first")
    gpu_ = _checks.gpu(gpu)
    _checks.stream_range(first_, n)
    engine = get_engine(backend_, threads_, gpu_)
    start = time.perf_counter()
    hits = engine.count_hits(seed_, first_, n, on_progress)
    seconds = time.perf_counter() - start
    return result(hits, n, seed_, first_, engine.backend, engine.describe(), seconds)


def approximate_pi_python(num_points: IntLike, seed: IntLike | None = None) -> float:
    """Estimates pi from ``num_points`` samples of the stream in pure Python.

    The same samples as every native backend, so the same value: slow (about
    1e5 to 1e6 samples per second), for reference and tests. ``seed=None``
    draws a fresh seed from the OS.
    """
    n = _checks.count(num_points, "num_points")
    return 4.0 * _stream.count_hits(_checks.seed(seed), 0, n) / n


def approximate_pi_cpu(
    num_points: IntLike, seed: IntLike | None = None, threads: IntLike | None = None
) -> float:
    """Estimates pi from ``num_points`` samples counted on the CPU.

    ``threads``: ``None`` or ``0`` for one thread per core, else that many.
    ``seed=None`` draws a fresh seed from the OS.
    """
    n = _checks.count(num_points, "num_points")
    seed_ = _checks.seed(seed)
    engine = get_engine("cpu", 0 if threads is None else _checks.threads(threads))
    if n <= SMALL_RUN:
        return 4.0 * engine.count_small(seed_, 0, n) / n
    return 4.0 * engine.count_hits(seed_, 0, n) / n


def approximate_pi_gpu(
    num_points: IntLike,
    seed: IntLike | None = None,
    fallback: bool = True,
    gpu: IntLike | str | None = None,
) -> float:
    """Estimates pi from ``num_points`` samples counted on a GPU.

    Any adapter counts, software ones (lavapipe) included; ``gpu`` picks
    them (see ``estimate``). ``fallback=True`` counts on the CPU (the same
    value) when there is no adapter, and falls back from a failing device
    as ``backend="auto"`` does: that call finishes on the CPU, and later
    calls stay there until ``pi.close()`` (the Fallback section of the GPUs
    page). ``fallback=False`` raises ``NoDeviceError`` without an adapter
    and ``DeviceError`` when the device fails. ``fallback`` is a ``bool``
    (or ``numpy.bool_``).
    """
    fallback_ = _checks.boolean(fallback, "fallback")
    n = _checks.count(num_points, "num_points")
    seed_ = _checks.seed(seed)
    gpu_ = _checks.gpu(gpu)
    engine = get_engine(GPU_OR_CPU if fallback_ else "gpu", 0, gpu_)
    return 4.0 * engine.count_hits(seed_, 0, n) / n


def estimate(
    num_points: IntLike,
    seed: IntLike | None = None,
    backend: str = "auto",
    threads: IntLike | None = None,
    first: IntLike = 0,
    gpu: IntLike | str | None = None,
) -> dict[str, Any]:
    """Estimates pi from samples ``first .. first + num_points - 1`` and says how.

    ``backend``: ``"auto"`` (a hardware GPU if there is one, else the CPU;
    a device that fails hands that call and later ones to the CPU, until
    ``pi.close()``: the Fallback section of the GPUs page), ``"cpu"``, or
    ``"gpu"`` (any adapter, software ones included; ``NoDeviceError`` without
    one, ``DeviceError`` when it fails). ``threads``: CPU threads, ``None`` or
    ``0`` for one per core. ``seed=None`` draws a fresh seed from the OS.
    ``gpu``: the GPUs a GPU backend uses: ``None`` (what the environment
    variable ``PI_GPU`` says; unset, the best adapter), ``"all"`` (every
    hardware GPU shares each run) or an adapter index ``0, 1, ...`` as
    ``python -m pi devices`` lists them (past the last one: ``NoDeviceError``
    for ``"gpu"``, the CPU for ``"auto"``).

    Returns a dict: ``pi`` (4 hits / samples), ``std_error``
    (4 sqrt(p (1 - p) / samples), p = hits / samples), ``hits``, ``samples``,
    ``seed`` (the one used), ``first``, ``backend`` (``"cpu"`` or ``"gpu"``,
    the one that counted), ``device`` (its description), ``seconds``.
    """
    return run(num_points, seed, backend, threads, first, gpu=gpu)


def iter_estimates(
    batch_size: IntLike,
    num_batches: IntLike | None = None,
    seed: IntLike | None = None,
    backend: str = "auto",
    gpu: IntLike | str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yields a running estimate after each batch of ``batch_size`` samples.

    Each dict has the keys of ``estimate`` with running totals (``hits``,
    ``samples``, ``seconds``), plus ``batch`` (batches done, from 1) and
    ``batch_hits``. After ``k`` batches it equals ``estimate(k * batch_size,
    seed)`` exactly. ``num_batches=None`` goes on until the stream ends (2**64
    samples, in practice forever). ``gpu`` as for ``estimate``. Arguments
    are checked at the call, before the first batch.
    """
    size = _checks.count(batch_size, "batch_size")
    total = None if num_batches is None else _checks.u64(num_batches, "num_batches")
    seed_ = _checks.seed(seed)
    backend_ = _checks.backend(backend)
    gpu_ = _checks.gpu(gpu)
    if total is not None:
        _checks.stream_range(0, size * total, "batch_size * num_batches")
    return _iter_estimates(get_engine(backend_, 0, gpu_), size, total, seed_)


def _iter_estimates(
    engine: Engine, size: int, total: int | None, seed: int
) -> Iterator[dict[str, Any]]:
    hits = 0
    samples = 0
    seconds = 0.0
    batch = 0
    while (total is None or batch < total) and samples + size <= STREAM_END:
        start = time.perf_counter()
        batch_hits = engine.count_hits(seed, samples, size)
        seconds += time.perf_counter() - start
        hits += batch_hits
        samples += size
        batch += 1
        yield result(
            hits,
            samples,
            seed,
            0,
            engine.backend,
            engine.describe(),
            seconds,
            batch=batch,
            batch_hits=batch_hits,
        )


def count_hits_batched(
    batch_size: IntLike,
    num_batches: IntLike,
    seed: IntLike,
    first: IntLike = 0,
    out: Buffer | None = None,
    backend: str = "auto",
    gpu: IntLike | str | None = None,
) -> Buffer | array.array:
    """Hits of ``num_batches`` consecutive batches of ``batch_size`` samples.

    ``out[k]`` gets the hits of samples ``first + k * batch_size .. first +
    (k + 1) * batch_size - 1`` of ``seed`` (required here: the buffer has no
    room to report a drawn one). ``out`` is any writable, C-contiguous,
    8-byte aligned buffer of unsigned 64-bit integers (a NumPy ``uint64``
    array, ``array.array("Q")``, a ``memoryview`` cast to ``"Q"``; several
    dimensions are counted flat in C order) with at least ``num_batches``
    items; only the first ``num_batches`` are written. Every check is made
    before any work. With ``out=None`` a new ``array.array("Q")`` is
    returned: ``ValueError`` when no machine could address it, ``MemoryError``
    (saying how much) when this one cannot hold it. Otherwise ``out`` itself
    is returned; if an error (or Ctrl-C) interrupts the run, it may be partly
    filled. ``gpu`` as for ``estimate``.
    """
    size = _checks.count(batch_size, "batch_size")
    n = _checks.u64(num_batches, "num_batches")
    seed_ = _checks.u64(seed, "seed")
    first_ = _checks.u64(first, "first")
    backend_ = _checks.backend(backend)
    gpu_ = _checks.gpu(gpu)
    _checks.stream_range(first_, size * n, "batch_size * num_batches")
    if out is not None:
        pointer = _checks.uint64_buffer(out, n)
        if n:
            get_engine(backend_, 0, gpu_).count_hits_batched(seed_, first_, size, n, pointer)
        return out
    _checks.batch_output(n)
    engine = get_engine(backend_, 0, gpu_)
    hits = array.array("Q")
    chunk = ffi.new("uint64_t[]", min(n, _OUTPUT_CHUNK))
    done = 0
    while done < n:
        group = min(n - done, _OUTPUT_CHUNK)
        engine.count_hits_batched(seed_, first_ + done * size, size, group, chunk)
        try:
            hits.frombytes(ffi.buffer(chunk, 8 * group))
        except MemoryError:
            raise MemoryError(
                f"num_batches = {n} needs an output of {8 * n} bytes with out=None; "
                f"{8 * done} were allocated when memory ran out: count fewer batches per call"
            ) from None
        done += group
    return hits
