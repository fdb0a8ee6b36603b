"""Native engines, made once per (backend, threads) and reused; runs cut into pieces.

A native call holds no Python lock (cffi releases the GIL), so several
Python threads may count at once on one engine. Each long run is cut into
pieces of about ``PIECE_SECONDS`` each: between pieces Python handles Ctrl-C
and a progress hook can advance. Pieces never change a count, since hits of
consecutive ranges add up exactly.
"""

from __future__ import annotations

import atexit
import threading
import time
from typing import Any, Callable, Optional

from ._errors import NoDeviceError
from ._lib import check, ffi, lib, read_string

__all__ = ["BACKENDS", "Engine", "get_engine"]

#: Backend names and their ``PI_BACKEND_*`` codes.
BACKENDS = {"auto": lib.PI_BACKEND_AUTO, "cpu": lib.PI_BACKEND_CPU, "gpu": lib.PI_BACKEND_GPU}
_NAMES = {lib.PI_BACKEND_CPU: "cpu", lib.PI_BACKEND_GPU: "gpu"}

#: Target duration of one native call, in seconds.
PIECE_SECONDS = 0.15
_MIN_PIECE = 1 << 20
_MAX_PIECE = 1 << 40
_FIRST_PIECE = 1 << 22

ProgressHook = Optional[Callable[[int], Any]]


class Engine:
    """A native engine (``pi_engine *``) and the piece size it runs at."""

    def __init__(self, backend: int, threads: int) -> None:
        out = ffi.new("pi_engine **")
        check(lib.pi_engine_new(backend, threads, out))
        self._raw = out[0]  # used for calls; does not own the engine
        # Owns the engine: pi_engine_free runs when this object is collected.
        self._owner: Any = ffi.gc(out[0], lib.pi_engine_free)
        self._piece = _FIRST_PIECE
        self._piece_lock = threading.Lock()

    @property
    def backend(self) -> str:
        """The backend in use now: ``"cpu"`` or ``"gpu"``."""
        return _NAMES.get(lib.pi_engine_backend(self._raw), "cpu")

    def describe(self) -> str:
        """A one-line description of the hardware in use."""
        return read_string(lib.pi_engine_describe, self._raw)

    def _next_piece(self, remaining: int) -> int:
        return min(remaining, self._piece)

    def _measured(self, samples: int, seconds: float) -> None:
        # Adapt the piece size to the throughput just seen (only from pieces
        # long enough to time; growth at most 8x per step).
        if seconds < 1e-3 or samples < _MIN_PIECE:
            if seconds < 1e-3 and samples >= self._piece:
                with self._piece_lock:
                    self._piece = min(_MAX_PIECE, self._piece * 8)
            return
        target = int(samples * PIECE_SECONDS / seconds)
        with self._piece_lock:
            self._piece = max(_MIN_PIECE, min(_MAX_PIECE, target, self._piece * 8))

    def count_hits(
        self, seed: int, first: int, count: int, on_progress: ProgressHook = None
    ) -> int:
        """Hits of samples ``first .. first + count - 1``, counted in pieces."""
        hits = 0
        out = ffi.new("uint64_t *")
        while count > 0:
            piece = self._next_piece(count)
            start = time.perf_counter()
            check(lib.pi_count_hits(self._raw, seed, first, piece, out))
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
        """Fills ``out[k]`` (a ``uint64_t *``) with the hits of batch ``k``."""
        done = 0
        while done < num_batches:
            group = min(num_batches - done, max(1, self._piece // batch_size))
            if group == 1 and batch_size > self._piece:
                out[done] = self.count_hits(seed, first, batch_size, on_progress)
            else:
                start = time.perf_counter()
                status = lib.pi_count_hits_batched(
                    self._raw, seed, first, batch_size, group, out + done
                )
                check(status)
                self._measured(group * batch_size, time.perf_counter() - start)
                if on_progress is not None:
                    on_progress(group * batch_size)
            done += group
            first += group * batch_size

    def _leak(self) -> None:
        # At interpreter exit: never free (a daemon thread may still count).
        ffi.gc(self._owner, None)


_lock = threading.Lock()
_engines: dict[tuple[int, int], Engine] = {}
_no_device: dict[tuple[int, int], str] = {}


def get_engine(backend: str, threads: int) -> Engine:
    """The engine for ``backend`` on ``threads`` CPU threads (0: all cores), made once.

    Raises ``NoDeviceError`` for ``"gpu"`` without an adapter (remembered, so
    later calls do not search again).
    """
    key = (BACKENDS[backend], threads)
    with _lock:
        engine = _engines.get(key)
        if engine is not None:
            return engine
        if key in _no_device:
            raise NoDeviceError(_no_device[key])
        try:
            engine = Engine(*key)
        except NoDeviceError as e:
            _no_device[key] = str(e)
            raise
        _engines[key] = engine
        return engine


def clear_engines() -> None:
    """Forgets every engine (freed once no call uses it) and every missing device."""
    with _lock:
        _engines.clear()
        _no_device.clear()


@atexit.register
def _at_exit() -> None:
    with _lock:
        for engine in _engines.values():
            engine._leak()
