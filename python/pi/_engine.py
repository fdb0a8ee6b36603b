"""Native engines: a bounded, fork-safe cache of them, and runs Ctrl-C can stop.

A native call holds no Python lock (cffi releases the GIL), so several
Python threads may count at once on one engine. A long run is one native
call on the main thread, ``pi_count_hits_progress``, whose progress callback
(at most 20 calls a second, on the calling thread) runs Python code: there
Python handles Ctrl-C (a ``KeyboardInterrupt`` raised in the callback makes
it return non-zero, which stops the run with ``PI_ERROR_CANCELLED``; the
exception is raised again once the call has returned) and a progress hook
advances. Other threads (which Ctrl-C does not reach) and batched runs
(which have no progress call) are cut into pieces of about
``PIECE_SECONDS`` instead: a daemon thread still counting when the
interpreter exits must not call back into Python from inside the library,
where the interpreter's end of the thread would unwind through it. Pieces
never change a count, since hits of consecutive ranges add up exactly.

The cache holds one engine per backend for the default thread count and
GPU choice, and at most ``MAX_OTHER_ENGINES`` more (the most recently made,
for other thread counts or GPU choices) whose threads add up to at most
``max_other_threads()`` (the newest is always kept), so asking for many of
them does not pile up threads or devices: after ``threads=1017`` to
``1024`` one 1,024-thread engine is left, not four.
``close()`` empties it; an engine is freed once no call uses it. After
``os.fork()`` the child starts with an empty cache and fresh locks: engines
of the parent are left alone there (never used, never freed).
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from typing import Any, Callable, Optional

from ._checks import BACKENDS
from ._errors import NoDeviceError
from ._lib import check, ffi, lib, read_string

__all__ = [
    "GPU_DEFAULT",
    "GPU_OR_CPU",
    "MAX_OTHER_ENGINES",
    "OTHER_THREADS_PER_CORE",
    "Engine",
    "close",
    "get_engine",
    "max_other_threads",
]

_NAMES = {lib.PI_BACKEND_CPU: "cpu", lib.PI_BACKEND_GPU: "gpu"}

#: The engine of ``approximate_pi_gpu(fallback=True)`` (``PI_BACKEND_GPU_OR_CPU``):
#: any adapter, software ones included, else the CPU; the native engine
#: falls back as ``"auto"`` does. Not a ``backend=`` of the API.
GPU_OR_CPU = "gpu-or-cpu"
_CODES = {**BACKENDS, GPU_OR_CPU: lib.PI_BACKEND_GPU_OR_CPU}

#: The default GPU choice (``PI_GPU_DEFAULT``: what ``PI_GPU`` says).
GPU_DEFAULT = int(lib.PI_GPU_DEFAULT)

#: Engines kept for thread counts other than the default (0: one per core) or
#: GPU choices other than ``GPU_DEFAULT``.
MAX_OTHER_ENGINES = 4

#: Threads the "other" engines may hold together, per core (see ``max_other_threads``).
OTHER_THREADS_PER_CORE = 16


def max_other_threads() -> int:
    """The most CPU threads the cached engines for other thread counts hold together (the newest
    one is kept whatever its size): 16 per core, at least 64."""
    return max(64, OTHER_THREADS_PER_CORE * (os.cpu_count() or 1))


#: Runs of at most this many samples are one plain native call, with no
#: progress callback (a few milliseconds on any machine).
SMALL_RUN = 1 << 22

#: Target duration of one native call of a batched run, in seconds.
PIECE_SECONDS = 0.15
_MIN_PIECE = 1 << 20
_MAX_PIECE = 1 << 40
_FIRST_PIECE = 1 << 22

ProgressHook = Optional[Callable[[int], Any]]


class Engine:
    """A native engine (``pi_engine *``) and the piece size it runs at."""

    def __init__(self, backend: str, threads: int, gpu: int = GPU_DEFAULT) -> None:
        out = ffi.new("pi_engine **")
        if gpu == GPU_DEFAULT:
            check(lib.pi_engine_new(_CODES[backend], threads, out))
        else:
            check(lib.pi_engine_new_on(_CODES[backend], threads, gpu, out))
        self.raw = out[0]  # used for calls; does not own the engine
        # Owns the engine: pi_engine_free runs when this object is collected.
        self._owner: Any = ffi.gc(out[0], lib.pi_engine_free)
        self.key = (backend, threads, gpu)
        # Samples per native call; read and written without a lock (a stale
        # value only changes how a run is cut, never its count).
        self.piece = _FIRST_PIECE
        self._cells: list[Any] = []

    @property
    def backend(self) -> str:
        """The backend in use now: ``"cpu"`` or ``"gpu"``."""
        return _NAMES.get(lib.pi_engine_backend(self.raw), "cpu")

    def describe(self) -> str:
        """A one-line description of the hardware in use."""
        return read_string(lib.pi_engine_describe, self.raw)

    def _measured(self, samples: int, seconds: float) -> None:
        # Adapt the piece size to the throughput just seen (only from pieces
        # long enough to time; growth at most 8x per step).
        if seconds < 1e-3 or samples < _MIN_PIECE:
            if seconds < 1e-3 and samples >= self.piece:
                self.piece = min(_MAX_PIECE, self.piece * 8)
            return
        target = int(samples * PIECE_SECONDS / seconds)
        self.piece = max(_MIN_PIECE, min(_MAX_PIECE, target, self.piece * 8))

    def count_native(self, seed: int, first: int, count: int, out: Any, watch: _Watch) -> int:
        """One native call, watched by ``watch``: hits into ``out[0]``; returns the status."""
        call = lib.pi_count_hits_progress
        return int(call(self.raw, seed, first, count, watch.callback, ffi.NULL, out))

    def count_small(self, seed: int, first: int, count: int) -> int:
        """Hits of a run of at most ``SMALL_RUN`` samples: one plain native call."""
        # A result cell per call in flight, reused: each call takes one from
        # the list (or makes one) and puts it back, so two threads (or a
        # signal handler in between) never share one.
        cells = self._cells
        try:
            out = cells.pop()
        except IndexError:
            out = ffi.new("uint64_t *")
        status = lib.pi_count_hits(self.raw, seed, first, count, out)
        hits: int = out[0]
        cells.append(out)
        if status:
            check(status)
        return hits

    def count_hits(
        self, seed: int, first: int, count: int, on_progress: ProgressHook = None
    ) -> int:
        """Hits of samples ``first .. first + count - 1``; Ctrl-C stops it within 0.1 s.

        ``on_progress(samples)`` gets the samples counted since its last call,
        at most 20 times a second. A failing GPU is the native engine's to
        handle: one that falls back finishes on the CPU, others raise.
        """
        if count <= SMALL_RUN and on_progress is None:
            return self.count_small(seed, first, count)
        if threading.current_thread() is not threading.main_thread():
            return self.count_in_pieces(seed, first, count, on_progress)
        out = ffi.new("uint64_t *")
        watch = _Watch(on_progress)
        status = self.count_native(seed, first, count, out, watch)
        watch.raise_caught()
        check(status)
        return int(out[0])

    def count_piece(self, seed: int, first: int, count: int, out: Any) -> int:
        """One plain native call: hits into ``out[0]``; returns the status."""
        return int(lib.pi_count_hits(self.raw, seed, first, count, out))

    def count_in_pieces(self, seed: int, first: int, count: int, on_progress: ProgressHook) -> int:
        """``count_hits`` as plain native calls of about ``PIECE_SECONDS`` (other threads)."""
        hits = 0
        out = ffi.new("uint64_t *")
        while count > 0:
            piece = min(count, self.piece)
            start = time.perf_counter()
            check(self.count_piece(seed, first, piece, out))
            self._measured(piece, time.perf_counter() - start)
            hits += int(out[0])
            first += piece
            count -= piece
            if on_progress is not None:
                on_progress(piece)
        return hits

    def count_hits_batched(
        self,
        seed: int,
        first: int,
        batch_size: int,
        num_batches: int,
        out: Any,
        on_progress: ProgressHook = None,
    ) -> None:
        """Fills ``out[k]`` (a ``uint64_t *``) with the hits of batch ``k``, in pieces."""
        done = 0
        while done < num_batches:
            group = min(num_batches - done, max(1, self.piece // batch_size))
            if group == 1 and batch_size > SMALL_RUN:
                out[done] = self.count_hits(seed, first, batch_size, on_progress)
            else:
                start = time.perf_counter()
                check(
                    lib.pi_count_hits_batched(self.raw, seed, first, batch_size, group, out + done)
                )
                self._measured(group * batch_size, time.perf_counter() - start)
                if on_progress is not None:
                    on_progress(group * batch_size)
            done += group
            first += group * batch_size

    def leak(self) -> None:
        """Never free this engine (at exit, or a parent's engine in a forked child)."""
        ffi.gc(self._owner, None)


class _Watch:
    """The progress callback of a native call: feeds ``on_progress`` and stops the call on Ctrl-C.

    An exception in the callback (``KeyboardInterrupt`` from Ctrl-C, or one
    from ``on_progress``) is kept and makes the callback return non-zero,
    which stops the run; ``raise_caught`` raises it once the call returned.
    """

    def __init__(self, on_progress: ProgressHook) -> None:
        self.on_progress = on_progress
        self.reported = 0  # samples already passed to on_progress
        self.caught: BaseException | None = None
        self.callback = ffi.callback("pi_progress_fn", self._call, error=1, onerror=self._onerror)

    def _call(self, _user_data: Any, done: int, _total: int) -> int:
        if self.caught is not None:
            return 1
        if self.on_progress is not None and done > self.reported:
            step = done - self.reported
            self.reported = done
            self.on_progress(step)
        return 0

    def _onerror(self, _type: Any, value: BaseException | None, _traceback: Any) -> int:
        if self.caught is None and value is not None:
            self.caught = value
        return 1

    def raise_caught(self) -> None:
        """Raises the exception the callback caught, if any."""
        caught, self.caught = self.caught, None
        if caught is not None:
            raise caught


# The cache. Lookups read `_engines` without a lock (a dict read is atomic);
# `_lock` serializes making and evicting engines.
_lock = threading.Lock()
_Key = tuple[str, int, int]  # backend, threads, gpu
_engines: dict[_Key, Engine] = {}
_others: list[_Key] = []  # keys with threads != 0 or a GPU choice, oldest first
_no_device: dict[tuple[str, int], str] = {}  # (backend, gpu) -> its NoDeviceError's message


def get_engine(backend: str, threads: int, gpu: int = GPU_DEFAULT) -> Engine:
    """The engine for ``backend`` on ``threads`` CPU threads (0: all cores), made once.

    ``gpu``: a checked GPU choice (``_checks.gpu``): an adapter index,
    ``PI_GPU_ALL`` or ``PI_GPU_DEFAULT``. Raises ``NoDeviceError`` for
    ``"gpu"`` without that adapter (remembered, so later calls do not search
    again until ``close()``).
    """
    engine = _engines.get((backend, threads, gpu))
    if engine is not None:
        return engine
    return _make(backend, threads, gpu)


def _make(backend: str, threads: int, gpu: int) -> Engine:
    key = (backend, threads, gpu)
    with _lock:
        engine = _engines.get(key)
        if engine is not None:
            return engine
        if (backend, gpu) in _no_device:
            raise NoDeviceError(_no_device[backend, gpu])
        try:
            engine = Engine(backend, threads, gpu)
        except NoDeviceError as e:
            _no_device[backend, gpu] = str(e)
            raise
        _engines[key] = engine
        if threads or gpu != GPU_DEFAULT:
            _others.append(key)
            _evict()
        return engine


def _evict() -> None:
    # Oldest first, until the others fit both bounds; the newest always stays.
    while len(_others) > 1 and (
        len(_others) > MAX_OTHER_ENGINES or sum(k[1] for k in _others) > max_other_threads()
    ):
        _engines.pop(_others.pop(0), None)


def close() -> None:
    """Releases every engine the package holds: their CPU threads and GPU devices.

    Each engine is freed once no call uses it (a call in flight keeps its own
    until it returns); later calls make new engines. A GPU found missing, or
    given up after a device failure, is tried again.
    """
    with _lock:
        _engines.clear()
        _others.clear()
        _no_device.clear()


def _after_fork_in_child() -> None:
    # Only the forking thread exists in the child: a lock another thread held
    # stays held, so make new ones; the parent's engines are never used here.
    global _lock
    _lock = threading.Lock()
    for engine in _engines.values():
        engine.leak()
    _engines.clear()
    _others.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _at_exit() -> None:
    with _lock:
        for engine in _engines.values():
            engine.leak()
