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
import numbers
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable

from . import _checks
from ._result import result as result_dict

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

    Runs on a Dask worker, through the worker's ``pi.estimate``; returns ``(hits,
    backend used, device, worker address)``.
    """
    import pi

    result = pi.estimate(count, seed=seed, backend=backend, threads=threads, first=first)
    try:
        address = _dd.get_worker().address
    except ValueError:  # not in a worker (called directly)
        address = "local"
    return result["hits"], result["backend"], result["device"], address


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
def _local_client(workers: int) -> Iterator[tuple[Any, int]]:
    """A ``LocalCluster`` of ``workers`` worker processes on this machine and a client to it.

    Yields ``(client, threads)``: ``threads`` is the CPU threads each worker's
    engine should use, so that the workers together use every core once.
    """
    cores = os.cpu_count() or 1
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
    run = _checked_run(
        num_points, seed, first, backend, piece_size, threads, retries, no_worker_timeout
    )
    run.on_progress = on_progress
    if client is not None:
        if local_workers is not None:
            raise ValueError("local_workers is for a LocalCluster: give it without a client")
        return _estimate_on(client, run)
    with _local_client(_local_workers(local_workers)) as (local, share):
        if threads is None:
            run.threads = share
        return _estimate_on(local, run)


def _checked_run(
    num_points: Any,
    seed: Any,
    first: Any,
    backend: Any,
    piece_size: Any,
    threads: Any,
    retries: Any,
    no_worker_timeout: Any,
) -> _Run:
    """The arguments of ``estimate`` checked (the rules of ``pi._checks``), as a ``_Run``."""
    n = _checks.count(num_points, "num_points")
    first_ = _checks.u64(first, "first")
    _checks.stream_range(first_, n)
    retries_ = _checks.integer(retries, "retries")
    if retries_ < 0:
        raise ValueError(f"retries must be >= 0, got {_checks.shown(retries_)}")
    if isinstance(no_worker_timeout, bool) or not isinstance(no_worker_timeout, numbers.Real):
        kind = type(no_worker_timeout).__name__
        raise TypeError(f"no_worker_timeout must be a number of seconds, not {kind}")
    if not 0 < no_worker_timeout < math.inf:
        raise ValueError(f"no_worker_timeout must be > 0 and finite, got {no_worker_timeout!r}")
    return _Run(
        n=n,
        seed=_checks.seed(seed),
        first=first_,
        backend=_checks.backend(backend),
        piece_size=None if piece_size is None else _checks.count(piece_size, "piece_size"),
        threads=_checks.threads(threads),
        retries=retries_,
        no_worker_timeout=float(no_worker_timeout),
        on_progress=None,
    )


def _local_workers(local_workers: Any) -> int:
    """Worker processes of the LocalCluster: ``None`` for one per core, at most 4."""
    if local_workers is None:
        return min(os.cpu_count() or 1, 4)
    workers = _checks.integer(local_workers, "local_workers")
    if workers < 1:
        raise ValueError(f"local_workers must be >= 1, got {_checks.shown(workers)}")
    return workers


@dataclass
class _Run:
    """One distributed run: the checked arguments of ``estimate``."""

    n: int
    seed: int
    first: int
    backend: str
    piece_size: int | None  # None: chosen from the cluster's size
    threads: int
    retries: int
    no_worker_timeout: float
    on_progress: Callable[[int], Any] | None


@dataclass
class _Tally:
    """What the finished pieces said so far."""

    hits: int = 0
    backends: set[str] = field(default_factory=set)
    devices: set[str] = field(default_factory=set)
    workers: set[str] = field(default_factory=set)

    def add(self, piece: tuple) -> None:
        hits, backend, device, address = piece
        self.hits += hits
        self.backends.add(backend)
        self.devices.add(f"{backend}: {device}")
        self.workers.add(address)


class _Submitter:
    """Submits the pieces of a run in batches (one ``client.map`` each), keeping at most
    ``limit`` futures in flight: enough to keep every worker busy and to overlap Dask's
    per-task latency, few enough that a run of 2**40 pieces stays cheap. Finished
    futures arrive through ``finished`` (an ``as_completed``)."""

    def __init__(self, client: Any, run: _Run, piece_size: int, limit: int) -> None:
        self.client = client
        self.run = run
        self.limit = limit
        self.todo = _pieces(run.first, run.n, piece_size)
        self.pending: dict[Any, int] = {}  # future -> samples
        self.submitted = 0
        self.token = uuid.uuid4().hex[:16]
        # Results are fetched in the client's event loop (no round trip per piece from
        # this thread), and polled, so that the caller can check the cluster meanwhile.
        self.finished = _dd.as_completed(loop=client.loop, with_results=True, raise_errors=False)

    def top_up(self) -> None:
        """Submits the next batch once half of the futures in flight have finished."""
        if len(self.pending) > self.limit // 2:
            return
        batch = list(itertools.islice(self.todo, self.limit - len(self.pending)))
        if not batch:
            return
        run = self.run
        futures = self.client.map(
            _count_piece,
            [run.seed] * len(batch),
            [first for first, _ in batch],
            [count for _, count in batch],
            [run.backend] * len(batch),
            [run.threads] * len(batch),
            key=[f"pi-piece-{self.token}-{self.submitted + i}" for i in range(len(batch))],
            pure=True,
            retries=run.retries,
        )
        self.submitted += len(batch)
        for future, (_, count) in zip(futures, batch):
            self.pending[future] = count
        self.finished.update(futures)

    def cancel_pending(self) -> None:
        """Cancels what is still in flight (after an error), if the client can."""
        if self.pending and self.client.status == "running":
            with contextlib.suppress(Exception):
                self.client.cancel(list(self.pending))


def _wait_for_workers(client: Any, timeout: float) -> int:
    """Waits for a first worker; returns the worker threads of the cluster."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (TimeoutError, OSError) as e:
        raise ClusterError(
            f"no Dask workers joined {client.scheduler.address} within {timeout:g} s: {e}"
        ) from e
    return max(1, _worker_threads(client))


