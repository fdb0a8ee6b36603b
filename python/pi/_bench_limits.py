"""The limits ``python -m pi bench`` measures against, and the machine it runs on.

Each throughput is printed next to its ratio to a ``Limit``: NumPy at the same
n for the Python API, the core's instruction bound (``CYCLES_PER_SAMPLE`` at
the clock of ``--cpu-ghz`` or ``/proc/cpuinfo``) for the CPU kernel, and an
estimated ceiling (``GPU_CEILINGS``) for a known GPU.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
from dataclasses import dataclass
from typing import Any

import pi

from ._bench_measure import SEED, Series, Settings, core_count
from ._lib import lib

#: Cycles per sample per core at the instruction bound, by CPU kernel (the name
#: ``pi_engine_describe`` gives): about 66 512-bit operations per 16 samples
#: (20 multiplies for Philox, 4 for the squares, shifts, 3-way XORs, compares)
#: at two 512-bit operations per cycle. No bound is stated for other kernels.
CYCLES_PER_SAMPLE = {"avx512": 2.1}
#: What a NumPy ratio compares with.
NUMPY_BASIS = "NumPy float64 at the same n (past the end of its sweep: at its largest n)"
#: Estimated ceilings (samples per second) of known cards, by a text in the
#: adapter's name: the card's integer issue rate over the int64 shader's
#: operations per sample (docs/gpu-performance.md: H200, 1.67e13 / 37).
GPU_CEILINGS = {"H200": 4.5e11}


@dataclass
class Limit:
    """What a throughput is measured against: ``rate`` samples per second."""

    name: str  # short, for the table: "NumPy", "AVX-512 bound", "H200 ceiling"
    rate: float
    basis: str  # how the rate was got, for the notes


def _cpuinfo(field: str) -> list[str]:
    """The values of ``field`` in ``/proc/cpuinfo`` (none where there is no such file)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return re.findall(rf"^{field}\s*:\s*(.*?)\s*$", f.read(), re.M)
    except OSError:
        return []


def cpu_model() -> str:
    """The processor's name (``model name`` of ``/proc/cpuinfo``), or the platform's."""
    names = _cpuinfo("model name")
    return names[0] if names else (platform.processor() or "unknown processor")


def cpu_clock(given: float | None) -> tuple[float | None, str]:
    """The clock (GHz) of the CPU bound and where it comes from: ``given``, or the
    largest ``cpu MHz`` of ``/proc/cpuinfo``; ``None`` when neither is known."""
    if given is not None:
        return given, "--cpu-ghz"
    mhz = []
    for text in _cpuinfo("cpu MHz"):
        with contextlib.suppress(ValueError):
            mhz.append(float(text))
    if not mhz or max(mhz) <= 0:
        return None, "no clock in /proc/cpuinfo (give --cpu-ghz)"
    return max(mhz) / 1000, "/proc/cpuinfo (a VM reports the nominal clock)"


def cpu_kernel(device: str) -> str | None:
    """The kernel named by the CPU engine's description (``"... avx512 kernel"``)."""
    found = re.search(r"(\w+) kernel", device)
    return found.group(1) if found else None


def cpu_bound(threads: int, cores: int, kernel: str | None, ghz: float | None) -> Limit | None:
    """The instruction bound of ``threads`` threads (at most one per core), when known."""
    cycles = CYCLES_PER_SAMPLE.get(kernel or "")
    if cycles is None or ghz is None:
        return None
    used = min(threads, cores)
    return Limit(
        f"{kernel} bound",
        used * ghz * 1e9 / cycles,
        f"{cycles} cycles per sample per core ({kernel} kernel) at {ghz:.3g} GHz",
    )


def gpu_ceiling(device: str) -> Limit | None:
    """The estimated ceiling of a known card, found by its name in ``device``."""
    for name, rate in GPU_CEILINGS.items():
        if name in device:
            return Limit(
                f"{name} ceiling",
                rate,
                f"{name}: estimated ceiling {rate:.3g} (docs/gpu-performance.md)",
            )
    return None


def numpy_limit(numpy: Series | None, n: int) -> Limit | None:
    """NumPy at n: its point at the largest n <= n (its asymptote past its sweep)."""
    if numpy is None:
        return None
    below = [p for p in numpy.points if p.n <= n]
    return Limit("NumPy", below[-1].rate, NUMPY_BASIS) if below else None


# --- the machine ---------------------------------------------------------------------------


def load_average() -> list[float] | None:
    """The load averages (1, 5, 15 minutes), rounded; None where the system has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


@dataclass
class Machine:
    """What the run is measured on."""

    np: Any  # the numpy module, or None
    cores: int
    cpu_device: str
    gpu_device: str | None  # None: no adapter
    ghz: float | None  # the clock of the CPU bound
    clock_source: str
    notes: list[str]  # what is missing

    @classmethod
    def find(cls, settings: Settings) -> Machine:
        notes = []
        try:
            import numpy as np
        except ImportError:
            np = None
            notes.append("numpy is not installed: no NumPy baseline (pip install numpy)")
        cpu_device = pi.estimate(1, seed=SEED, backend="cpu")["device"]
        try:
            gpu_device = pi.estimate(1, seed=SEED, backend="gpu")["device"]
        except pi.NoDeviceError as e:
            gpu_device = None
            notes.append(f"no GPU adapter, GPU skipped: {e}")
        ghz, source = cpu_clock(settings.cpu_ghz)
        return cls(np, core_count(), cpu_device, gpu_device, ghz, source, notes)

    @property
    def kernel(self) -> str | None:
        return cpu_kernel(self.cpu_device)

    def meta(self) -> dict[str, Any]:
        return {
            "pi_version": pi.__version__,
            "python": platform.python_version(),
            "numpy": getattr(self.np, "__version__", None),
            "machine": platform.machine(),
            "cpu_model": cpu_model(),
            "platform": platform.platform(),
            "cores": self.cores,
            "cpu_device": self.cpu_device,
            "cpu_kernel": self.kernel,
            "cpu_ghz": self.ghz,
            "cpu_ghz_source": self.clock_source,
            "gpu_device": self.gpu_device,
            "gpu_min_samples": lib.PI_GPU_MIN_SAMPLES,
        }


def limit_notes(machine: Machine) -> list[str]:
    """The limits that could not be stated."""
    notes = []
    kernel = machine.kernel
    if kernel is not None and kernel not in CYCLES_PER_SAMPLE:
        notes.append(f"cpu: no instruction bound is stated for the {kernel} kernel")
    if machine.ghz is None:
        notes.append(f"cpu: no instruction bound: {machine.clock_source}")
    if machine.gpu_device is not None and gpu_ceiling(machine.gpu_device) is None:
        notes.append("gpu: no ceiling is known for this adapter")
    return notes
