"""``python -m pi``: output, --json, exit codes (0 ok, 1 failure, 2 usage, 130 Ctrl-C), plot.

The command line runs in-process (``pi.__main__.main``) except where a process is
the subject: ``python -m pi`` itself, a hidden GPU (drivers are chosen at load) and Ctrl-C.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from pathlib import Path

import pytest

import pi
from _helpers import NO_GPU_ENV, cli, posix_only, start_python
from pi import _engine
from pi.__main__ import COMMANDS, main
from pi._lib import lib


def run_main(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """``main(args)`` in this process: (exit code, stdout, stderr)."""
    try:
        code = main(list(args))
    except SystemExit as e:  # --help, --version
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("python -m pi: error: "), stderr
    return lines[0]


def test_python_dash_m_pi_runs() -> None:
    proc = cli("1e5", "--seed", "42", "--backend", "cpu", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["hits"] == 78463


def test_json(capsys) -> None:
    code, out, err = run_main(capsys, "1e5", "--seed", "42", "--backend", "cpu", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["hits"] == 78463 and result["samples"] == 100_000 and result["seed"] == 42
    assert result["backend"] == "cpu" and result["pi"] == 4 * 78463 / 100_000
    assert list(result) == list(pi.estimate(1, seed=1))


def test_text_output(capsys) -> None:
    code, out, err = run_main(
        capsys, "100000", "--seed", "0x2a", "--backend", "cpu", "--threads", "1"
    )
    assert code == 0, err
    assert "pi ≈ 3.1385 ± 0.0052" in out  # 4 * 78463 / 1e5
    assert "hits 78463 of 100000 samples" in out
    assert "seed 42" in out
    assert "backend cpu" in out
    assert "samples/s" in out


def test_explicit_run_command_and_first(capsys) -> None:
    code, out, err = run_main(capsys, "run", "1000", "--seed", "42", "--first", "0", "--json")
    assert code == 0, err
    assert json.loads(out)["hits"] == 794
    code, out, err = run_main(capsys, "1000", "--seed", "42", "--first", str(2**64 - 1000))
    assert code == 0, err
    assert "hits 796 of 1000" in out


@pytest.mark.parametrize(("text", "samples"), [("2.5e3", 2500), ("1_000", 1000), ("1E3", 1000)])
def test_counts_in_exponent_notation(capsys, text, samples) -> None:
    code, out, err = run_main(capsys, text, "--seed", "1", "--json")
    assert code == 0, err
    assert json.loads(out)["samples"] == samples


def test_seed_is_fresh_and_reported(capsys) -> None:
    seeds = []
    for _ in range(2):
        code, out, _err = run_main(capsys, "1000", "--json")
        assert code == 0
        seeds.append(json.loads(out)["seed"])
    assert seeds[0] != seeds[1]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["1.5e0"], "argument N"),
        (["abc"], "argument N"),
        (["0"], "argument N"),
        (["-5"], "argument N"),
        (["1e20"], "argument N"),
        (["nan"], "argument N"),
        (["inf"], "argument N"),
        (["1e-5"], "argument N"),
        (["100", "--backend", "tpu"], "--backend"),
        (["100", "--seed", "-1"], "--seed"),
        (["100", "--seed", "1.5"], "--seed"),
        (["100", "--seed", "9" * 5000], "--seed"),
        (["100", "--seed", "0x" + "f" * 17], "--seed"),
        (["100", "--first", "2**3"], "--first"),
        (["--first", str(2**64 - 1)], "--first"),
        (["100", "--threads", "x"], "--threads"),
        (["100", "--threads", "-1"], "--threads"),
        (["100", "--threads", "1025"], "--threads"),
        (["100", "--bogus"], "--bogus"),
        (["--bakend", "cpu", "1e6"], "--bakend"),
        (["100", "200"], "'200'"),
        (["plot"], "--out"),  # required
        (["plot", "--out", "x.png", "--points", "1"], "--points"),
        (["devices", "--all"], "--all"),
    ],
)
def test_bad_usage_exits_2_naming_the_argument(capsys, args, named) -> None:
    code, out, err = run_main(capsys, *args)
    assert code == 2, (out, err)
    line = one_error_line(err)
    assert named in line
    assert len(line) < 300  # the text of a huge argument is cut short


def test_an_unknown_option_is_named_with_a_suggestion(capsys) -> None:
    code, _out, err = run_main(capsys, "--bakend", "cpu", "1e6")
    assert code == 2
    assert "unrecognized option '--bakend' (did you mean --backend?)" in one_error_line(err)


@pytest.mark.parametrize("text", ["1e1000000", "1e9999999", "9e99999999999", "1" * 100_000])
def test_huge_counts_are_refused_from_the_text_at_once(capsys, text) -> None:
    start = time.perf_counter()
    code, _out, err = run_main(capsys, text)
    elapsed = time.perf_counter() - start
    assert code == 2
    assert "argument N: must be between 1 and 2**64 - 1" in one_error_line(err)
    assert elapsed < 0.5, f"took {elapsed:.2f} s"


def test_help_and_version(capsys) -> None:
    code, out, _err = run_main(capsys, "--help")
    assert code == 0 and all(name in out for name in COMMANDS)
    code, out, _err = run_main(capsys, "run", "--help")
    assert code == 0 and "--first" in out
    code, out, _err = run_main(capsys, "--version")
    assert code == 0 and out.startswith("pi ")


def test_runtime_failure_exits_1() -> None:
    proc = cli("1000", "--backend", "gpu", env={**NO_GPU_ENV, "PI_BACKEND": ""})
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "GPU" in one_error_line(proc.stderr)


def _adapter_count(capsys) -> int:
    code, out, err = run_main(capsys, "devices")
    assert code == 0, err
    return sum(line.startswith("gpu ") and line[4:5].isdigit() for line in out.splitlines())


def test_gpu_flag(capsys) -> None:
    cpu = json.loads(run_main(capsys, "2e5", "--seed", "42", "--backend", "cpu", "--json")[1])
    past = str(_adapter_count(capsys))  # one past the last adapter
    # auto on an adapter that is not there counts on the CPU, as pi_engine_new_on says
    code, out, err = run_main(capsys, "2e5", "--seed", "42", "--gpu", past, "--json")
    assert code == 0, err
    assert json.loads(out)["backend"] == "cpu"
    assert json.loads(out)["hits"] == cpu["hits"]
    code, out, err = run_main(capsys, "2e5", "--backend", "gpu", "--gpu", past)
    assert code == 1 and out == ""
    one_error_line(err)
    code, out, err = run_main(capsys, "run", "--help")
    assert code == 0 and "--gpu all|K" in out


@pytest.mark.usefixtures("gpu_available")
@pytest.mark.parametrize("gpu", ["0", "all"])
def test_gpu_flag_on_an_adapter(capsys, gpu) -> None:
    args = ("1e6", "--seed", "7", "--first", "5", "--json")
    cpu = json.loads(run_main(capsys, *args, "--backend", "cpu")[1])
    code, out, err = run_main(capsys, *args, "--backend", "gpu", "--gpu", gpu)
    assert code == 0, err
    assert json.loads(out)["backend"] == "gpu"
    assert json.loads(out)["hits"] == cpu["hits"]


@pytest.mark.parametrize("bad", ["-1", "x", "1.5", "ALL", "2147483648", "", "1" * 5000])
def test_gpu_flag_bad(capsys, bad) -> None:
    code, out, err = run_main(capsys, "1000", "--gpu", bad)
    assert code == 2 and out == ""
    line = one_error_line(err)
    assert "argument --gpu: must be 'all' or an adapter index" in line
    assert len(line) < 300


def test_gpu_flag_is_not_for_dask(capsys) -> None:
    code, _out, err = run_main(capsys, "1000", "--gpu", "0", "--local-workers", "2")
    assert code == 2
    assert "--gpu" in one_error_line(err)


def test_devices(capsys) -> None:
    code, out, err = run_main(capsys, "devices")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("cpu: ")
    assert lines[1].startswith("gpu: ")
    assert lines[2].startswith("auto: ")
    # Then each adapter, numbered as PI_GPU takes them.
    for k, line in enumerate(lines[3:]):
        assert line.startswith(f"gpu {k}: "), out
    assert len(lines) > 3 or lines[1].startswith("gpu: no GPU")


def test_devices_without_gpu() -> None:
    proc = cli("devices", env={**NO_GPU_ENV, "PI_BACKEND": ""})
    assert proc.returncode == 0, proc.stderr
    assert "gpu: no GPU: " in proc.stdout
    assert "auto: cpu" in proc.stdout
    assert "gpu 0: " not in proc.stdout


def test_plot(capsys, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "pi.png"
    code, stdout, err = run_main(capsys, "plot", "--out", str(out), "1e5", "--seed", "3")
    assert code == 0, err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "seed 3" in stdout


def test_plot_without_matplotlib(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    code, _out, err = run_main(capsys, "plot", "--out", str(tmp_path / "x.png"), "1000")
    assert code == 1
    assert "pip install matplotlib" in one_error_line(err)
    assert not (tmp_path / "x.png").exists()


def test_plot_honours_threads_and_gpu(capsys, monkeypatch, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    asked = []
    real = _engine.get_engine

    def recording(backend: str, threads: int, gpu: int = _engine.GPU_DEFAULT) -> _engine.Engine:
        asked.append((backend, threads, gpu))
        return real("cpu", threads)

    monkeypatch.setattr(_engine, "get_engine", recording)
    out = tmp_path / "pi.png"
    args = ("plot", "--out", str(out), "1e4", "--seed", "3", "--points", "5")
    code, stdout, err = run_main(capsys, *args, "--backend", "cpu", "--threads", "3")
    assert code == 0, err
    code, _, err = run_main(capsys, *args, "--backend", "gpu", "--gpu", "all")
    assert code == 0, err
    assert asked == [("cpu", 3, _engine.GPU_DEFAULT), ("gpu", 0, lib.PI_GPU_ALL)]
    assert "final estimate" in stdout


@pytest.mark.parametrize(
    ("option", "value"), [("--threads", "2000"), ("--threads", "x"), ("--gpu", "-1")]
)
def test_plot_bad_threads_or_gpu(capsys, tmp_path, option: str, value: str) -> None:
    code, _out, err = run_main(capsys, "plot", "--out", str(tmp_path / "x.png"), option, value)
    assert code == 2
    assert f"argument {option}: " in one_error_line(err)
    assert not (tmp_path / "x.png").exists()


def test_matplotlib_is_imported_in_one_place() -> None:
    package = Path(pi.__file__).parent
    importers = sorted(
        path.name
        for path in package.glob("*.py")
        if re.search(r"^\s*import matplotlib", path.read_text(encoding="utf-8"), re.M)
    )
    assert importers == ["_pyplot.py"]


@posix_only
def test_ctrl_c_stops_quickly() -> None:
    proc = start_python("-m", "pi", "1e13", "--backend", "cpu")
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
