"""``python -m pi``: the command line front end.

Usage::

    python -m pi [N] [--seed S] [--backend auto|cpu|gpu] [--gpu all|K] [--threads T] [--first F]
                 [--json]
    python -m pi [N] (--scheduler tcp://HOST:8786 | --local-workers W) [--piece-size P]
    python -m pi devices
    python -m pi plot --out FILE.png [N] [--seed S] [--backend B] [--gpu all|K] [--threads T]
    python -m pi bench [--quick] [--out FILE.png] [--json FILE] [--repeat K] [--max-n N]
    python -m pi web [--port P] [--open]
    python -m pi config [--cflags] [--libs] [--includedir] [--libdir] [--fortran-module]

``N`` is a sample count, written as an integer or in exponent notation when
that is an exact integer (``1e9``, ``2.5e3``; not ``1.5e0``). Every argument
is checked from its text, at once, whatever its size, by the rules of the API
(``pi._checks``). Exit codes: 0 success, 1 a runtime failure (e.g. no GPU for
``--backend gpu``), 2 bad usage, 130 interrupted (Ctrl-C). Failures print one
line on stderr.

A command is an entry of ``COMMANDS``: its help, a function that adds its
arguments to its parser, and a function that runs it and returns the exit code.
"""

from __future__ import annotations

import argparse
import difflib
import json
import math
import re
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, NamedTuple, NoReturn

import pi
from pi import _api, _checks, _engine
from pi._lib import lib, read_string
from pi._pyplot import pyplot
from pi._result import pi_and_error

PROG = "python -m pi"
_DEFAULT_RUN = 10**8
_DEFAULT_PLOT = 10**7
_PROGRESS_DELAY = 1.0  # seconds before a progress bar appears
_SHOWN_TEXT = 40  # characters of a bad argument quoted in a message
# The largest exponent (Decimal.adjusted) of a count below 2**64 (about 1.8e19).
_MAX_ADJUSTED = 19
_INTEGER = re.compile(r"[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9_]+)")


class UsageError(Exception):
    """Bad command line usage (exit code 2)."""


def _quoted(text: str) -> str:
    return repr(text if len(text) <= _SHOWN_TEXT else text[:_SHOWN_TEXT] + "...")


# --- arguments, parsed from their text -----------------------------------------------------


def parse_count(text: str) -> int:
    """A sample count: ``1000``, ``1_000``, ``1e9``, ``2.5e3``; exact positive integers only."""
    try:
        value = Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {_quoted(text)}") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"not a whole number of samples: {_quoted(text)}")
    # Decided from the exponent before any big-integer arithmetic: 1e1000000 is quick.
    if value <= 0 or value.adjusted() > _MAX_ADJUSTED:
        raise argparse.ArgumentTypeError(f"must be between 1 and 2**64 - 1: {_quoted(text)}")
    n = int(value) if value.adjusted() >= 0 else 0
    if value != n:
        raise argparse.ArgumentTypeError(f"not a whole number of samples: {_quoted(text)}")
    if n > _checks.U64_MAX:
        raise argparse.ArgumentTypeError(f"must be between 1 and 2**64 - 1: {_quoted(text)}")
    return n


def _parse_integer(text: str) -> int:
    """An integer, decimal or ``0x`` / ``0o`` / ``0b``, its size decided from the text."""
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped):
        raise argparse.ArgumentTypeError(f"not an integer: {_quoted(text)}")
    if len(stripped.replace("_", "").lstrip("+-")) > 80:  # past 2**64 in any base
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**64 - 1: {_quoted(text)}")
    try:
        return int(stripped, 0)
    except ValueError:  # e.g. a decimal with leading zeros
        raise argparse.ArgumentTypeError(f"not an integer: {_quoted(text)}") from None


def parse_u64(text: str) -> int:
    """An integer in 0 .. 2**64 - 1 (a seed, a sample index), decimal or ``0x`` hex."""
    n = _parse_integer(text)
    if not 0 <= n <= _checks.U64_MAX:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**64 - 1: {_quoted(text)}")
    return n


def parse_threads(text: str) -> int:
    """CPU threads: 0 (one per core) up to ``PI_MAX_CPU_THREADS``."""
    try:
        return _checks.threads(_parse_integer(text), "the thread count")
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_gpu(text: str) -> int | str:
    """The GPUs: ``all`` or an adapter index as ``python -m pi devices`` numbers them."""
    if text.strip() == "all":
        return "all"
    try:
        n = _parse_integer(text)
        _checks.gpu(n)
    except (argparse.ArgumentTypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"must be 'all' or an adapter index 0 .. 2**31 - 1: {_quoted(text)}"
        ) from None
    return n


def parse_points(text: str) -> int:
    """Points on a curve: 2 or more."""
    n = parse_count(text)
    if n < 2:
        raise argparse.ArgumentTypeError(f"must be 2 or more: {_quoted(text)}")
    return n