def _plan(n: int, piece_size: int | None, worker_threads: int) -> tuple[int, int]:
    """``(piece size, futures in flight at most)`` for a run of n samples."""
    if piece_size is None:
        piece_size = max(1, min(DEFAULT_PIECE_SIZE, n // (_PIECES_PER_THREAD * worker_threads)))
    return piece_size, min(_MAX_IN_FLIGHT, max(1024, 64 * worker_threads))


def _piece_outcome(future: Any, result: Any) -> tuple:
    """The ``_count_piece`` result of a finished future, or the error it stands for."""
    if future.status == "cancelled":
        raise ClusterError(
            "a piece was cancelled: the Dask client was closed or lost its scheduler in the "
            "middle of the run"
        )
    if future.status == "error":
        error = result[1]
        if isinstance(error, _dd.KilledWorker):
            raise ClusterError(
                f"a piece of the run killed every worker it was given ({error})"
            ) from error
        raise error
    return result


def _collect(client: Any, submitter: _Submitter, run: _Run, tally: _Tally) -> None:
    """Adds up finished pieces into ``tally`` until none is left, checking the cluster's
    health whenever nothing has finished for ``_POLL_SECONDS``."""
    no_workers_since: float | None = None
    last_news = time.monotonic()
    submitter.top_up()
    while submitter.pending:
        batch = submitter.finished.next_batch(block=False)
        if not batch:
            if time.monotonic() - last_news >= _POLL_SECONDS:
                last_news = time.monotonic()
                no_workers_since = _check_health(client, no_workers_since, run.no_worker_timeout)
            time.sleep(_IDLE_SECONDS)
            continue
        last_news, no_workers_since = time.monotonic(), None
        for future, result in batch:
            samples = submitter.pending.pop(future)
            tally.add(_piece_outcome(future, result))
            if run.on_progress is not None:
                run.on_progress(samples)
        submitter.top_up()


def _estimate_on(client: Any, run: _Run) -> dict[str, Any]:
    """Runs ``run`` on ``client``'s cluster; the result dict of ``estimate``."""
    worker_threads = _wait_for_workers(client, run.no_worker_timeout)
    piece_size, in_flight = _plan(run.n, run.piece_size, worker_threads)
    submitter = _Submitter(client, run, piece_size, in_flight)
    tally = _Tally()
    start = time.perf_counter()
    try:
        _collect(client, submitter, run, tally)
    finally:
        submitter.cancel_pending()
    seconds = time.perf_counter() - start

    count = len(tally.workers)
    devices = "; ".join(sorted(tally.devices))
    return result_dict(
        tally.hits,
        run.n,
        run.seed,
        run.first,
        "+".join(sorted(tally.backends)),
        f"dask: {count} worker{'s' if count != 1 else ''} ({devices})",
        seconds,
        workers=count,
        pieces=math.ceil(run.n / piece_size),
        piece_size=piece_size,
        scheduler=client.scheduler.address,
    )
