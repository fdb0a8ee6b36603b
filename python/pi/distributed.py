"""Scale-out: the same estimate on a Dask cluster, identical to one machine.

Needs the ``distributed`` extra (``pip install '.[distributed]'`` from the source tree, which
installs ``dask[distributed]``). Because hits of consecutive ranges of the
stream add up exactly, a run ``(seed, first, num_points)`` cut into contiguous
pieces and counted on many machines gives the very count of
``pi.estimate(num_points, seed, first=first)`` on one::

    from dask.distributed import Client
    import pi.distributed

    client = Client("tcp://scheduler-host:8786")
    result = pi.distributed.estimate(10**12, seed=42, client=client)
    assert result["hits"] == pi.estimate(10**12, seed=42)["hits"]

Each piece is one Dask task (``pi.distributed._count_piece``), run on a
worker with that worker's own engine: its GPU if it has a hardware one
(``backend="auto"``), else its CPU. Workers are separate processes that import
the ``pi`` installed on their machine. Pieces are pure, so Dask's scheduler
runs again, elsewhere, the pieces of a worker that is lost in the middle of a
run, and the answer does not change. A run that cannot finish (every worker
gone for ``no_worker_timeout`` seconds, the client closed, the scheduler
lost, a piece that kills worker after worker) raises ``ClusterError`` (a
``RuntimeError``) with a message, instead of hanging.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any, Callable

from . import _api

__all__ = ["DEFAULT_PIECE_SIZE", "ClusterError", "estimate"]

try:
    import distributed as _dd
except ImportError as _e:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "pi.distributed needs Dask's distributed scheduler: "
        "pip install 'dask[distributed]' (the 'distributed' extra)"
    ) from _e

#: Largest default piece: about a second of one CPU core (~1.3e9 samples/s per
#: core with AVX-512), a fraction of a second of a GPU. Dask's overhead is
#: about a millisecond per task, so pieces this size cost well under 1 %.
DEFAULT_PIECE_SIZE = 1 << 30

#: Default pieces per worker thread when the run is small enough that
#: ``DEFAULT_PIECE_SIZE`` would leave workers idle.
_PIECES_PER_THREAD = 4

#: Seconds without a finished piece between health checks of the cluster.
_POLL_SECONDS = 0.5

#: Sleep between polls for finished pieces.
_IDLE_SECONDS = 0.002

#: Upper bound on futures in flight at once, whatever the cluster size.
_MAX_IN_FLIGHT = 10_000


class ClusterError(RuntimeError):
    """A distributed run could not finish: no workers, the client or scheduler
    gone, or a piece that kept killing its workers."""


# --- the task that runs on a worker ---------------------------------------------------------


def _count_piece(seed: int, first: int, count: int, backend: str, threads: int) -> tuple:
    """Hits of samples ``first .. first + count - 1`` of ``seed``, on this worker.

    Runs on a Dask worker; returns ``(hits, backend used, device, worker address)``.
    """
    from pi import _engine

    engine = _engine.get_engine(backend, threads)
    hits = engine.count_hits(seed, first, count)
    try:
        address = _dd.get_worker().address
    except ValueError:  # not in a worker (called directly)
        address = "local"
    return hits, engine.backend, engine.describe(), address


# --- the client side ------------------------------------------------------------------------


def _pieces(first: int, count: int, piece_size: int) -> Iterator[tuple[int, int]]:
    """``(first, count)`` of consecutive pieces covering ``first .. first + count - 1``."""
    end = first + count
    while first < end:
        size = min(piece_size, end - first)
        yield first, size
        first += size


def _worker_threads(client: Any) -> int:
    """Worker threads in the cluster now (0 when there are no workers)."""
    try:
        return sum(client.nthreads().values())
    except Exception:  # the scheduler is unreachable: treated as no workers
        return 0


@contextlib.contextmanager
def _local_client(n_workers: int | None) -> Iterator[tuple[Any, int]]:
    """A ``LocalCluster`` of worker processes on this machine and a client to it.

    Yields ``(client, threads)``: ``threads`` is the CPU threads each worker's
    engine should use, so that the workers together use every core once.
    """
    cores = os.cpu_count() or 1
    workers = min(cores, 4) if n_workers is None else n_workers
    if workers < 1:
        raise ValueError(f"local_workers must be >= 1, got {workers}")
    cluster = _dd.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: never clash on 8787
        silence_logs=logging.ERROR,
    )
    try:
        with _dd.Client(cluster) as client:
            yield client, max(1, cores // workers)
    finally:
        cluster.close()


def _check_health(client: Any, no_workers_since: float | None, limit: float) -> float | None:
    """Raises ``ClusterError`` if the run cannot go on; returns when workers were
    first seen missing (``None`` while there are some)."""
    if client.status not in ("running", "connecting", "newly-created"):
        raise ClusterError(f"the Dask client was closed in the middle of the run ({client.status})")
    if _worker_threads(client) > 0:
        return None
    now = time.monotonic()
    if no_workers_since is None:
        return now
    if now - no_workers_since >= limit:
        raise ClusterError(
            f"no Dask workers for {limit:g} s (all workers gone, or the scheduler "
            f"unreachable): the run cannot finish"
        )
    return no_workers_since


def estimate(
    num_points: Any,
    seed: Any = None,
    client: Any = None,
    piece_size: Any = None,
    *,
    first: Any = 0,
    backend: str = "auto",
    threads: Any = None,
    local_workers: int | None = None,
    retries: int = 2,
    no_worker_timeout: float = 60.0,
    on_progress: Callable[[int], Any] | None = None,
) -> dict[str, Any]:
    """Estimates pi from samples ``first .. first + num_points - 1`` on a Dask cluster.

    The run is cut into contiguous pieces of ``piece_size`` samples (the last
    may be shorter), one Dask task each; the hits are added up, so ``hits``
    equals ``pi.estimate(num_points, seed, first=first)["hits"]`` exactly.

    ``client``: a ``dask.distributed.Client``; ``None`` starts a
    ``LocalCluster`` of ``local_workers`` worker processes on this machine
    (default: one per core, at most 4), used for this call and closed after.
    ``piece_size``: samples per task; ``None`` picks ``DEFAULT_PIECE_SIZE``
    (2**30), or less so that each worker thread gets about 4 pieces.
    ``backend``: each worker's engine (``"auto"``: its hardware GPU if any,
    else its CPU). ``threads``: CPU threads of each worker's engine (``None``:
    all of its machine's cores, or, on the local cluster, an equal share).
    ``retries``: times a piece whose task raised is run again. Workers lost
    mid-run are handled by Dask: their pieces run again elsewhere.
    ``no_worker_timeout``: seconds to wait with no workers at all (at the start
    or mid-run) before raising ``ClusterError``. ``on_progress(samples)`` is
    called as each piece finishes. ``seed=None`` draws a fresh 64-bit seed
    here, on the client, and the result reports it.

    Returns the dict of ``pi.estimate`` (``pi``, ``std_error``, ``hits``,
    ``samples``, ``seed``, ``first``, ``backend``, ``device``, ``seconds``)
    where ``backend`` is the backends the pieces ran on, joined by ``+``
    (``"cpu"``, ``"gpu"`` or ``"cpu+gpu"``), ``device`` says
    ``"dask: N workers (cpu: ...)"`` with each distinct device, and
    ``seconds`` is the wall time from the first submission to the last
    result; plus ``workers`` (distinct workers that counted a piece),
    ``pieces``, ``piece_size`` and ``scheduler`` (the scheduler's address).

    Raises ``ClusterError`` when the run cannot finish; an exception raised by
    a piece itself (e.g. ``pi.NoDeviceError`` for ``backend="gpu"`` on a
    worker without a GPU) is raised as is, after its retries.
    """
    n = _api._u64(num_points, "num_points", minimum=1)
    seed_ = _api._seed(seed)
    first_ = _api._u64(first, "first")
    backend_ = _api._backend(backend)
    _api._range(first_, n, "num_points")
    size = None if piece_size is None else _api._u64(piece_size, "piece_size", minimum=1)
    engine_threads = None if threads is None else _api._threads(threads)
    retries_ = _api._int(retries, "retries")
    if retries_ < 0:
        raise ValueError(f"retries must be >= 0, got {retries_}")
    if not no_worker_timeout > 0:
        raise ValueError(f"no_worker_timeout must be > 0, got {no_worker_timeout!r}")

    if client is not None:
        return _estimate_on(
            client,
            n,
            seed_,
            first_,
            backend_,
            size,
            engine_threads or 0,
            retries_,
            no_worker_timeout,
            on_progress,
        )
    with _local_client(local_workers) as (local, share):
        threads_ = share if engine_threads is None else engine_threads
        return _estimate_on(
            local,
            n,
            seed_,
            first_,
            backend_,
            size,
            threads_,
            retries_,
            no_worker_timeout,
            on_progress,
        )


def _estimate_on(
    client: Any,
    n: int,
    seed: int,
    first: int,
    backend: str,
    piece_size: int | None,
    threads: int,
    retries: int,
    no_worker_timeout: float,
    on_progress: Callable[[int], Any] | None,
) -> dict[str, Any]:
    try:
        client.wait_for_workers(1, timeout=no_worker_timeout)
    except (TimeoutError, OSError) as e:
        raise ClusterError(
            f"no Dask workers joined {client.scheduler.address} within {no_worker_timeout:g} s: {e}"
        ) from e
    worker_threads = max(1, _worker_threads(client))
    if piece_size is None:
        piece_size = max(1, min(DEFAULT_PIECE_SIZE, n // (_PIECES_PER_THREAD * worker_threads)))
    num_pieces = math.ceil(n / piece_size)
    # Futures in flight at once: enough to keep every worker busy and to make
    # Dask's per-task latency overlap; submitted in batches (one client.map
    # each) when half have finished, so a run of 2**40 pieces stays cheap.
    in_flight_limit = min(_MAX_IN_FLIGHT, max(1024, 64 * worker_threads))

    # Results come back through as_completed, fetched in the client's event loop
    # (no round trip per piece from this thread); polled, so that this loop can
    # check the cluster's health while nothing finishes.
    finished = _dd.as_completed(loop=client.loop, with_results=True, raise_errors=False)
    pending: dict[Any, int] = {}  # future -> samples
    todo = _pieces(first, n, piece_size)
    hits = 0
    backends: set[str] = set()
    devices: set[str] = set()
    workers: set[str] = set()
    token = uuid.uuid4().hex[:16]
    submitted = 0
    start = time.perf_counter()

    def submit_more() -> None:
        nonlocal submitted
        if len(pending) > in_flight_limit // 2:
            return
        batch = list(itertools.islice(todo, in_flight_limit - len(pending)))
        if not batch:
            return
        futures = client.map(
            _count_piece,
            [seed] * len(batch),
            [piece[0] for piece in batch],
            [piece[1] for piece in batch],
            [backend] * len(batch),
            [threads] * len(batch),
            key=[f"pi-piece-{token}-{submitted + i}" for i in range(len(batch))],
            pure=True,
            retries=retries,
        )
        submitted += len(batch)
        for future, piece in zip(futures, batch):
            pending[future] = piece[1]
        finished.update(futures)

    no_workers_since: float | None = None
    last_news = time.monotonic()
    try:
        submit_more()
        while pending:
            batch = finished.next_batch(block=False)
            if not batch:
                now = time.monotonic()
                if now - last_news >= _POLL_SECONDS:
                    last_news = now
                    no_workers_since = _check_health(client, no_workers_since, no_worker_timeout)
                time.sleep(_IDLE_SECONDS)
                continue
            last_news = time.monotonic()
            no_workers_since = None
            for future, result in batch:
                samples = pending.pop(future)
                if future.status == "cancelled":
                    raise ClusterError(
                        "a piece was cancelled: the Dask client was closed or lost its "
                        "scheduler in the middle of the run"
                    )
                if future.status == "error":
                    error = result[1]
                    if isinstance(error, _dd.KilledWorker):
                        raise ClusterError(
                            f"a piece of the run killed every worker it was given ({error})"
                        ) from error
                    raise error
                piece_hits, piece_backend, device, address = result
                hits += piece_hits
                backends.add(piece_backend)
                devices.add(f"{piece_backend}: {device}")
                workers.add(address)
                if on_progress is not None:
                    on_progress(samples)
            submit_more()
    finally:
        if pending and client.status == "running":
            with contextlib.suppress(Exception):
                client.cancel(list(pending))
    seconds = time.perf_counter() - start

    pi_hat, std_error = _api._pi_and_error(hits, n)
    count = len(workers)
    return {
        "pi": pi_hat,
        "std_error": std_error,
        "hits": hits,
        "samples": n,
        "seed": seed,
        "first": first,
        "backend": "+".join(sorted(backends)),
        "device": f"dask: {count} worker{'s' if count != 1 else ''} ({'; '.join(sorted(devices))})",
        "seconds": seconds,
        "workers": count,
        "pieces": num_pieces,
        "piece_size": piece_size,
        "scheduler": client.scheduler.address,
    }
