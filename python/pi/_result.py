"""The result dict of every estimate (API, command line, Dask, bench), built in one place."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["KEYS", "pi_and_error", "result"]

#: The keys of ``pi.estimate``'s dict, in order; other results add keys after them.
KEYS = ("pi", "std_error", "hits", "samples", "seed", "first", "backend", "device", "seconds")


def pi_and_error(hits: int, samples: int) -> tuple[float, float]:
    """``4 hits / samples`` and its standard error ``4 sqrt(p (1 - p) / samples)``."""
    p = hits / samples
    return 4.0 * p, 4.0 * math.sqrt(p * (1.0 - p) / samples)


def result(
    hits: int,
    samples: int,
    seed: int,
    first: int,
    backend: str,
    device: str,
    seconds: float,
    **extra: Any,
) -> dict[str, Any]:
    """The dict of ``pi.estimate`` (keys ``KEYS``), then ``extra`` in the order given."""
    pi_hat, std_error = pi_and_error(hits, samples)
    return {
        "pi": pi_hat,
        "std_error": std_error,
        "hits": hits,
        "samples": samples,
        "seed": seed,
        "first": first,
        "backend": backend,
        "device": device,
        "seconds": seconds,
        **extra,
    }
