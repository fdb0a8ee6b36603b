"""pi: a Monte Carlo estimate of pi, bit-identical on every backend.

Samples come from the counter-based Philox4x32-10 stream: sample ``i`` of a
64-bit ``seed`` is a fixed point of the unit square, so pure Python, the Rust
CPU kernel and the WGSL GPU kernel count the same hits for the same
``(seed, first, count)``, whatever the thread count or chunking. The stream
is defined in ``pi._stream`` (and in README.md, "The stream").

Functions::

    approximate_pi_python(num_points, seed=None) -> float   # pure Python, slow
    approximate_pi_cpu(num_points, seed=None, threads=None) -> float
    approximate_pi_gpu(num_points, seed=None, fallback=True, gpu=None) -> float
    estimate(num_points, seed=None, backend="auto", threads=None, first=0, gpu=None) -> dict
    iter_estimates(batch_size, num_batches=None, seed=None, backend="auto", gpu=None)
    count_hits_batched(batch_size, num_batches, seed, first=0, out=None, backend="auto", gpu=None)
    close()   # releases every engine the package holds; later calls make new ones

``seed=None`` draws a fresh seed from the OS (``os.urandom``); ``estimate``
reports the seed it used, so any run can be repeated exactly
(``count_hits_batched`` needs its seed: its buffer cannot report one).
Backends: ``"auto"`` (a hardware GPU if there is one, else the CPU),
``"cpu"``, ``"gpu"`` (any adapter, software ones such as lavapipe included;
raises ``NoDeviceError`` without one). ``gpu``: ``None`` (what ``PI_GPU``
says), ``"all"`` (every hardware GPU shares each run) or an adapter index
as ``python -m pi devices`` lists them. Bad arguments raise ``TypeError`` or
``ValueError`` naming the argument, before any native call; NumPy integer
and bool scalars count as ints and bools. Long runs are one native call
with the GIL released, whose progress callback (at most 20 a second) lets
Ctrl-C stop them within about 0.1 s; other Python threads run meanwhile.
Engines are cached (a bounded number) and shared by threads; after
``os.fork()`` the child makes its own.

Environment variables:

``PI_LIBRARY``
    Path of a native library to load instead of the one bundled in the
    package, e.g. ``PI_LIBRARY=target/release/libpi.so`` after ``cargo build
    --release``, to try a change to the Rust code without reinstalling. It is
    loaded with the package's own cffi declarations; a library that cannot be
    loaded or whose ``pi_abi_version()`` differs from the declarations'
    ``PI_ABI_VERSION`` makes ``import pi`` raise ``ImportError``.
``PI_BACKEND``
    ``auto``, ``cpu`` or ``gpu``: read by the native library, it replaces
    the backend of every engine (see ``pi.h``).

The command line front end is ``python -m pi`` (``python -m pi --help``).
The C header of the library is shipped as ``pi/include/pi.h``.
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
