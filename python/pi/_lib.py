"""Loads the native library (``pi._native``) and turns its status codes into exceptions.

The library is the Rust cdylib bundled in the package, wrapped by maturin in
an out-of-line ABI-mode cffi module: no compiler and no header parsing at
import; maturin names the library for the platform (``.so``, ``.dylib``,
``.dll``). The environment variable ``PI_LIBRARY``, when set, names another
build of the library (``target/release/libpi.so``; ``libpi.dylib`` on macOS,
``pi.dll`` on Windows) to load instead, through the same declarations. The
library is never closed.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any, NoReturn

from ._errors import DeviceError, NoDeviceError

__all__ = [
    "LIBRARY_ENV",
    "check",
    "ffi",
    "last_error_message",
    "lib",
    "library_path",
    "read_string",
]

#: The environment variable naming a library to load instead of the bundled one.
LIBRARY_ENV = "PI_LIBRARY"

#: The ABI this Python code is written against (``PI_ABI_VERSION`` of ``pi.h``).
_EXPECTED_ABI = 2

#: Where ``cargo build --release`` puts the library on this platform.
_BUILT_LIBRARY = {
    "win32": r"target\release\pi.dll",
    "darwin": "target/release/libpi.dylib",
}.get(sys.platform, "target/release/libpi.so")

_REINSTALL = "reinstall the package with `pip install .` from the pi source tree"


def _load_ffi_only() -> Any:
    """The ``ffi`` object of ``pi._native`` without loading the bundled library.

    ``pi._native/__init__.py`` dlopens the bundled library, so its ``ffi.py``
    is loaded from the file directly.
    """
    spec = importlib.util.find_spec("pi._native")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = os.path.join(folder, "ffi.py")
        if os.path.isfile(path):
            ffi_spec = importlib.util.spec_from_file_location("pi._native_ffi", path)
            if ffi_spec is None or ffi_spec.loader is None:
                break
            module = importlib.util.module_from_spec(ffi_spec)
            ffi_spec.loader.exec_module(module)
            return module.ffi
    raise ImportError(f"pi: the cffi declarations (pi/_native/ffi.py) are missing; {_REINSTALL}")


def _load() -> tuple[Any, Any, str]:
    override = os.environ.get(LIBRARY_ENV)
    if override:
        path = os.path.abspath(os.path.expanduser(override))
        ffi = _load_ffi_only()
        try:
            lib = ffi.dlopen(path)
        except OSError as e:
            raise ImportError(
                f"pi: cannot load {LIBRARY_ENV}={override!r} ({e}); point {LIBRARY_ENV} at a "
                f"built library (e.g. {_BUILT_LIBRARY} after `cargo build --release`) "
                f"or unset it to use the bundled one"
            ) from e
        fix = f"rebuild it (`cargo build --release`), point {LIBRARY_ENV} elsewhere, or unset it"
        where = f"{LIBRARY_ENV}={override!r}"
    else:
        try:
            from . import _native
            from ._native import ffi, lib
        except (ImportError, OSError) as e:
            raise ImportError(
                f"pi: cannot load the bundled native library ({e}); {_REINSTALL}"
            ) from e
        path = os.path.dirname(os.path.abspath(_native.__file__ or ""))
        fix = _REINSTALL
        where = "the bundled library"
    try:
        found = int(lib.pi_abi_version())
    except (AttributeError, ffi.error) as e:  # a missing symbol raises ffi.error
        raise ImportError(f"pi: {where} has no pi_abi_version(): not pi, or too old; {fix}") from e
    if found != lib.PI_ABI_VERSION or lib.PI_ABI_VERSION != _EXPECTED_ABI:
        raise ImportError(
            f"pi: ABI mismatch: {where} reports ABI version {found}, its declarations "
            f"(pi.h) say {lib.PI_ABI_VERSION} and this Python code expects {_EXPECTED_ABI}; {fix}"
        )
    return ffi, lib, path


#: ``ffi`` and ``lib`` of the loaded library; ``library_path`` is the
#: ``PI_LIBRARY`` file, or the folder of the bundled library.
ffi, lib, library_path = _load()

# Status codes map to exceptions here, and only here.
_EXCEPTIONS: dict[int, type[Exception]] = {
    lib.PI_ERROR_INVALID_ARGUMENT: ValueError,
    lib.PI_ERROR_NO_DEVICE: NoDeviceError,
    lib.PI_ERROR_DEVICE: DeviceError,
    lib.PI_ERROR_INTERNAL: RuntimeError,
    # Stopped by pi_engine_cancel or a progress callback (Ctrl-C is re-raised instead).
    lib.PI_ERROR_CANCELLED: RuntimeError,
}


def read_string(write: Any, *args: Any) -> str:
    """Calls a snprintf-like ``write(*args, buf, buf_len) -> full length`` and decodes the text."""
    size = 256
    while True:
        buf = ffi.new("char[]", size)
        length = int(write(*args, buf, size))
        if length < size:
            return ffi.string(buf, length).decode("utf-8", "replace")
        size = length + 1


def last_error_message() -> str:
    """The library's message for the last failed call on this thread."""
    return read_string(lib.pi_last_error_message)


def _raise(status: int) -> NoReturn:
    message = last_error_message() or f"status {status}"
    exc = _EXCEPTIONS.get(status)
    if exc is None:
        raise RuntimeError(f"pi: unknown status {status} from the library: {message}")
    raise exc(message)


def check(status: int) -> None:
    """Raises the exception for a status code other than ``PI_OK``."""
    if status != lib.PI_OK:
        _raise(status)
