"""pi: a Monte Carlo estimate of pi, bit-identical on every backend.

Samples come from the counter-based Philox4x32-10 stream (defined in
``pi._stream``), so pure Python, the Rust CPU kernel and the WGSL GPU kernel
count the same hits for the same ``(seed, first, count)``, whatever the thread
count or chunking. Each public name documents itself, once: its arguments,
result and errors are in its own docstring (``help(pi.estimate)``), which the
documentation site's Python reference shows. ``python -m pi --help`` is the
command line; the C header ships in the package as ``pi/include/pi.h``.
"""

from __future__ import annotations

try:
    from ._api import (
        approximate_pi_cpu,
        approximate_pi_gpu,
        approximate_pi_python,
        count_hits_batched,
        estimate,
        iter_estimates,
    )
except ImportError as _e:
    # The native library is missing or mismatched: `pi` itself cannot be
    # imported, and the error says so (`python -m pi` then reports it in one
    # line, as Python does for a package that fails to import).
    if _e.name is None:
        _e.name = __name__
    raise
from ._engine import close
from ._errors import DeviceError, NoDeviceError


def _version() -> str:
    """The installed distribution's version (Cargo.toml's), else the library's."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("pi-montecarlo")
    except (ImportError, PackageNotFoundError):
        from ._lib import ffi, lib

        return str(ffi.string(lib.pi_version()).decode())


__version__: str = _version()
"""The package's version (Cargo.toml's), as ``python -m pi --version`` reports it."""

__all__ = [
    "DeviceError",
    "NoDeviceError",
    "__version__",
    "approximate_pi_cpu",
    "approximate_pi_gpu",
    "approximate_pi_python",
    "close",
    "count_hits_batched",
    "estimate",
    "iter_estimates",
]
