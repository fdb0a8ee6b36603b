"""``python -m pi bench``: the benchmark runs, writes its JSON and plot, and degrades gracefully."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from _helpers import DATA, NO_GPU_ENV, child_env, run_python

HAS_NUMPY = importlib.util.find_spec("numpy") is not None
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


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


def test_quick_json_and_plot(tmp_path: Path) -> None:
    out_json = tmp_path / "bench.json"
    out_png = tmp_path / "bench.png"
    proc = bench("--quick", "--json", str(out_json), "--out", str(out_png))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    results = json.loads(out_json.read_text())
    rows = rows_by_name(results)
    cores = results["meta"]["cores"]
    assert cores >= 1

    expected = {"python", "cpu-1", f"cpu-{min(cores, 8)}", "overhead-api", "overhead-raw"}
    if HAS_NUMPY:
        expected.add("numpy")
    assert expected <= set(rows), sorted(rows)
    cpu_threads = sorted(row["threads"] for row in rows.values() if row["kind"] == "cpu")
    if cores <= 8:
        assert cpu_threads == list(range(1, cores + 1))
    for row in results["rows"]:
        assert row["rate"] > 0 and row["seconds"] > 0 and row["n"] > 0, row
        assert row["label"] in proc.stdout  # every row is in the printed table
    if HAS_NUMPY:
        assert rows["numpy"]["ratio_numpy"] == 1.0
        assert rows["cpu-1"]["ratio_numpy"] > 0
    if "gpu" not in rows:
        assert any("GPU" in note for note in results["notes"])

    # the sweep behind the plot: n from 1e2 up, positive rates
    for series in results["series"].values():
        points = series["points"]
        assert points and points[0]["n"] == 100
        assert all(p["rate"] > 0 for p in points)
        assert [p["n"] for p in points] == sorted(p["n"] for p in points)
    # native backends count the same hits at the same n
    assert not any("disagree" in note for note in results["notes"])

    if HAS_MATPLOTLIB:
        assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"wrote {out_png}" in proc.stdout


def test_options_without_gpu(tmp_path: Path) -> None:
    out_json = tmp_path / "b.json"
    proc = bench(
        "--quick", "--max-n", "1e3", "--repeat", "1", "--json", str(out_json), env=NO_GPU_ENV
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out_json.read_text())
    assert results["meta"]["settings"]["repeat"] == 1
    assert results["meta"]["gpu_device"] is None
    assert "gpu" not in rows_by_name(results)
    assert any("no GPU adapter" in note for note in results["notes"])
    assert "note: no GPU adapter" in proc.stdout
    for series in results["series"].values():
        assert max(p["n"] for p in series["points"]) <= 1000


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
    rows = rows_by_name(json.loads(out_json.read_text()))
    assert "numpy" not in rows and "python" in rows and "cpu-1" in rows
    assert rows["cpu-1"]["ratio_numpy"] is None


def test_bad_repeat() -> None:
    proc = bench("--quick", "--repeat", "0")
    assert proc.returncode == 2
    assert "--repeat" in proc.stderr and "Traceback" not in proc.stderr
