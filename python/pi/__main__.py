"""``python -m pi``: the command line front end.

Usage::

    python -m pi [N] [--seed S] [--backend auto|cpu|gpu] [--threads T] [--json]
    python -m pi [N] (--scheduler tcp://HOST:8786 | --local-workers W) [--piece-size P]
    python -m pi devices
    python -m pi plot --out FILE.png [N] [--seed S] [--backend B]
    python -m pi bench [--quick] [--out FILE.png] [--json FILE] [--repeat K] [--max-n N]

``N`` is a sample count, written as an integer or in exponent notation when
that is an exact integer (``1e9``, ``2.5e3``; not ``1.5e0``). Exit codes:
0 success, 1 a runtime failure (e.g. no GPU for ``--backend gpu``), 2 bad
usage, 130 interrupted (Ctrl-C). Failures print one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

import pi
from pi import _api, _engine
from pi._lib import lib

PROG = "python -m pi"
COMMANDS = ("run", "devices", "plot", "bench")
_U64_MAX = (1 << 64) - 1
_DEFAULT_RUN = 10**8
_DEFAULT_PLOT = 10**7
_PROGRESS_DELAY = 1.0  # seconds before a progress bar appears


class UsageError(Exception):
    """Bad command line usage (exit code 2)."""


def parse_count(text: str) -> int:
    """A sample count: ``1000``, ``1_000``, ``1e9``, ``2.5e3``; exact positive integers only."""
    try:
        value = Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise argparse.ArgumentTypeError(f"not a whole number of samples: {text!r}")
    n = int(value)
    if not 1 <= n <= _U64_MAX:
        raise argparse.ArgumentTypeError(f"must be between 1 and 2**64 - 1: {text!r}")
    return n


def parse_seed(text: str) -> int:
    """A seed: an integer in 0 .. 2**64 - 1, decimal or ``0x`` hexadecimal."""
    try:
        n = int(text.replace("_", ""), 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= n <= _U64_MAX:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**64 - 1: {text!r}")
    return n


def parse_threads(text: str) -> int:
    """CPU threads: 0 (one per core) up to ``PI_MAX_CPU_THREADS``."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= n <= lib.PI_MAX_CPU_THREADS:
        raise argparse.ArgumentTypeError(
            f"must be 0 (all cores) up to {lib.PI_MAX_CPU_THREADS}: {text!r}"
        )
    return n


def _add_seed_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed",
        type=parse_seed,
        default=None,
        help="64-bit seed, decimal or 0x hex (default: fresh from the OS, printed)",
    )
    parser.add_argument(
        "--backend",
        choices=sorted(_engine.BACKENDS),
        default="auto",
        help="auto: a hardware GPU if any, else the CPU; gpu: any adapter (default: auto)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Monte Carlo estimate of pi from the Philox4x32-10 stream, "
        "bit-identical on CPU and GPU.",
        epilog="Without a command, `run` is meant: `python -m pi 1e9` estimates from 1e9 samples.",
    )
    parser.add_argument("--version", action="version", version=f"pi {pi.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{run,devices,plot,bench}")

    run = sub.add_parser("run", help="estimate pi (the default command)")
    run.add_argument(
        "num_points",
        nargs="?",
        type=parse_count,
        default=_DEFAULT_RUN,
        metavar="N",
        help=f"samples, e.g. 1e9 (default: {_DEFAULT_RUN:.0e})",
    )
    _add_seed_backend(run)
    run.add_argument(
        "--threads", type=parse_threads, default=None, help="CPU threads (default: one per core)"
    )
    run.add_argument(
        "--first", type=parse_seed, default=0, help="index of the first sample (default: 0)"
    )
    run.add_argument("--json", action="store_true", help="print the result as one JSON object")
    run.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    cluster = run.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler",
        metavar="ADDR",
        default=None,
        help="run on this Dask scheduler's workers, e.g. tcp://HOST:8786 "
        "(needs the 'distributed' extra)",
    )
    cluster.add_argument(
        "--local-workers",
        type=parse_count,
        default=None,
        metavar="W",
        help="run on a Dask LocalCluster of W worker processes (needs the 'distributed' extra)",
    )
    run.add_argument(
        "--piece-size",
        type=parse_count,
        default=None,
        metavar="P",
        help="samples per Dask task with --scheduler/--local-workers (default: up to 2**30)",
    )

    sub.add_parser("devices", help="list what pi can count on")

    plot = sub.add_parser("plot", help="plot the running estimate against the samples")
    plot.add_argument("--out", required=True, metavar="FILE", help="image file to write (.png)")
    plot.add_argument(
        "num_points",
        nargs="?",
        type=parse_count,
        default=_DEFAULT_PLOT,
        metavar="N",
        help=f"samples (default: {_DEFAULT_PLOT:.0e})",
    )
    plot.add_argument("--points", type=int, default=200, help="points on the curve (default 200)")
    _add_seed_backend(plot)

    from pi import _bench

    bench = sub.add_parser(
        "bench", help="measure the throughput of every backend (table, --out plot, --json)"
    )
    _bench.add_arguments(bench, parse_count)
    return parser


def _with_default_command(argv: Sequence[str]) -> list[str]:
    """Puts ``run`` in front unless a command or a top-level option comes first."""
    args = list(argv)
    if args and (args[0] in COMMANDS or args[0] in ("-h", "--help", "--version")):
        return args
    return ["run", *args]


