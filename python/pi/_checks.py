"""Argument checks of ``pi``: each rule once, shared by the API, the command line and Dask.

Every check takes the value and the argument's name and returns the value
as the Python type the native calls need, or raises ``TypeError`` (wrong
type) or ``ValueError`` (wrong value) with a message that names the
argument. Integers are ``int`` or anything with ``__index__`` (NumPy
integer scalars), never ``bool`` (nor ``numpy.bool_``) and never a float;
booleans are ``bool`` or ``numpy.bool_``. Messages never print an integer of
more than 30 digits (Python refuses to format one of over 4300 digits).
"""

from __future__ import annotations

import operator
import os
import sys
from typing import Any

from ._lib import ffi, lib

__all__ = [
    "BACKENDS",
    "GPU_INDEX_MAX",
    "STREAM_END",
    "U64_MAX",
    "backend",
    "batch_output",
    "boolean",
    "count",
    "gpu",
    "integer",
    "seed",
    "shown",
    "stream_range",
    "threads",
    "u64",
    "uint64_buffer",
]

U64_MAX = (1 << 64) - 1
#: One past the last sample index: a run is valid when ``first + count <= STREAM_END``.
STREAM_END = 1 << 64
#: Backend names, as the API and the command line take them, and their ``PI_BACKEND_*`` codes.
BACKENDS = {"auto": lib.PI_BACKEND_AUTO, "cpu": lib.PI_BACKEND_CPU, "gpu": lib.PI_BACKEND_GPU}

_SHOWN_LIMIT = 10**30


def shown(n: int) -> str:
    """``n`` for a message: its digits, or its size in bits when it has more than 30 digits."""
    if -_SHOWN_LIMIT < n < _SHOWN_LIMIT:
        return str(n)
    sign = "a negative" if n < 0 else "a"
    return f"{sign} {n.bit_length()}-bit integer"


def _is_bool(value: Any) -> bool:
    cls = type(value)
    return cls is bool or (cls.__module__ == "numpy" and cls.__name__ in ("bool_", "bool"))


def integer(value: Any, name: str) -> int:
    """``value`` as an ``int``: ``int`` or ``__index__`` (NumPy integers); not bool, float, str."""
    if type(value) is int:
        return value
    if _is_bool(value) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}") from None


def u64(value: Any, name: str, minimum: int = 0) -> int:
    """An integer in ``minimum .. 2**64 - 1``."""
    n = value if type(value) is int else integer(value, name)
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {shown(n)}")
    if n > U64_MAX:
        raise ValueError(f"{name} must be <= 2**64 - 1, got {shown(n)}")
    return n


def count(value: Any, name: str) -> int:
    """A sample or batch count: an integer in ``1 .. 2**64 - 1``."""
    if type(value) is int and 0 < value <= U64_MAX:
        return value
    return u64(value, name, minimum=1)


# Fresh seeds, drawn from the OS 64 at a time (one system call) and each handed out once.
_fresh: list[int] = []


def _fresh_seed() -> int:
    try:
        return _fresh.pop()
    except IndexError:
        data = os.urandom(8 * 64)
        _fresh.extend(int.from_bytes(data[i : i + 8], "little") for i in range(8, 8 * 64, 8))
        return int.from_bytes(data[:8], "little")


if hasattr(os, "register_at_fork"):  # a child must not draw the seeds its parent will
    os.register_at_fork(after_in_child=_fresh.clear)


def seed(value: Any, name: str = "seed") -> int:
    """A seed in ``0 .. 2**64 - 1``; ``None`` draws a fresh one from the OS."""
    if value is None:
        return _fresh_seed()
    if type(value) is int and 0 <= value <= U64_MAX:
        return value
    return u64(value, name)


def threads(value: Any, name: str = "threads") -> int:
    """CPU threads: ``None`` or ``0`` for one per core, else ``1 .. PI_MAX_CPU_THREADS``."""
    if value is None:
        return 0
    n = value if type(value) is int else integer(value, name)
    if n < 0:
        raise ValueError(f"{name} must be >= 0 (0 or None: one per core), got {shown(n)}")
    if n > lib.PI_MAX_CPU_THREADS:
        raise ValueError(f"{name} must be <= {lib.PI_MAX_CPU_THREADS}, got {shown(n)}")
    return n


def backend(value: Any, name: str = "backend") -> str:
    """A backend name: ``"auto"``, ``"cpu"`` or ``"gpu"``."""
    if isinstance(value, str) and value in BACKENDS:
        return str(value)  # numpy.str_ too
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    text = value if len(value) <= 40 else value[:40] + "..."
    names = ", ".join(map(repr, BACKENDS))
    raise ValueError(f"{name} must be one of {names}, got {text!r}")


#: The largest adapter index ``pi_engine_new_on`` takes (its ``gpu`` is an ``int32_t``).
GPU_INDEX_MAX = (1 << 31) - 1


