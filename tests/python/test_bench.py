"""``python -m pi bench``: its structure, ratios, spreads and output files (never its timings)."""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from _helpers import DATA, NO_GPU_ENV, child_env, run_python
from pi import _bench_limits, _bench_measure, _bench_report
from pi._lib import lib

HAS_NUMPY = importlib.util.find_spec("numpy") is not None
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
SMALL_ROWS = {f"small-{n}" for n in _bench_measure.SMALL_NS} | {
    f"c-call-{_bench_measure.SMALL_NS[0]}"
}


def bench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pi", "bench", *args],
        capture_output=True,
        text=True,
        env=child_env(env),
        timeout=300,
        cwd=DATA,
    )


def rows_by_name(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in results["rows"]}


def check_row(row: dict[str, Any]) -> None:
    """A row's figures agree with one another: best <= median <= worst, the spread and
    the rate from the best time, each ratio from its reference rate."""
    assert row["n"] > 0 and row["calls"] >= 1 and row["repeats"] >= 1, row
    assert 0 < row["seconds"] <= row["median"] <= row["worst"], row
    assert math.isclose(row["spread"], row["worst"] / row["seconds"] - 1, abs_tol=1e-12), row
    assert row["spread"] >= 0
    assert math.isclose(row["rate"], row["n"] / row["seconds"]), row
    if row["cpu_seconds"] is None:
        assert row["cpu_rate"] is None
    else:
        assert math.isclose(row["cpu_rate"], row["n"] / row["cpu_seconds"]), row
    if row["limit"] is None:
        assert row["limit_rate"] is None and row["ratio_limit"] is None, row
    else:
        assert row["limit_rate"] > 0
        assert math.isclose(row["ratio_limit"], row["rate"] / row["limit_rate"]), row


def numpy_rate_at(results: dict[str, Any], n: int) -> float:
    """NumPy's rate at the largest n <= n of its sweep."""
    points = [p for p in results["series"]["numpy"]["points"] if p["n"] <= n]
    return points[-1]["rate"]


def test_quick_json_and_plot(tmp_path: Path) -> None:
    out_json = tmp_path / "bench.json"
    out_png = tmp_path / "bench.png"
    proc = bench("--quick", "--json", str(out_json), "--out", str(out_png))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    results = json.loads(out_json.read_text())
    rows = rows_by_name(results)
    meta = results["meta"]
    cores = meta["cores"]
    assert cores >= 1
    assert meta["gpu_min_samples"] == lib.PI_GPU_MIN_SAMPLES
    assert meta["cpu_model"] and meta["cpu_model"] in proc.stdout  # the machine is recorded
    assert meta["load_before"] is None or f"load {meta['load_before']}" in proc.stdout

    expected = {"python", "cpu-1", f"cpu-{min(cores, 8)}"} | SMALL_ROWS
    if HAS_NUMPY:
        expected.add("numpy")
    assert expected <= set(rows), sorted(rows)
    cpu_threads = sorted(row["threads"] for row in rows.values() if row["kind"] == "cpu")
    if cores <= 8:
        assert cpu_threads == list(range(1, cores + 1))
    for row in results["rows"]:
        check_row(row)
        assert row["label"] in proc.stdout  # every row is in the printed table
        assert row["limit"] is None or row["limit"] in results["limits"]
    for name in results["limits"]:
        assert f"limit: {name}: " in proc.stdout

    # the limit of each kind of row
    assert rows["python"]["limit"] == ("NumPy" if HAS_NUMPY else None)
    for name in SMALL_ROWS:
        assert rows[name]["kind"] == "small" and rows[name]["n"] in _bench_measure.SMALL_NS
        assert rows[name]["limit"] == ("NumPy" if HAS_NUMPY else None)
        assert rows[name]["ratio_numpy"] == rows[name]["ratio_limit"]
        assert rows[name]["repeats"] >= _bench_measure.SMALL_REPEAT
    if meta["cpu_kernel"] in _bench_limits.CYCLES_PER_SAMPLE and meta["cpu_ghz"]:
        cycles = _bench_limits.CYCLES_PER_SAMPLE[meta["cpu_kernel"]]
        for row in rows.values():
            if row["kind"] == "cpu":
                core = meta["cpu_ghz"] * 1e9 / cycles
                assert row["limit"] == f"{meta['cpu_kernel']} bound"
                assert math.isclose(row["limit_rate"], min(row["threads"], cores) * core)
                # per CPU-second against one core (the process's CPU clock always ticks here)
                assert math.isclose(row["cpu_ratio_core"], row["cpu_rate"] / core)
                assert f"{row['cpu_ratio_core']:.2f}x one core's" in proc.stdout
        assert any("implies a clock of" in note for note in results["notes"])
    else:
        assert all(row["limit"] is None for row in rows.values() if row["kind"] == "cpu")
    if HAS_NUMPY:
        assert rows["numpy"]["ratio_numpy"] == 1.0 and rows["numpy"]["limit"] is None
        for name in ("python", "cpu-1"):
            expected_ratio = rows[name]["rate"] / numpy_rate_at(results, rows[name]["n"])
            assert math.isclose(rows[name]["ratio_numpy"], expected_ratio)
        # the small-call goal is judged in a note, from the same figures
        small = [note for note in results["notes"] if note.startswith("small calls:")]
        assert len(small) == 1
        met = all(
            rows[f"small-{n}"]["ratio_numpy"] >= _bench_report.SMALL_GOAL
            for n in _bench_measure.SMALL_NS
        )
        assert small[0].endswith(": met" if met else ": not met")
    if "gpu" not in rows:
        assert any("GPU" in note for note in results["notes"])
    else:
        assert str(lib.PI_GPU_MIN_SAMPLES) in rows["gpu"]["label"]

    # the sweep behind the plot: n from 1e2 up, every point with its spread
    for series in results["series"].values():
        points = series["points"]
        assert points and points[0]["n"] == 100
        assert [p["n"] for p in points] == sorted(p["n"] for p in points)
        for p in points:
            assert 0 < p["seconds"] <= p["median"] <= p["worst"] and p["rate"] > 0
    # native backends count the same hits at the same n
    assert not any("disagree" in note for note in results["notes"])

    if HAS_MATPLOTLIB:
        assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"wrote {out_png}" in proc.stdout


