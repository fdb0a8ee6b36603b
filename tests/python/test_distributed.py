"""``pi.distributed``: a run on a Dask cluster counts the hits of one machine, exactly, or fails.

Uses a ``LocalCluster`` of 2 worker processes (one thread each), and clusters
whose workers see no GPU or a bad environment, for the errors raised on a
worker. Every test runs under a watchdog that ends the test process, with
every thread's traceback, if it hangs. Skips with the reason when
``dask[distributed]`` is not installed (``pip install '.[distributed]'``),
unless ``PI_REQUIRE_ALL=1``, which makes that a failure.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import math
import os
import signal
import threading
import time

import pytest

import pi
from _helpers import NO_GPU_ENV, cli, posix_only, require_all

try:
    import distributed
except ImportError as e:
    if require_all():
        pytest.fail(f"PI_REQUIRE_ALL=1 but dask.distributed is not installed: {e}", pytrace=False)
    pytest.skip(
        f"dask.distributed not installed (pip install '.[distributed]'): {e}",
        allow_module_level=True,
    )

import pi.distributed as pd
from pi._lib import lib

ESTIMATE_KEYS = {"pi", "std_error", "hits", "samples", "seed", "first", "backend", "device"}
# One piece of the fault tests: ~0.1 s of one core at ~1.2e9 samples/s (AVX-512).
SLOW_PIECE = 120_000_001
#: Seconds any one test may take before the watchdog ends the run.
WATCHDOG_SECONDS = 300


@pytest.fixture(autouse=True)
def watchdog():
    """Ends the test process, printing every thread's stack, if a test hangs."""
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def local_cluster(workers: int, env: dict[str, str] | None = None) -> distributed.LocalCluster:
    """A cluster of worker processes, one thread each, with ``env`` in their environment."""
    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: never clash on 8787
        silence_logs=logging.ERROR,
        env=env or {},
    )


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


def one_machine(n: int, seed: int, first: int = 0) -> int:
    return pi.estimate(n, seed=seed, first=first, backend="cpu")["hits"]


@pytest.mark.parametrize(
    ("n", "seed", "piece_size", "first"),
    [
        (1, 0, None, 0),
        (1001, 3, 7, 0),  # 143 pieces, the last of 0 .. 6 samples
        (10_000_019, 42, 999_983, 5),  # primes: the piece size does not divide the run
        (2**24 + 1, 2**64 - 1, 2**20, 2**40 + 3),
        (12_345_677, 7, None, 0),  # default piece size
        (99_999, 11, 100_000, 0),  # one piece bigger than the run
    ],
)
def test_equals_one_machine(client, n, seed, piece_size, first) -> None:
    result = pd.estimate(n, seed, client, piece_size, first=first, threads=1)
    assert result["hits"] == one_machine(n, seed, first)
    assert result["samples"] == n and result["seed"] == seed and result["first"] == first
    assert result["pi"] == 4 * result["hits"] / n
    if piece_size is not None:
        assert result["pieces"] == math.ceil(n / piece_size)
        assert result["piece_size"] == piece_size


def test_result_dict(client) -> None:
    result = pd.estimate(2_000_003, None, client, 100_003, threads=1)
    assert ESTIMATE_KEYS | {"seconds", "workers", "pieces"} <= set(result)
    assert 0 <= result["seed"] < 2**64  # drawn on the client, reported
    assert result["hits"] == one_machine(2_000_003, result["seed"])
    assert result["pieces"] == 20 and 1 <= result["workers"] <= 2
    assert result["backend"] in ("cpu", "gpu", "cpu+gpu")
    assert result["device"].startswith(f"dask: {result['workers']} worker")
    assert result["scheduler"] == client.scheduler.address
    assert math.isclose(result["std_error"], pi.estimate(2_000_003, result["seed"])["std_error"])