def gpu(value: Any, name: str = "gpu") -> int:
    """The GPUs of an engine, as ``pi_engine_new_on`` takes them.

    ``None``: ``PI_GPU_DEFAULT`` (what the environment variable ``PI_GPU``
    says; unset, the best adapter). ``"all"``: ``PI_GPU_ALL`` (every hardware
    GPU shares each run). An integer ``0 .. 2**31 - 1``: that adapter, as
    ``pi_gpu_list`` and ``python -m pi devices`` number them.
    """
    if value is None:
        return int(lib.PI_GPU_DEFAULT)
    if isinstance(value, str):
        if value == "all":
            return int(lib.PI_GPU_ALL)
        text = value if len(value) <= 40 else value[:40] + "..."
        raise ValueError(f"{name} must be None, 'all' or an adapter index >= 0, got {text!r}")
    try:
        n = value if type(value) is int else integer(value, name)
    except TypeError:
        kind = "bool" if _is_bool(value) else type(value).__name__
        raise TypeError(f"{name} must be None, 'all' or an int, not {kind}") from None
    if n < 0:
        raise ValueError(
            f"{name} must be an adapter index >= 0 (or 'all', or None), got {shown(n)}"
        )
    if n > GPU_INDEX_MAX:
        raise ValueError(f"{name} must be <= 2**31 - 1, got {shown(n)}")
    return n


def boolean(value: Any, name: str) -> bool:
    """``True`` or ``False``: a ``bool`` or a ``numpy.bool_``."""
    if _is_bool(value):
        return bool(value)
    raise TypeError(f"{name} must be a bool, not {type(value).__name__}")


def stream_range(first: int, count: int, count_name: str = "num_points") -> None:
    """The range rule: samples ``first .. first + count - 1`` exist (``first + count <= 2**64``)."""
    if first + count > STREAM_END:
        raise ValueError(
            f"first + {count_name} = {shown(first)} + {shown(count)} passes the end of the "
            f"stream (sample 2**64 - 1 is the last)"
        )


def batch_output(num_batches: int) -> None:
    """Whether a new ``array.array("Q")`` of ``num_batches`` items can exist here.

    ``ValueError`` naming ``num_batches`` when no address space holds it;
    ``MemoryError`` saying how much was asked for when it is more than the
    machine's memory. Checked before any work.
    """
    nbytes = 8 * num_batches
    if nbytes > sys.maxsize:
        raise ValueError(
            f"num_batches = {shown(num_batches)} needs an output of {_size(nbytes)}, more than "
            f"this machine can address: count fewer batches, in several calls"
        )
    memory = _physical_memory()
    if memory is not None and nbytes > memory:
        raise MemoryError(
            f"num_batches = {num_batches} needs an output of {_size(nbytes)} with out=None, "
            f"more than this machine's memory ({_size(memory)}): count fewer batches per call"
        )


def _physical_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def _size(nbytes: int) -> str:
    if nbytes < 1 << 30:
        return f"{nbytes} bytes"
    if nbytes < 1 << 50:
        return f"{nbytes / 2**30:.1f} GiB"
    return f"{nbytes:.3g} bytes"


_BYTE_ORDER_MARKS = ("@", "=", "<", ">", "!")


def uint64_buffer(out: Any, needed: int, name: str = "out") -> Any:
    """A ``uint64_t[]`` cdata over ``out``, checked before any work.

    ``out`` must hold unsigned 64-bit integers in native byte order, be
    writable, C-contiguous, 8-byte aligned (as ``pi_count_hits_batched``
    requires of ``hits_out``) and have at least ``needed`` items (counted
    flat, in C order).
    """
    try:
        view = memoryview(out)
    except (TypeError, ValueError) as e:
        # ValueError: an exporter that refuses its item type (numpy datetime64).
        why = f" ({e})" if isinstance(e, ValueError) else ""
        raise TypeError(
            f"{name} must be a buffer of unsigned 64-bit integers (numpy uint64, "
            f"array.array('Q'), ...), not {type(out).__name__}{why}"
        ) from None
    with view:
        fmt = view.format
        order, code = (fmt[0], fmt[1:]) if fmt[:1] in _BYTE_ORDER_MARKS else ("@", fmt)
        native = order in ("@", "=") or (order == "<") == (sys.byteorder == "little")
        if code not in ("Q", "L") or view.itemsize != 8 or not native:
            raise TypeError(
                f"{name} must hold unsigned 64-bit integers in native byte order "
                f"(format 'Q'), got format {fmt!r} with itemsize {view.itemsize}"
            )
        if view.readonly:
            raise ValueError(f"{name} must be writable, got a read-only buffer")
        if not view.c_contiguous:
            raise ValueError(f"{name} must be C-contiguous")
        if view.nbytes // 8 < needed:
            raise ValueError(
                f"{name} is too small: {view.nbytes // 8} items, num_batches = {needed}"
            )
        pointer = ffi.from_buffer("uint64_t[]", out, require_writable=True)
    if needed and int(ffi.cast("uintptr_t", pointer)) % 8:
        raise ValueError(f"{name} must be 8-byte aligned (a uint64 view at an odd byte offset)")
    return pointer
