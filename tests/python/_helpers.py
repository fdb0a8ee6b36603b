"""Helpers shared by the tests (tests/python is on sys.path via pytest's ``pythonpath``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SOURCE_TREE = Path(__file__).resolve().parents[2] / "python"
DATA = Path(__file__).resolve().parent.parent / "data"  # tests/data, shared with the Rust tests

#: Environment that hides every GPU adapter, on every OS: ``PI_GPU=none`` (the
#: library's own switch: no adapter is listed or taken, so Windows' WARP and
#: macOS's Metal are hidden too, "auto" counts on the CPU, "gpu" raises
#: NoDeviceError), plus the Vulkan and EGL drivers' variables, so that no driver
#: even loads. The same list as ``HIDDEN_GPU`` in tests/common/mod.rs.
NO_GPU_ENV = {
    "PI_GPU": "none",
    "VK_DRIVER_FILES": "/nonexistent",
    "VK_ICD_FILENAMES": "/nonexistent",
    "__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent",
}


#: Marks a test that needs POSIX signals (SIGINT to a child, SIGKILL): it
#: skips, with this reason in the summary, on Windows.
posix_only = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals (not on Windows)")


def require_all() -> bool:
    """``PI_REQUIRE_ALL=1``: a missing GPU fails the GPU tests instead of skipping them."""
    return os.environ.get("PI_REQUIRE_ALL", "") not in ("", "0")


def gpu_or_skip(reason: str) -> None:
    """Skips (or, with PI_REQUIRE_ALL=1, fails) a test that needs a GPU adapter."""
    message = f"no GPU adapter: {reason}"
    if require_all():
        pytest.fail(f"PI_REQUIRE_ALL=1 but {message}")
    pytest.skip(message)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process: ours (PI_LIBRARY made absolute, since
    children run in another folder), Mesa quiet, plus ``extra``."""
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", "/tmp")
    if env.get("PI_LIBRARY"):
        env["PI_LIBRARY"] = os.path.abspath(env["PI_LIBRARY"])
    env.update(extra or {})
    return env


def run_python(
    code: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs ``python -c code`` with the test interpreter (and the installed pi)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=child_env(env),
        timeout=timeout,
        cwd=DATA,
    )


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m pi ARGS`` in a child process (from a neutral folder)."""
    return subprocess.run(
        [sys.executable, "-m", "pi", *args],
        capture_output=True,
        text=True,
        env=child_env(env),
        timeout=timeout,
        cwd=DATA,
    )


def _default_sigint() -> None:
    # Python ignores SIGINT when started with it ignored (a background job of a
    # non-interactive shell): give the child the default disposition.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_python(*args: str) -> subprocess.Popen[str]:
    """Starts ``python ARGS`` (from a neutral folder, text pipes) that Ctrl-C can reach."""
    return subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        preexec_fn=_default_sigint if os.name == "posix" else None,
        cwd=DATA,
    )


def interrupt_call(statement: str, after: float) -> tuple[str, float, str]:
    """Runs ``import pi; STATEMENT`` in a child, sends it Ctrl-C ``after`` seconds
    into the call, and returns the line it printed then (``"interrupted\\n"`` when
    the call raised ``KeyboardInterrupt``), the seconds that took, and its stderr."""
    code = (
        "import pi\n"
        "print('start', flush=True)\n"
        "try:\n"
        f"    {statement}\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    proc = start_python("-c", code)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "start\n"
        time.sleep(after)
        assert proc.poll() is None, proc.communicate()
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline()
        elapsed = time.monotonic() - sent
        _stdout, stderr = proc.communicate(timeout=10)
    finally:
        proc.kill()
    return line, elapsed, stderr
