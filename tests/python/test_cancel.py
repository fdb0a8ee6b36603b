"""Long runs through the native progress callback: exact counts, progress
that adds up, Ctrl-C within 0.3 s, an exception in the progress hook; and
``python -m pi config`` flags that compile and link a C program."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pi
from _helpers import child_env, interrupt_call, posix_only, require_all
from pi import _api, _engine
from pi._lib import lib

ROOT = Path(__file__).resolve().parents[2]


def test_the_library_is_abi_version_2_with_cancel_and_progress() -> None:
    assert lib.pi_abi_version() == 2 == lib.PI_ABI_VERSION
    assert lib.PI_ERROR_CANCELLED == 5
    assert lib.pi_engine_cancel(_engine.get_engine("cpu", 0).raw) == lib.PI_OK


def test_progress_adds_up_and_the_count_is_exact() -> None:
    n = _engine.SMALL_RUN * 40 + 3
    steps: list[int] = []
    got = _api.run(n, seed=7, backend="cpu", first=5, on_progress=steps.append)
    assert got["hits"] == pi.estimate(n, seed=7, backend="cpu", first=5)["hits"]
    assert sum(steps) == n
    assert all(step > 0 for step in steps)


def test_an_exception_in_the_progress_hook_stops_the_run_and_comes_back() -> None:
    calls = []

    def hook(samples: int) -> None:
        calls.append(samples)
        raise ZeroDivisionError("from the hook")

    start = time.perf_counter()
    with pytest.raises(ZeroDivisionError, match="from the hook"):
        _api.run(10**13, seed=1, backend="cpu", on_progress=hook)
    assert len(calls) == 1
    assert time.perf_counter() - start < 5  # not the hours 10**13 samples take
    # The engine counts normally afterwards.
    assert pi.estimate(10**6, seed=42, backend="cpu")["hits"] == 785856


@posix_only
@pytest.mark.parametrize("backend", ["cpu", "auto"])
def test_ctrl_c_stops_a_long_estimate_within_0_3_s(backend: str) -> None:
    worst = 0.0
    for _ in range(3):
        line, elapsed, stderr = interrupt_call(
            f"pi.estimate(10**13, seed=1, backend={backend!r})", 1.0
        )
        worst = max(worst, elapsed)
        assert line == "interrupted\n", stderr
    what = f"Ctrl-C during pi.estimate({backend!r})"
    print(f"\n[reliability] {what}: stopped within {worst * 1e3:.0f} ms")
    assert worst < 0.3, f"took {worst:.2f} s to stop"


def _config(*flags: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "pi", "config", *flags],
        capture_output=True,
        text=True,
        env=child_env(),
        check=True,
    )
    return out.stdout.strip()


def test_config_points_at_the_header_the_fortran_module_and_the_library() -> None:
    include = Path(_config("--includedir"))
    assert (include / "pi.h").read_text() == (ROOT / "include" / "pi.h").read_text()
    assert (include / "pi.f90").read_text() == (ROOT / "include" / "pi.f90").read_text()
    assert Path(_config("--fortran-module")) == include / "pi.f90"
    assert _config("--cflags") == f"-I{include}"
    libdir = _config("--libdir")
    libs = _config("--libs")
    assert f"-Wl,-rpath,{libdir}" in libs
    assert _config("--cflags", "--libs") == f"-I{include} {libs}"
    assert "cflags: " in _config()


@pytest.mark.skipif(os.name != "posix", reason="the flags are for cc-like compilers")
def test_a_c_program_built_with_config_flags_runs_without_ld_library_path(tmp_path: Path) -> None:
    cc = shutil.which("cc")
    if cc is None:
        if require_all():
            pytest.fail("PI_REQUIRE_ALL=1 but no C compiler (cc)")
        pytest.skip("no C compiler (cc)")
    exe = tmp_path / "pi_example"
    command = [cc, "-std=c99", str(ROOT / "examples" / "c" / "pi_example.c")]
    command += _config("--cflags").split() + _config("--libs").split() + ["-o", str(exe)]
    subprocess.run(command, check=True)
    env = {k: v for k, v in child_env().items() if k != "LD_LIBRARY_PATH"}
    out = subprocess.run([str(exe)], capture_output=True, text=True, env=env, check=True).stdout
    assert "seed 42, 1e6 samples: 785856 hits, pi ~ 3.143424" in out
    assert "seed 42, 123456789 samples: 96964650 hits" in out
    assert "stopped half way: status 5 (PI_ERROR_CANCELLED is 5), hits still 0" in out


def test_a_thread_other_than_the_main_one_counts_in_pieces_with_progress() -> None:
    import threading

    n = _engine.SMALL_RUN * 20 + 1
    steps: list[int] = []
    got: list[int] = []
    worker = threading.Thread(
        target=lambda: got.append(
            _api.run(n, seed=3, backend="cpu", on_progress=steps.append)["hits"]
        )
    )
    worker.start()
    worker.join()
    assert got == [pi.estimate(n, seed=3, backend="cpu")["hits"]]
    assert sum(steps) == n