def test_progress_adds_up(client) -> None:
    seen: list[int] = []
    pd.estimate(1_000_003, 1, client, 99_991, threads=1, on_progress=seen.append)
    assert sum(seen) == 1_000_003 and len(seen) == 11


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"num_points": 0}, ValueError, "num_points"),
        ({"num_points": 1.5}, TypeError, "num_points"),
        ({"num_points": 10, "piece_size": 0}, ValueError, "piece_size"),
        ({"num_points": 10, "seed": -1}, ValueError, "seed"),
        ({"num_points": 10, "backend": "tpu"}, ValueError, "backend"),
        ({"num_points": 10, "first": 2**64 - 5}, ValueError, "end of the stream"),
        ({"num_points": 10, "retries": -1}, ValueError, "retries"),
        ({"num_points": 10, "retries": 1.0}, TypeError, "retries"),
        ({"num_points": 10, "no_worker_timeout": 0}, ValueError, "no_worker_timeout"),
        ({"num_points": 10, "no_worker_timeout": math.inf}, ValueError, "no_worker_timeout"),
        ({"num_points": 10, "no_worker_timeout": "5"}, TypeError, "no_worker_timeout"),
        ({"num_points": 10, "no_worker_timeout": True}, TypeError, "no_worker_timeout"),
        ({"num_points": 10, "local_workers": 2}, ValueError, "local_workers"),
    ],
)
def test_bad_arguments(client, kwargs, error, words) -> None:
    with pytest.raises(error, match=words):
        pd.estimate(client=client, **kwargs)