def _progress(total: int, enabled: bool) -> tuple[Callable[[int], Any] | None, Any]:
    """A tqdm bar on stderr, shown after ``_PROGRESS_DELAY`` s, only on a terminal."""
    if not enabled or not sys.stderr.isatty():
        return None, None
    try:
        from tqdm import tqdm
    except ImportError:
        return None, None
    bar = tqdm(
        total=total,
        unit="sample",
        unit_scale=True,
        delay=_PROGRESS_DELAY,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
    )
    return bar.update, bar


def _format_rate(rate: float) -> str:
    return f"{rate:.3g}" if rate < 1e3 else f"{rate:.2e}"


def _run_distributed(args: argparse.Namespace, hook: Callable[[int], Any] | None) -> dict[str, Any]:
    """``cmd_run`` on a Dask cluster (``--scheduler`` or ``--local-workers``)."""
    try:
        from distributed import Client

        import pi.distributed
    except ImportError as e:
        hint = "pip install 'dask[distributed]': the 'distributed' extra"
        raise RuntimeError(f"{e} ({hint})") from None
    options = dict(first=args.first, backend=args.backend, threads=args.threads, on_progress=hook)
    if args.scheduler is None:
        return pi.distributed.estimate(
            args.num_points,
            args.seed,
            None,
            args.piece_size,
            local_workers=args.local_workers,
            **options,
        )
    with Client(args.scheduler) as client:
        return pi.distributed.estimate(
            args.num_points, args.seed, client, args.piece_size, **options
        )


def cmd_run(args: argparse.Namespace) -> int:
    if args.piece_size is not None and args.scheduler is None and args.local_workers is None:
        raise UsageError("--piece-size needs --scheduler or --local-workers")
    hook, bar = _progress(args.num_points, not args.no_progress and not args.json)
    try:
        if args.scheduler is not None or args.local_workers is not None:
            result = _run_distributed(args, hook)
        else:
            result = _api._run(
                args.num_points,
                args.seed,
                args.backend,
                args.threads,
                args.first,
                on_progress=hook,
            )
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print(json.dumps(result))
        return 0
    digits = (
        max(1, min(15, 1 - math.floor(math.log10(result["std_error"]))))
        if result["std_error"] > 0
        else 15
    )
    seconds = result["seconds"]
    rate = result["samples"] / seconds if seconds > 0 else float("inf")
    print(
        f"pi ≈ {result['pi']:.{digits}f} ± {result['std_error']:.2g} (standard error; "
        f"true pi {math.pi:.{digits}f})"
    )
    print(
        f"hits {result['hits']} of {result['samples']} samples from {result['first']}, "
        f"seed {result['seed']}"
    )
    print(f"backend {result['backend']}: {result['device']}")
    if "pieces" in result:
        print(
            f"dask: {result['pieces']} pieces of up to {result['piece_size']} samples "
            f"on {result['workers']} workers, scheduler {result['scheduler']}"
        )
    print(f"time {seconds:.3g} s, {_format_rate(rate)} samples/s")
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    cpu = _engine.get_engine("cpu", 0)
    print(f"cpu: {cpu.describe()}")
    try:
        gpu = _engine.get_engine("gpu", 0)
        print(f"gpu: {gpu.describe()}")
    except pi.NoDeviceError as e:
        print(f"gpu: no GPU: {e}")
    auto = _engine.get_engine("auto", 0)
    print(f"auto: {auto.backend} ({auto.describe()})")
    return 0


def checkpoints(n: int, points: int) -> list[int]:
    """About ``points`` sample counts, evenly spaced on a log scale, ending at ``n``."""
    start = min(n, 100)
    if points < 2 or n <= start:
        return [n]
    ratio = (n / start) ** (1 / (points - 1))
    marks = sorted({min(n, round(start * ratio**k)) for k in range(points)} | {n})
    return marks


def cmd_plot(args: argparse.Namespace) -> int:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        hint = "pip install matplotlib (the 'plot' extra)"
        raise RuntimeError(f"plotting needs matplotlib: {hint}") from None
    if args.points < 2:
        raise UsageError("--points must be 2 or more")
    marks = checkpoints(args.num_points, args.points)
    seed = _api._seed(args.seed)
    engine = _engine.get_engine(_api._backend(args.backend), 0)
    xs: list[int] = []
    estimates: list[float] = []
    errors: list[float] = []
    hits = 0
    done = 0
    for mark in marks:
        hits += engine.count_hits(seed, done, mark - done)
        done = mark
        pi_hat, std_error = _api._pi_and_error(hits, done)
        xs.append(done)
        estimates.append(pi_hat)
        errors.append(std_error)
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.fill_between(
        xs,
        [e - 2 * s for e, s in zip(estimates, errors)],
        [e + 2 * s for e, s in zip(estimates, errors)],
        color="tab:blue",
        alpha=0.2,
        label="±2 standard errors",
    )
    ax.plot(xs, estimates, color="tab:blue", label="running estimate")
    ax.axhline(math.pi, color="black", linestyle="--", linewidth=1, label="π")
    ax.set_xscale("log")
    ax.set_xlabel("samples")
    ax.set_ylabel("estimate of π")
    ax.set_title(f"Monte Carlo π, seed {seed}, backend {engine.backend}")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(args.out)
    plt.close(fig)
    print(
        f"wrote {args.out}: {len(xs)} points up to {done} samples, seed {seed}, "
        f"final estimate {estimates[-1]:.6f} ± {errors[-1]:.2g}"
    )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from pi import _bench

    return _bench.main(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(_with_default_command(sys.argv[1:] if argv is None else argv))
    command = {"run": cmd_run, "devices": cmd_devices, "plot": cmd_plot, "bench": cmd_bench}[
        args.command or "run"
    ]
    try:
        return command(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except UsageError as e:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except (RuntimeError, ValueError, TypeError, OSError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
