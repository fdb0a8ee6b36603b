"""The report of ``python -m pi bench``: rows against their limits, notes, table and plot."""

from __future__ import annotations

from typing import Any

from ._bench_limits import (
    CYCLES_PER_SAMPLE,
    NUMPY_BASIS,
    Limit,
    Machine,
    cpu_bound,
    gpu_ceiling,
    numpy_limit,
)
from ._bench_measure import SMALL_REPEAT, Point, Series, format_n
from ._pyplot import pyplot

#: The small-call goal: ``approximate_pi_cpu(n)`` at least this many times NumPy's throughput.
SMALL_GOAL = 2.0


def make_row(
    name: str,
    label: str,
    kind: str,
    threads: int | None,
    point: Point,
    numpy: Limit | None,
    limit: Limit | None,
) -> dict[str, Any]:
    """One table row: a point, its ratio to NumPy and to its limit."""
    return {
        "name": name,
        "label": label,
        "kind": kind,
        "threads": threads,
        "n": point.n,
        "seconds": point.seconds,
        "median": point.median,
        "worst": point.worst,
        "spread": point.spread,
        "repeats": point.repeats,
        "rate": point.rate,
        "cpu_seconds": point.cpu_seconds,
        "cpu_rate": point.cpu_rate,
        "calls": point.calls,
        "ratio_numpy": point.rate / numpy.rate if numpy else None,
        "limit": limit.name if limit else None,
        "limit_rate": limit.rate if limit else None,
        "ratio_limit": point.rate / limit.rate if limit else None,
        "cpu_ratio_core": None,  # CPU rows: cpu_rate against one core's bound
    }