#: Arguments kept as text by argparse and parsed after it, once every option is
#: known (so that an unknown option is named, not the value after it): dest ->
#: (name in messages, parser).
_PARSED_AFTER: dict[str, tuple[str, Callable[[str], Any]]] = {
    "num_points": ("N", parse_count),
    "seed": ("--seed", parse_u64),
    "first": ("--first", parse_u64),
    "threads": ("--threads", parse_threads),
    "gpu": ("--gpu", parse_gpu),
    "local_workers": ("--local-workers", parse_count),
    "piece_size": ("--piece-size", parse_count),
    "points": ("--points", parse_points),
}


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are ``UsageError`` (one line, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


# --- the commands ----------------------------------------------------------------------------


def _add_seed_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed",
        default=None,
        metavar="S",
        help="64-bit seed, decimal or 0x hex (default: fresh from the OS, printed)",
    )
    parser.add_argument(
        "--backend",
        choices=_checks.BACKENDS,
        default="auto",
        help="auto: a hardware GPU if any, else the CPU; gpu: any adapter (default: auto)",
    )


def _add_gpu_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gpu",
        default=None,
        metavar="all|K",
        help="the GPUs: all (every hardware GPU shares the run) or adapter K as "
        "`devices` lists them (default: what PI_GPU says, else the best adapter)",
    )
    parser.add_argument("--threads", default=None, metavar="T", help="CPU threads (default: all)")


def add_run_arguments(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "num_points",
        nargs="?",
        default=_DEFAULT_RUN,
        metavar="N",
        help=f"samples, e.g. 1e9 (default: {_DEFAULT_RUN:.0e})",
    )
    _add_seed_backend(run)
    _add_gpu_threads(run)
    run.add_argument("--first", default=0, metavar="F", help="first sample's index (default: 0)")
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
        default=None,
        metavar="W",
        help="run on a Dask LocalCluster of W worker processes (needs the 'distributed' extra)",
    )
    run.add_argument(
        "--piece-size",
        default=None,
        metavar="P",
        help="samples per Dask task with --scheduler/--local-workers (default: up to 2**30)",
    )


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


def _writable(text: str) -> str:
    """``text`` as stdout's encoding can write it: ``pi ~`` for ``pi ≈`` where it lacks ``≈``
    (Windows' cp1252 when piped), ``+/-`` for ``±`` likewise, ``?`` for any other character
    it lacks."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        for sign, plain in (("≈", "~"), ("±", "+/-")):
            if sign in text and not _can_write(sign, encoding):
                text = text.replace(sign, plain)
        return text.encode(encoding, errors="replace").decode(encoding)
    except LookupError:
        return text.encode("ascii", errors="replace").decode("ascii")


def _can_write(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _print_result(result: dict[str, Any]) -> None:
    std_error = result["std_error"]
    digits = max(1, min(15, 1 - math.floor(math.log10(std_error)))) if std_error > 0 else 15
    seconds = result["seconds"]
    rate = result["samples"] / seconds if seconds > 0 else float("inf")
    print(
        _writable(
            f"pi ≈ {result['pi']:.{digits}f} ± {std_error:.2g} (standard error; "
            f"true pi {math.pi:.{digits}f})"
        )
    )
    print(
        f"hits {result['hits']} of {result['samples']} samples from {result['first']}, "
        f"seed {result['seed']}"
    )
    print(_writable(f"backend {result['backend']}: {result['device']}"))
    if "pieces" in result:
        print(
            f"dask: {result['pieces']} pieces of up to {result['piece_size']} samples "
            f"on {result['workers']} workers, scheduler {result['scheduler']}"
        )
    print(f"time {seconds:.3g} s, {_format_rate(rate)} samples/s")


def cmd_run(args: argparse.Namespace) -> int:
    distributed = args.scheduler is not None or args.local_workers is not None
    if args.piece_size is not None and not distributed:
        raise UsageError("--piece-size needs --scheduler or --local-workers")
    if args.gpu is not None and distributed:
        raise UsageError("--gpu is for a run in this process: pin Dask workers with PI_GPU instead")
    try:
        _checks.stream_range(args.first, args.num_points, "N")
    except ValueError as e:
        raise UsageError(str(e).replace("first + N", "--first + N")) from None
    hook, bar = _progress(args.num_points, not args.no_progress and not args.json)
    try:
        if distributed:
            result = _run_distributed(args, hook)
        else:
            result = _api.run(
                args.num_points, args.seed, args.backend, args.threads, args.first, hook, args.gpu
            )
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print(json.dumps(result))
    else:
        _print_result(result)
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
    # Every adapter with its index, for --gpu / gpu= / PI_GPU (an index or all).
    for line in read_string(lib.pi_gpu_list).splitlines():
        print(f"gpu {line}")
    return 0


def add_plot_arguments(plot: argparse.ArgumentParser) -> None:
    plot.add_argument("--out", required=True, metavar="FILE", help="image file to write (.png)")
    plot.add_argument(
        "num_points",
        nargs="?",
        default=_DEFAULT_PLOT,
        metavar="N",
        help=f"samples (default: {_DEFAULT_PLOT:.0e})",
    )
    plot.add_argument("--points", default=200, help="points on the curve (default 200)")
    _add_seed_backend(plot)
    _add_gpu_threads(plot)


def checkpoints(n: int, points: int) -> list[int]:
    """About ``points`` sample counts, evenly spaced on a log scale, ending at ``n``."""
    start = min(n, 100)
    if points < 2 or n <= start:
        return [n]
    ratio = (n / start) ** (1 / (points - 1))
    marks = sorted({min(n, round(start * ratio**k)) for k in range(points)} | {n})
    return marks


def cmd_plot(args: argparse.Namespace) -> int:
    plt = pyplot()
    marks = checkpoints(args.num_points, args.points)
    seed = _checks.seed(args.seed)
    engine = _engine.get_engine(args.backend, _checks.threads(args.threads), _checks.gpu(args.gpu))
    xs: list[int] = []
    estimates: list[float] = []
    errors: list[float] = []
    hits = 0
    done = 0
    for mark in marks:
        hits += engine.count_hits(seed, done, mark - done)
        done = mark
        pi_hat, std_error = pi_and_error(hits, done)
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


def add_bench_arguments(bench: argparse.ArgumentParser) -> None:
    from pi import _bench

    _bench.add_arguments(bench, parse_count)


def cmd_bench(args: argparse.Namespace) -> int:
    from pi import _bench

    return _bench.main(args)


def add_web_arguments(web: argparse.ArgumentParser) -> None:
    from pi import _web

    _web.add_arguments(web)


def cmd_web(args: argparse.Namespace) -> int:
    from pi import _web

    return _web.main(args)


def add_config_arguments(config: argparse.ArgumentParser) -> None:
    from pi import _config

    _config.add_arguments(config)


def cmd_config(args: argparse.Namespace) -> int:
    from pi import _config

    return _config.main(args)


class Command(NamedTuple):
    """A subcommand: its help line, what adds its arguments, what runs it (-> exit code)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    pass


