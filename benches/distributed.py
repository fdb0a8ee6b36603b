"""Throughput of ``pi.distributed`` against the single-process CPU backend.

Usage (with ``pip install '.[distributed]'``)::

    python benches/distributed.py                       # LocalCluster of 1 and 2 workers
    python benches/distributed.py --samples 1e11 --scheduler tcp://HOST:8786

Prints a markdown table: samples/s of ``pi.estimate(backend="cpu")`` in this
process (all cores), then of ``pi.distributed.estimate`` on a ``LocalCluster``
of 1 and 2 worker processes (one task at a time each, the cores shared out
between them), or on the cluster at ``--scheduler``; then the cost of one
piece (Dask's per-task overhead), from a run of many tiny pieces. Each row is
the best of ``--repeat`` runs, with the spread across them (worst / best - 1)
and the samples per CPU-second that this process and the workers used (a
shared machine lowers it much less than the wall-clock rate); the machine's
load average is printed before and after. Every distributed
count is checked against the single-process one. Cluster start-up is timed
apart and not counted in the throughput.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import os
import platform
import sys
import time
from decimal import Decimal
from pathlib import Path

# This file is named distributed.py: keep its folder off sys.path, so that
# `import distributed` finds Dask's package, not this script.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import distributed  # noqa: E402

import pi  # noqa: E402
import pi.distributed as pd  # noqa: E402
from pi._bench import cpu_model  # noqa: E402

SEED = 2024


def count(text: str) -> int:
    return int(Decimal(text.replace("_", "")))


def best(runs: int, fn, cpu_clock):
    """The fastest of ``runs`` calls of ``fn()``: (result, its seconds, spread, CPU
    seconds), where the spread is the slowest run's seconds over the fastest's, minus
    1, and the CPU seconds are the fewest any run used by ``cpu_clock()``."""
    results, cpu = [], []
    for _ in range(runs):
        before = cpu_clock()
        results.append(fn())
        cpu.append(cpu_clock() - before)
    fastest = min(results, key=lambda r: r["seconds"])
    slowest = max(r["seconds"] for r in results)
    return fastest, fastest["seconds"], slowest / fastest["seconds"] - 1, min(cpu)


def cluster_cpu_clock(client):
    """CPU seconds used so far by this process (the client, and a LocalCluster's
    scheduler) and by every worker process."""

    def clock() -> float:
        return time.process_time() + sum(client.run(time.process_time).values())

    return clock


def spread(value: float) -> str:
    return f"{100 * value:.0f}%"


def load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def rate(samples: int, seconds: float) -> str:
    return f"{samples / seconds:.3g}"


def measure_cluster(client, label, n, piece_size, threads, repeat, reference, baseline) -> None:
    workers = len(client.scheduler_info()["workers"])
    # Warm up: every worker makes its engine (and imports pi) once.
    pd.estimate(workers * 4, SEED, client, 1, threads=threads)
    result, seconds, runs_spread, cpu = best(
        repeat,
        lambda: pd.estimate(n, SEED, client, piece_size, threads=threads),
        cluster_cpu_clock(client),
    )
    assert result["hits"] == reference, (result["hits"], reference)
    print(
        row(
            label,
            workers,
            result["piece_size"],
            result["pieces"],
            f"{seconds:.3f}",
            spread(runs_spread),
            rate(n, seconds),
            rate(n, cpu),
            f"{baseline / seconds:.2f}x",
        ),
        flush=True,
    )


def piece_cost(client, label, pieces, threads) -> None:
    """Seconds per piece of a run of ``pieces`` pieces of 1000 samples (~1 µs of work)."""
    pd.estimate(pieces, SEED, client, 1000, threads=threads)  # warm up
    _, seconds, runs_spread, cpu = best(
        3,
        lambda: pd.estimate(pieces * 1000, SEED, client, 1000, threads=threads),
        cluster_cpu_clock(client),
    )
    workers = len(client.scheduler_info()["workers"])
    print(
        row(
            label,
            workers,
            pieces,
            f"{seconds:.3f}",
            spread(runs_spread),
            f"{seconds / pieces * 1e3:.2f} ms",
            f"{cpu / pieces * 1e3:.2f} ms",
            f"{pieces / seconds:.0f}",
        ),
        flush=True,
    )


def local_cluster(workers: int):
    return distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=count, default=4 * 10**9, help="samples per run")
    parser.add_argument("--piece-size", type=count, default=None, help="default: pi.distributed's")
    parser.add_argument("--workers", default="1,2", help="LocalCluster sizes (default 1,2)")
    parser.add_argument("--scheduler", default=None, help="a running cluster instead")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row; the best counts")
    parser.add_argument("--overhead-pieces", type=int, default=2000)
    args = parser.parse_args()
    n = args.samples
    cores = os.cpu_count() or 1

    print(
        f"machine: {platform.machine()}, {cores} cores, {cpu_model()}; "
        f"Python {platform.python_version()}, pi {pi.__version__}, "
        f"dask.distributed {importlib.metadata.version('distributed')}"
    )
    print(f"command: {' '.join([os.path.basename(sys.executable), *sys.argv])}")
    print(f"load average before: {load()}")
    single, base_seconds, base_spread, base_cpu = best(
        args.repeat, lambda: pi.estimate(n, SEED, backend="cpu"), time.process_time
    )
    reference = single["hits"]
    print(f"samples per run: {n:.4g}, seed {SEED}, best of {args.repeat}\n")
    header = ("setup", "workers", "piece size", "pieces", "seconds", "spread", "samples/s")
    print(row(*header, "per CPU-s", "vs 1 process"))
    print(row(*["---"] * 9))
    print(
        row(
            f"1 process, CPU backend ({single['device']})",
            "-",
            "-",
            "-",
            f"{base_seconds:.3f}",
            spread(base_spread),
            rate(n, base_seconds),
            rate(n, base_cpu),
            "1.00x",
        ),
        flush=True,
    )

    clients = []
    setups: list[str] = []
    if args.scheduler:
        client = distributed.Client(args.scheduler)
        clients.append((f"dask at {args.scheduler}", client, None, None))
    else:
        for w in (int(x) for x in args.workers.split(",")):
            start = time.perf_counter()
            cluster = local_cluster(w)
            client = distributed.Client(cluster)
            client.wait_for_workers(w)
            setup = time.perf_counter() - start
            threads = max(1, cores // w)
            label = f"dask LocalCluster, {w} worker process(es) x {threads} thread(s)"
            clients.append((label, client, cluster, threads))
            setups.append(f"{w} worker(s) {setup:.1f} s")
    try:
        for label, client, _cluster, threads in clients:
            measure_cluster(
                client, label, n, args.piece_size, threads, args.repeat, reference, base_seconds
            )
        print("\nCost per piece (pieces of 1000 samples, ~1 µs of counting each):\n")
        header = ("setup", "workers", "pieces", "seconds", "spread", "per piece")
        print(row(*header, "CPU per piece", "pieces/s"))
        print(row(*["---"] * 8))
        for label, client, _cluster, threads in clients:
            piece_cost(client, label.split(",")[0], args.overhead_pieces, threads)
        if setups:
            print(f"\nLocalCluster start-up (not counted above): {', '.join(setups)}")
        print(f"load average after: {load()}")
    finally:
        for _label, client, cluster, _threads in clients:
            client.close()
            if cluster is not None:
                cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