def sweep_rows(
    series: list[Series], machine: Machine
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Each series at its largest n against its limit; and the basis of the limits used
    (NumPy's apart: ``NUMPY_BASIS``)."""
    numpy = next((s for s in series if s.kind == "numpy"), None)
    rows, limits = [], {}
    for s in series:
        p = s.points[-1]
        vs_numpy = numpy_limit(numpy, p.n)
        if s.kind == "cpu":
            limit = cpu_bound(s.threads or 1, machine.cores, machine.kernel, machine.ghz)
        elif s.kind == "gpu":
            limit = gpu_ceiling(machine.gpu_device or "")
        else:  # the Python API against NumPy; NumPy is the baseline itself
            limit = vs_numpy if s.kind == "python" else None
        if limit is not None and limit.name != "NumPy":
            limits[limit.name] = limit.basis
        row = make_row(s.name, s.label, s.kind, s.threads, p, vs_numpy, limit)
        core = cpu_bound(1, 1, machine.kernel, machine.ghz) if s.kind == "cpu" else None
        row["cpu_ratio_core"] = p.cpu_rate / core.rate if core and p.cpu_rate else None
        rows.append(row)
    return rows, limits


def small_call_rows(
    measured: list[tuple[str, str, Point, Point | None]],
) -> list[dict[str, Any]]:
    """The small-call rows, each against NumPy at the same n."""
    rows = []
    for name, label, point, numpy in measured:
        limit = None if numpy is None else Limit("NumPy", numpy.rate, NUMPY_BASIS)
        rows.append(make_row(name, label, "small", None, point, limit, limit))
    return rows


def summary_notes(rows: list[dict[str, Any]], kernel: str | None) -> list[str]:
    """What the rows say: CPU scaling, the clock each CPU figure implies at its bound,
    and the small calls against their goal."""
    notes = []
    cpu = {r["threads"]: r for r in rows if r["kind"] == "cpu"}
    if 1 in cpu and len(cpu) > 1:
        top = max(cpu)
        notes.append(
            f"cpu scaling: {top} threads = {cpu[top]['rate'] / cpu[1]['rate']:.2f}x one thread"
        )
    cycles = CYCLES_PER_SAMPLE.get(kernel or "")
    if cycles is not None and 1 in cpu:
        implied = cpu[1]["rate"] * cycles / 1e9
        notes.append(
            f"cpu, 1 thread at {cycles} cycles per sample implies a clock of {implied:.2f} GHz"
        )
    for threads, row in sorted(cpu.items()):
        if row["cpu_ratio_core"] is not None:
            notes.append(
                f"cpu, {threads} thread{'s' if threads > 1 else ''}: {row['cpu_rate']:.3g} "
                f"samples per CPU-second, {row['cpu_ratio_core']:.2f}x one core's {row['limit']}"
            )
    small = [r for r in rows if r["kind"] == "small" and r["name"].startswith("small-")]
    if small and all(r["ratio_numpy"] is not None for r in small):
        parts = ", ".join(f"{1 / r['ratio_numpy']:.2f}x at n = {format_n(r['n'])}" for r in small)
        met = all(r["ratio_numpy"] >= SMALL_GOAL for r in small)
        notes.append(
            f"small calls: pi.approximate_pi_cpu(n) takes {parts} of NumPy's time "
            f"(goal: at most {1 / SMALL_GOAL:g}x): {'met' if met else 'not met'}"
        )
    return notes


# --- output --------------------------------------------------------------------------------


def format_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def format_table(results: dict[str, Any]) -> str:
    meta = results["meta"]
    header = ("what", "n", "time/call", "spread", "samples/s", "per CPU-s", "vs NumPy", "vs limit")
    lines = [
        (
            r["label"],
            format_n(r["n"]),
            format_seconds(r["seconds"]),
            f"{100 * r['spread']:.1f}%",
            f"{r['rate']:.3g}",
            "-" if r["cpu_rate"] is None else f"{r['cpu_rate']:.3g}",
            format_ratio(r["ratio_numpy"]),
            "-" if r["limit"] is None else f"{format_ratio(r['ratio_limit'])} {r['limit']}",
        )
        for r in results["rows"]
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def fmt(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:-1], widths[1:-1])]
        return "  ".join([first, *rest, cells[-1]]).rstrip()

    settings = meta["settings"]
    out = [
        f"pi {meta['pi_version']} bench: best of {settings['repeat']} (small calls: of "
        f"{max(settings['repeat'], SMALL_REPEAT)}), Python {meta['python']}, "
        f"{meta['cores']} cores, load {meta['load_before']} -> {meta['load_after']}",
        f"cpu: {meta['cpu_device']} ({meta['cpu_model']}, {meta['machine']})",
        f"gpu: {meta['gpu_device'] or 'none'}",
        "",
        fmt(header),
        fmt(tuple("-" * w for w in widths)),
        *(fmt(line) for line in lines),
        "",
        "spread: worst / best time of one call across the repeats, minus 1; per CPU-s: samples "
        "per CPU-second the process used (all its threads), which a shared machine lowers less",
        *(f"limit: {name}: {basis}" for name, basis in results["limits"].items()),
    ]
    if meta["cpu_ghz"] is not None:
        out.append(f"clock: {meta['cpu_ghz']:.3g} GHz from {meta['cpu_ghz_source']}")
    out.extend(f"note: {note}" for note in results["notes"])
    return "\n".join(out)


def _plot_series(ax: Any, results: dict[str, Any]) -> None:
    """Each swept backend's throughput against n, with its spread (worst to best) as a band."""
    styles = {"python": ":", "numpy": "--", "cpu": "-", "gpu": "-."}
    for series in results["series"].values():
        points = series["points"]
        ns = [p["n"] for p in points]
        (line,) = ax.plot(
            ns,
            [p["rate"] for p in points],
            styles.get(series["kind"], "-"),
            marker="o",
            markersize=3,
            label=series["label"],
        )
        ax.fill_between(
            ns,
            [p["n"] / p["worst"] for p in points],
            [p["rate"] for p in points],
            color=line.get_color(),
            alpha=0.15,
            linewidth=0,
        )


def _plot_limits(ax: Any, results: dict[str, Any]) -> None:
    """The CPU rows' instruction bounds as labelled horizontal lines."""
    for row in results["rows"]:
        if row["kind"] == "cpu" and row["limit_rate"]:
            ax.axhline(row["limit_rate"], color="gray", linestyle=":", linewidth=0.8)
            ax.annotate(
                f"{row['limit']}, {row['threads']} thread{'s' if row['threads'] > 1 else ''}",
                (1.0, row["limit_rate"]),
                xycoords=("axes fraction", "data"),
                ha="right",
                va="bottom",
                fontsize=7,
                color="gray",
            )


def _plot_text(fig: Any, ax: Any, results: dict[str, Any]) -> None:
    """Axes, title, legend, the small-call rows in a corner and the machine (with its load)."""
    meta = results["meta"]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples per call (n)")
    ax.set_ylabel("samples per second")
    ax.set_title(
        f"pi {meta['pi_version']}: Monte Carlo throughput, best of {meta['settings']['repeat']}"
        f" (band: worst repeat)"
    )
    small = [r for r in results["rows"] if r["kind"] == "small"]
    if small:
        text = "\n".join(
            f"{r['label']}: {format_seconds(r['seconds'])}/call, "
            f"{format_ratio(r['ratio_numpy'])} NumPy"
            for r in small
        )
        ax.text(
            0.99,
            0.02,
            text,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            family="monospace",
        )
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    device = meta["cpu_device"] + (f"\ngpu: {meta['gpu_device']}" if meta["gpu_device"] else "")
    device += f"\nload {meta['load_before']} -> {meta['load_after']}"
    fig.text(0.01, 0.005, device, fontsize=7, va="bottom", color="gray")


def write_plot(results: dict[str, Any], path: str) -> str | None:
    """Writes the throughput-against-n plot; returns a note instead when matplotlib is missing."""
    try:
        plt = pyplot()
    except RuntimeError as e:
        return f"{e}: no plot written to {path}"
    fig, ax = plt.subplots(figsize=(8, 5.5))
    _plot_series(ax, results)
    _plot_limits(ax, results)
    _plot_text(fig, ax, results)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return None