#: The subcommands, in the order ``--help`` lists them; ``run`` is the default.
COMMANDS: dict[str, Command] = {
    "run": Command("estimate pi (the default command)", add_run_arguments, cmd_run),
    "devices": Command("list what pi can count on", _no_arguments, cmd_devices),
    "plot": Command("plot the running estimate against the samples", add_plot_arguments, cmd_plot),
    "bench": Command(
        "measure the throughput of every backend (table, --out plot, --json)",
        add_bench_arguments,
        cmd_bench,
    ),
    "web": Command("serve the browser page (WebGPU) on 127.0.0.1", add_web_arguments, cmd_web),
    "config": Command(
        "print the flags to compile C, C++ or Fortran against this package's library",
        add_config_arguments,
        cmd_config,
    ),
}


# --- the parser and main -----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Monte Carlo estimate of pi from the Philox4x32-10 stream, "
        "bit-identical on CPU and GPU.",
        epilog="Without a command, `run` is meant: `python -m pi 1e9` estimates from 1e9 samples.",
    )
    parser.add_argument("--version", action="version", version=f"pi {pi.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.help))
    return parser


def _with_default_command(argv: Sequence[str]) -> list[str]:
    """Puts ``run`` in front unless a command or a top-level option comes first."""
    args = list(argv)
    if args and (args[0] in COMMANDS or args[0] in ("-h", "--help", "--version")):
        return args
    return ["run", *args]


def _unknown(extras: list[str], parser: argparse.ArgumentParser, command: str) -> UsageError:
    """The error for arguments ``command`` does not take: the first unknown option, named."""
    options = [a for a in extras if a.startswith("-") and a != "-"]
    if not options:
        return UsageError(f"unrecognized arguments: {' '.join(map(_quoted, extras))}")
    name = options[0].split("=", 1)[0]
    known = [s for action in _actions(parser, command) for s in action.option_strings]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return UsageError(f"unrecognized option {_quoted(name)}{hint}")


def _actions(parser: argparse.ArgumentParser, command: str) -> list[argparse.Action]:
    """The arguments of ``parser`` and of its subcommand ``command``."""
    actions = list(parser._actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            actions.extend(action.choices[command]._actions)
    return actions


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line as a namespace of checked values; ``UsageError`` if it is bad."""
    parser = build_parser()
    args, extras = parser.parse_known_args(_with_default_command(argv))
    args.command = args.command or "run"
    if extras:
        raise _unknown(extras, parser, args.command)
    for dest, (name, parse) in _PARSED_AFTER.items():
        value = getattr(args, dest, None)
        if isinstance(value, str):
            try:
                setattr(args, dest, parse(value))
            except argparse.ArgumentTypeError as e:
                raise UsageError(f"argument {name}: {e}") from None
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code."""
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        return COMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except UsageError as e:
        print(f"{PROG}: error: {e} (see {PROG} --help)", file=sys.stderr)
        return 2
    except (RuntimeError, ValueError, TypeError, OSError, MemoryError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