@pytest.mark.parametrize(
    ("workers", "error"), [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_bad_local_workers_before_any_cluster(workers, error) -> None:
    start = time.monotonic()
    with pytest.raises(error, match="local_workers"):
        pd.estimate(10, 1, local_workers=workers)
    assert time.monotonic() - start < 1  # refused at once, no cluster started


def test_gpu_backend_on_workers_like_here(client) -> None:
    """The workers run on this machine: they find the GPU it has, or raise as it does."""
    try:
        pi.estimate(1, seed=0, backend="gpu")
    except pi.NoDeviceError:
        with pytest.raises(pi.NoDeviceError):
            pd.estimate(10**6, 0, client, backend="gpu", retries=0)
    else:
        n = 3 * lib.PI_GPU_MIN_SAMPLES + 1  # pieces big enough for the GPU
        result = pd.estimate(n, 0, client, lib.PI_GPU_MIN_SAMPLES + 1, backend="gpu")
        assert result["backend"] == "gpu" and result["hits"] == one_machine(n, 0)


def assert_idle(client, within: float = 10.0) -> None:
    """No task of a failed run is left on the workers (the rest were cancelled)."""
    deadline = time.monotonic() + within
    while any(client.processing().values()):
        assert time.monotonic() < deadline, client.processing()
        time.sleep(0.05)


@pytest.fixture(scope="module")
def gpu_hidden_client():
    """A client of one worker that sees no GPU adapter, whatever this machine has."""
    with local_cluster(1, NO_GPU_ENV) as cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(1, timeout=60)
        yield client


@pytest.mark.parametrize("retries", [0, 2])
def test_no_device_on_worker_raised_as_is(gpu_hidden_client, retries) -> None:
    """``backend="gpu"`` on a worker without an adapter: ``pi.NoDeviceError`` from the
    worker, after its retries, with the library's message; nothing left running."""
    start = time.monotonic()
    with pytest.raises(pi.NoDeviceError, match="adapter"):
        pd.estimate(10**6, 0, gpu_hidden_client, 10**5, backend="gpu", retries=retries)
    assert time.monotonic() - start < 60
    assert_idle(gpu_hidden_client)
    # The worker and the client still work: "auto" falls back to the worker's CPU.
    result = pd.estimate(10**6, 0, gpu_hidden_client, 10**5, backend="auto")
    assert result["backend"] == "cpu" and result["hits"] == one_machine(10**6, 0)


def test_bad_worker_environment_raised_as_is() -> None:
    """A worker whose ``PI_BACKEND`` is not a backend: the ``ValueError`` its engine
    raises reaches the caller as is, naming the variable."""
    with (
        local_cluster(1, {"PI_BACKEND": "tpu"}) as cluster,
        distributed.Client(cluster) as client,
    ):
        with pytest.raises(ValueError, match="PI_BACKEND"):
            pd.estimate(10**6, 0, client, 10**5, backend="cpu", retries=1)
        assert_idle(client)


@posix_only
def test_worker_killed_mid_run(client) -> None:
    """A worker process killed mid-run: its pieces run again elsewhere, same count."""
    n = 16 * SLOW_PIECE + 12_345
    pids = client.run(os.getpid)
    killed: list[str] = []

    def kill_one(_samples: int) -> None:
        # After the first piece: kill a worker that is counting a piece now.
        if not killed:
            busy = [address for address, keys in client.processing().items() if keys]
            os.kill(pids[busy[0]], signal.SIGKILL)
            killed.append(busy[0])

    result = pd.estimate(n, 2024, client, SLOW_PIECE, threads=1, on_progress=kill_one)
    assert killed
    assert result["hits"] == one_machine(n, 2024)
    assert result["pieces"] == 17
    # The nanny restarts the killed worker: later tests get 2 workers again.
    client.wait_for_workers(2, timeout=30)


def test_client_closed_mid_run_raises_in_bounded_time(cluster) -> None:
    other = distributed.Client(cluster)
    closer: list[threading.Thread] = []

    def close_after_first(_samples: int) -> None:
        if not closer:
            closer.append(threading.Thread(target=other.close))
            closer[0].start()

    start = time.monotonic()
    try:
        with pytest.raises(pd.ClusterError, match="closed"):
            pd.estimate(
                40 * SLOW_PIECE, 5, other, SLOW_PIECE, threads=1, on_progress=close_after_first
            )
    finally:
        other.close()
    assert closer and time.monotonic() - start < 20


def test_all_workers_gone_raises() -> None:
    """Workers retired mid-run and none back: an error after ``no_worker_timeout``."""
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            dashboard_address=":0",  # any free port: never clash on 8787
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        retired: list[bool] = []

        def retire(_samples: int) -> None:
            if not retired:
                retired.append(True)
                cluster.scale(0)

        start = time.monotonic()
        with pytest.raises(pd.ClusterError, match="no Dask workers"):
            pd.estimate(
                40 * SLOW_PIECE,
                5,
                client,
                SLOW_PIECE,
                threads=1,
                no_worker_timeout=2,
                on_progress=retire,
            )
        assert retired and time.monotonic() - start < 20
        # And a run that starts without any worker waits no longer than that either.
        with pytest.raises(pd.ClusterError, match="no Dask workers"):
            pd.estimate(10, 5, client, no_worker_timeout=1)


def test_cli_scheduler(client) -> None:
    address = client.scheduler.address
    proc = cli("10_000_019", "--seed", "9", "--scheduler", address, "--piece-size", "1e6", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["hits"] == one_machine(10_000_019, 9)
    assert result["pieces"] == 11 and result["scheduler"] == address
    text = cli("1e6", "--seed", "9", "--scheduler", address, "--threads", "1")
    assert text.returncode == 0, text.stderr
    assert f"hits {one_machine(10**6, 9)} of 1000000 samples" in text.stdout
    assert "dask: " in text.stdout


def test_cli_local_workers() -> None:
    proc = cli("3e6", "--seed", "4", "--local-workers", "2", "--piece-size", "999_999", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["hits"] == one_machine(3 * 10**6, 4)
    assert result["pieces"] == 4


@pytest.mark.parametrize(
    "args",
    [
        ["1e6", "--piece-size", "10"],  # without a cluster
        ["1e6", "--scheduler", "tcp://x:1", "--local-workers", "2"],
        ["1e6", "--local-workers", "0"],
    ],
)
def test_cli_bad_usage(args) -> None:
    proc = cli(*args)
    assert proc.returncode == 2, proc.stderr


def test_cli_unreachable_scheduler() -> None:
    # Dask's connect timeout (default 30 s) bounds the wait.
    env = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}
    proc = cli("1e6", "--scheduler", "tcp://127.0.0.1:9", env=env, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("python -m pi: error:")
