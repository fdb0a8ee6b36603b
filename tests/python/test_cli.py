"""``python -m pi``: output, --json, exit codes (0 ok, 1 failure, 2 usage, 130 Ctrl-C), plot."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from _helpers import DATA, NO_GPU_ENV, child_env, cli, run_python


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert lines, "no error message"
    return lines[-1]


def test_json() -> None:
    proc = cli("1e5", "--seed", "42", "--backend", "cpu", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["hits"] == 78463 and result["samples"] == 100_000 and result["seed"] == 42
    assert result["backend"] == "cpu" and result["pi"] == 4 * 78463 / 100_000
    assert set(result) == {
        "pi",
        "std_error",
        "hits",
        "samples",
        "seed",
        "first",
        "backend",
        "device",
        "seconds",
    }


def test_text_output() -> None:
    proc = cli("100000", "--seed", "0x2a", "--backend", "cpu", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    assert "pi ≈ 3.1385 ± 0.0052" in proc.stdout  # 4 * 78463 / 1e5
    assert "hits 78463 of 100000 samples" in proc.stdout
    assert "seed 42" in proc.stdout
    assert "backend cpu" in proc.stdout
    assert "samples/s" in proc.stdout


def test_explicit_run_command_and_first() -> None:
    proc = cli("run", "1000", "--seed", "42", "--first", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["hits"] == 794


@pytest.mark.parametrize(("text", "samples"), [("2.5e3", 2500), ("1_000", 1000), ("1E3", 1000)])
def test_counts_in_exponent_notation(text, samples) -> None:
    proc = cli(text, "--seed", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["samples"] == samples


def test_seed_is_fresh_and_reported() -> None:
    a = json.loads(cli("1000", "--json").stdout)["seed"]
    b = json.loads(cli("1000", "--json").stdout)["seed"]
    assert a != b


@pytest.mark.parametrize(
    "args",
    [
        ["1.5e0"],
        ["abc"],
        ["0"],
        ["-5"],
        ["1e20"],
        ["nan"],
        ["inf"],
        ["100", "--backend", "tpu"],
        ["100", "--seed", "-1"],
        ["100", "--seed", "1.5"],
        ["100", "--threads", "x"],
        ["100", "--threads", "-1"],
        ["100", "--bogus"],
        ["plot"],  # --out is required
    ],
)
def test_bad_usage_exits_2(args) -> None:
    proc = cli(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "error" in one_error_line(proc.stderr)


def test_help_and_version() -> None:
    assert cli("--help").returncode == 0
    assert "devices" in cli("--help").stdout
    assert cli("run", "--help").returncode == 0
    assert cli("--version").stdout.startswith("pi ")


def test_runtime_failure_exits_1() -> None:
    proc = cli("1000", "--backend", "gpu", env={**NO_GPU_ENV, "PI_BACKEND": ""})
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    line = one_error_line(proc.stderr)
    assert line.startswith("python -m pi: error:") and "GPU" in line


def test_devices() -> None:
    proc = cli("devices")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("cpu: ")
    assert lines[1].startswith("gpu: ")
    assert lines[2].startswith("auto: ")


def test_devices_without_gpu() -> None:
    proc = cli("devices", env={**NO_GPU_ENV, "PI_BACKEND": ""})
    assert proc.returncode == 0, proc.stderr
    assert "gpu: no GPU: " in proc.stdout
    assert "auto: cpu" in proc.stdout


def test_plot(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "pi.png"
    proc = cli("plot", "--out", str(out), "1e5", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "seed 3" in proc.stdout


def test_plot_without_matplotlib(tmp_path) -> None:
    code = f"""
import sys
sys.modules["matplotlib"] = None  # makes `import matplotlib` fail
from pi.__main__ import main
sys.exit(main(["plot", "--out", {str(tmp_path / "x.png")!r}, "1000"]))
"""
    proc = run_python(code)
    assert proc.returncode == 1
    assert "pip install matplotlib" in one_error_line(proc.stderr)
    assert not (tmp_path / "x.png").exists()


def test_ctrl_c_stops_quickly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pi", "1e13", "--backend", "cpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        # Python ignores SIGINT when started with it ignored (a background job of
        # a non-interactive shell): give the child the default disposition.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        cwd=DATA,
    )
    time.sleep(1.0)
    assert proc.poll() is None, "the run ended before it was interrupted"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        _stdout, stderr = proc.communicate(timeout=10)
    finally:
        proc.kill()
    elapsed = time.monotonic() - sent
    assert elapsed < 2.0, f"took {elapsed:.2f} s to stop"
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert "Traceback" not in stderr
    assert "interrupted" in stderr