def test_options_without_gpu(tmp_path: Path) -> None:
    out_json = tmp_path / "b.json"
    proc = bench(
        "--quick",
        "--max-n",
        "1e3",
        "--repeat",
        "1",
        "--cpu-ghz",
        "3.5",
        "--json",
        str(out_json),
        env=NO_GPU_ENV,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out_json.read_text())
    meta = results["meta"]
    assert meta["settings"]["repeat"] == 1
    assert meta["cpu_ghz"] == 3.5 and meta["cpu_ghz_source"] == "--cpu-ghz"
    assert meta["gpu_device"] is None
    assert "gpu" not in rows_by_name(results)
    assert any("no GPU adapter" in note for note in results["notes"])
    assert "note: no GPU adapter" in proc.stdout
    for series in results["series"].values():
        assert max(p["n"] for p in series["points"]) <= 1000
    for row in results["rows"]:
        check_row(row)
        assert row["repeats"] == (_bench_measure.SMALL_REPEAT if row["kind"] == "small" else 1)


def test_without_numpy_and_matplotlib(tmp_path: Path) -> None:
    # Importing a module whose sys.modules entry is None raises ImportError.
    out_png = tmp_path / "b.png"
    out_json = tmp_path / "b.json"
    code = (
        "import sys\n"
        "sys.modules['numpy'] = None\n"
        "sys.modules['matplotlib'] = None\n"
        "from pi.__main__ import main\n"
        f"sys.exit(main(['bench', '--quick', '--max-n', '1000', '--repeat', '1',"
        f" '--out', {str(out_png)!r}, '--json', {str(out_json)!r}]))\n"
    )
    proc = run_python(code, env=NO_GPU_ENV)
    assert proc.returncode == 0, proc.stderr
    assert "matplotlib is not installed" in proc.stdout
    assert "numpy is not installed" in proc.stdout
    assert "samples/s" in proc.stdout  # the table is still printed
    assert not out_png.exists()
    results = json.loads(out_json.read_text())
    rows = rows_by_name(results)
    assert "numpy" not in rows and "python" in rows and "cpu-1" in rows
    assert set(rows) >= SMALL_ROWS
    for row in rows.values():
        check_row(row)
        assert row["ratio_numpy"] is None
    assert not any(note.startswith("small calls:") for note in results["notes"])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--repeat", "0"], "--repeat: must be 1 to 1000000"),
        (["--repeat", "x"], "--repeat: not an integer"),
        (["--cpu-ghz", "0"], "--cpu-ghz: must be 0.1 to 10"),
        (["--cpu-ghz", "nan"], "--cpu-ghz: must be 0.1 to 10"),
        (["--cpu-ghz", "x"], "--cpu-ghz: not a number"),
    ],
)
def test_bad_options(args: list[str], words: str) -> None:
    proc = bench("--quick", *args)
    assert proc.returncode == 2
    assert words in proc.stderr and "Traceback" not in proc.stderr


