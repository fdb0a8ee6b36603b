"""Loading the native library: the bundled one, PI_LIBRARY, and failures as ImportError."""

from __future__ import annotations

import json
from pathlib import Path

import pi
from _helpers import cli, run_python
from pi import _lib


def bundled_library() -> Path:
    folder = Path(pi.__file__).parent / "_native"
    (library,) = [p for p in folder.iterdir() if p.suffix in (".so", ".dylib", ".dll")]
    return library


def test_declarations_come_from_the_header() -> None:
    # maturin took the cdef from build.rs's directive-free copy of include/pi.h.
    lib = _lib.lib
    assert lib.PI_ABI_VERSION == lib.pi_abi_version() == 2
    assert (
        lib.PI_OK,
        lib.PI_ERROR_INVALID_ARGUMENT,
        lib.PI_ERROR_NO_DEVICE,
        lib.PI_ERROR_DEVICE,
        lib.PI_ERROR_INTERNAL,
        lib.PI_ERROR_CANCELLED,
    ) == (0, 1, 2, 3, 4, 5)
    assert (lib.PI_BACKEND_AUTO, lib.PI_BACKEND_CPU, lib.PI_BACKEND_GPU) == (0, 1, 2)
    assert lib.PI_BACKEND_GPU_OR_CPU == 3
    assert _lib.ffi.string(lib.pi_version()).decode() == pi.__version__


def test_the_header_ships_in_the_package() -> None:
    header = Path(pi.__file__).parent / "include" / "pi.h"
    text = header.read_text()
    assert "#define PI_ABI_VERSION 2" in text and "pi_count_hits_progress" in text
    module = (header.parent / "pi.f90").read_text()
    assert "PI_ABI_VERSION = 2" in module and "pi_count_hits_progress" in module


def test_null_engine_calls_are_safe() -> None:
    lib, ffi = _lib.lib, _lib.ffi
    assert lib.pi_engine_backend(ffi.NULL) == -1
    assert _lib.read_string(lib.pi_engine_describe, ffi.NULL) == ""
    hits = ffi.new("uint64_t *", 7)
    status = lib.pi_count_hits(ffi.NULL, 0, 0, 10, hits)
    assert status == lib.PI_ERROR_INVALID_ARGUMENT and hits[0] == 7
    assert _lib.last_error_message()


def test_status_codes_map_to_exceptions() -> None:
    import pytest

    for status, exc in [
        (1, ValueError),
        (2, pi.NoDeviceError),
        (3, pi.DeviceError),
        (4, RuntimeError),
        (99, RuntimeError),
    ]:
        with pytest.raises(exc):
            _lib.check(status)
    _lib.check(0)


def test_pi_library_override() -> None:
    library = bundled_library()
    code = (
        "import json, pi, pi._lib as L\n"
        "print(json.dumps([L.library_path, pi.estimate(1000, seed=42)['hits']]))"
    )
    proc = run_python(code, env={"PI_LIBRARY": str(library)})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [str(library), 794]


def test_pi_library_missing() -> None:
    proc = run_python("import pi", env={"PI_LIBRARY": "/nonexistent/libpi.so"})
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr and "PI_LIBRARY" in proc.stderr


def test_cli_with_a_missing_library_fails_in_one_line() -> None:
    proc = cli("1000", env={"PI_LIBRARY": "/nonexistent/libpi.so"})
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "PI_LIBRARY" in lines[0], proc.stderr


def test_pi_library_not_a_library() -> None:
    proc = run_python("import pi", env={"PI_LIBRARY": __file__})
    assert "ImportError" in proc.stderr and "PI_LIBRARY" in proc.stderr


def test_pi_library_without_the_abi() -> None:
    # A real shared library that is not pi (Python's own _ctypes extension,
    # .so / .pyd on every platform): no pi_abi_version, so ImportError.
    code = """
import _ctypes, os, subprocess, sys
env = dict(os.environ, PI_LIBRARY=_ctypes.__file__)
p = subprocess.run([sys.executable, "-c", "import pi"], env=env, capture_output=True, text=True)
print(p.returncode, p.stderr.strip().splitlines()[-1])
"""
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("1 ImportError") and "pi_abi_version" in proc.stdout


def test_exit_while_a_thread_counts() -> None:
    # Engines are never freed at interpreter exit, so a daemon thread still
    # inside a native call cannot touch freed memory.
    code = """
import threading, time, pi
threading.Thread(target=pi.estimate, args=(10**13,), kwargs={"backend": "cpu"}, daemon=True).start()
time.sleep(0.3)
print("bye")
"""
    proc = run_python(code, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "bye"
