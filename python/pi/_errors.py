"""The exceptions of ``pi`` (no native code needed to import them)."""

from __future__ import annotations

__all__ = ["DeviceError", "NoDeviceError"]


class NoDeviceError(RuntimeError):
    """A GPU was asked for explicitly and no adapter was found.

    Raised by ``approximate_pi_gpu(..., fallback=False)`` and
    ``estimate(..., backend="gpu")``; the ``"auto"`` backend and
    ``approximate_pi_gpu(..., fallback=True)`` use the CPU instead.
    """


class DeviceError(RuntimeError):
    """The GPU failed: device lost, out of memory, a driver or validation error."""