# --- the pieces, in-process, on made-up figures --------------------------------------------


def test_point_spread() -> None:
    p = _bench_measure.Point.of(
        1000, [2e-6, 1e-6, 4e-6], calls=10, hits=7, cpu_times=[3e-6, 2e-6, 5e-6]
    )
    assert (p.seconds, p.median, p.worst) == (1e-6, 2e-6, 4e-6)
    assert p.spread == pytest.approx(3.0) and p.rate == pytest.approx(1e9)
    assert p.repeats == 3 and p.hits == 7
    assert p.cpu_seconds == 2e-6 and p.cpu_rate == pytest.approx(5e8)
    assert _bench_measure.Point.of(1000, [1e-6], calls=1, cpu_times=[0.0]).cpu_rate is None


def test_format_n() -> None:
    assert [_bench_measure.format_n(n) for n in (100, 1000, 10**4, 3 * 10**5, 10**9, 12345)] == [
        "100",
        "1000",
        "1e4",
        "3e5",
        "1e9",
        "12345",
    ]


def test_limits() -> None:
    device = "CPU, 2 threads, avx512 kernel"
    assert _bench_limits.cpu_kernel(device) == "avx512"
    assert _bench_limits.cpu_kernel("CPU") is None
    bound = _bench_limits.cpu_bound(4, 2, "avx512", 2.1)  # threads beyond the cores do not count
    assert bound is not None and bound.name == "avx512 bound"
    assert bound.rate == pytest.approx(2 * 2.1e9 / _bench_limits.CYCLES_PER_SAMPLE["avx512"])
    assert _bench_limits.cpu_bound(1, 2, "scalar", 2.1) is None  # no bound stated
    assert _bench_limits.cpu_bound(1, 2, "avx512", None) is None  # no clock
    ceiling = _bench_limits.gpu_ceiling("GPU: NVIDIA H200 (Vulkan, NVIDIA 580.159.04, DiscreteGpu)")
    assert ceiling is not None and ceiling.rate == _bench_limits.GPU_CEILINGS["H200"]
    assert _bench_limits.gpu_ceiling("GPU: llvmpipe (LLVM 15.0.6, 256 bits) (Vulkan, Cpu)") is None
    ghz, source = _bench_limits.cpu_clock(3.25)
    assert (ghz, source) == (3.25, "--cpu-ghz")


def test_numpy_limit_past_its_sweep() -> None:
    numpy = _bench_measure.Series("numpy", "NumPy", "numpy", _bench_measure.python_counter, 1.0)
    numpy.points = [_bench_measure.Point.of(n, [n / 1e8], 1) for n in (100, 1000)]
    assert _bench_limits.numpy_limit(numpy, 10) is None
    numpy.points[-1].rate = 2e8
    assert _bench_limits.numpy_limit(numpy, 999).rate == pytest.approx(1e8)
    assert _bench_limits.numpy_limit(numpy, 1000).rate == 2e8
    assert _bench_limits.numpy_limit(numpy, 10**6).rate == 2e8  # past its sweep: its largest n


@pytest.mark.parametrize(("ratio", "verdict"), [(2.5, "met"), (1.5, "not met")])
def test_small_call_goal(ratio: float, verdict: str) -> None:
    rows = [
        _bench_report.make_row(
            f"small-{n}",
            "api",
            "small",
            None,
            _bench_measure.Point.of(n, [n / (ratio * 1e8)], 1),
            _bench_limits.Limit("NumPy", 1e8, "NumPy"),
            _bench_limits.Limit("NumPy", 1e8, "NumPy"),
        )
        for n in _bench_measure.SMALL_NS
    ]
    notes = _bench_report.summary_notes(rows, "avx512")
    assert notes == [
        "small calls: pi.approximate_pi_cpu(n) takes "
        + ", ".join(
            f"{1 / ratio:.2f}x at n = {_bench_measure.format_n(n)}" for n in _bench_measure.SMALL_NS
        )
        + f" of NumPy's time (goal: at most 0.5x): {verdict}"
    ]


def test_measure_together_interleaves() -> None:
    calls: list[str] = []

    def make(name: str, result: object):
        return lambda: calls.append(name) or result

    points = _bench_measure.measure_together({"a": make("a", 7), "b": make("b", 1.5)}, 10, 3, 0.0)
    # a warm-up call each, then one call each per repeat, in turn
    assert calls == ["a", "b"] + ["a", "b"] * 3
    assert points["a"].hits == 7 and points["b"].hits is None
    for p in points.values():
        assert p.n == 10 and p.repeats == 3 and p.calls == 1
        assert 0 < p.seconds <= p.median <= p.worst
