"""The sample stream of ``pi`` in plain Python: the reference every backend matches.

Generator: Philox4x32-10 (Salmon, Moraes, Dror and Shaw, "Parallel random
numbers: as easy as 1, 2, 3", SC'11; the Random123 library), a counter-based
generator: block ``j`` of seed ``s`` is a pure function of ``(j, s)``, so any
sample can be computed without the ones before it.

- Key = ``(lo32(s), hi32(s))`` for the 64-bit seed ``s``.
- Sample ``i`` lives in block ``j = i // 2``:
  ``(x0, x1, x2, x3) = philox4x32_10((lo32(j), hi32(j), 0, 0), key)``;
  sample ``2j`` is the point ``(x0, x1)``, sample ``2j + 1`` is ``(x2, x3)``.
- Sample ``(x, y)`` is a hit when ``x*x + y*y < 2**64``, in exact integers:
  the point ``(x / 2**32, y / 2**32)`` lies inside the quarter circle.

This module is deliberately simple and slow (about 1e5 to 1e6 samples per
second); it exists to define the stream and to check the native backends.
"""

from __future__ import annotations

__all__ = ["count_hits", "is_hit", "philox4x32_10", "sample"]

_MASK32 = 0xFFFFFFFF
_M0 = 0xD2511F53  # multiplier of counter words 0 and 1
_M1 = 0xCD9E8D57  # multiplier of counter words 2 and 3
_W0 = 0x9E3779B9  # key bump of key word 0 (golden ratio)
_W1 = 0xBB67AE85  # key bump of key word 1 (sqrt(3) - 1)
_ROUNDS = 10
_HIT_BOUND = 1 << 64


def philox4x32_10(
    ctr: tuple[int, int, int, int], key: tuple[int, int]
) -> tuple[int, int, int, int]:
    """One Philox4x32-10 block: four 32-bit words from a counter and a key.

    ``ctr`` is four 32-bit words, ``key`` two; the result matches Random123's
    ``philox4x32(ctr, key)`` with 10 rounds (its known-answer vectors).
    """
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for r in range(_ROUNDS):
        if r:  # the key is bumped between rounds, not before the first
            k0 = (k0 + _W0) & _MASK32
            k1 = (k1 + _W1) & _MASK32
        p0 = _M0 * c0  # 64-bit products: hi and lo 32-bit halves
        p1 = _M1 * c2
        c0, c1, c2, c3 = (
            (p1 >> 32) ^ c1 ^ k0,
            p1 & _MASK32,
            (p0 >> 32) ^ c3 ^ k1,
            p0 & _MASK32,
        )
    return c0, c1, c2, c3


def _key(seed: int) -> tuple[int, int]:
    return seed & _MASK32, (seed >> 32) & _MASK32


def sample(seed: int, i: int) -> tuple[int, int]:
    """Sample ``i`` of ``seed``: the point ``(x, y)`` of two 32-bit words."""
    j = i >> 1
    x0, x1, x2, x3 = philox4x32_10((j & _MASK32, j >> 32, 0, 0), _key(seed))
    return (x0, x1) if i & 1 == 0 else (x2, x3)


def is_hit(x: int, y: int) -> bool:
    """Whether the point ``(x, y)`` lies inside the quarter circle of radius 2^32."""
    return x * x + y * y < _HIT_BOUND


def count_hits(seed: int, first: int, count: int) -> int:
    """Hits among samples ``first .. first + count - 1`` of ``seed``.

    Computes each Philox block once, using both of its samples where the run
    covers them. Arguments are not checked: ``seed`` and the sample indices
    must lie in ``0 .. 2**64 - 1``.
    """
    if count <= 0:
        return 0
    key = _key(seed)
    end = first + count  # one past the last sample
    hits = 0
    for j in range(first >> 1, (end + 1) >> 1):
        x0, x1, x2, x3 = philox4x32_10((j & _MASK32, j >> 32, 0, 0), key)
        if 2 * j >= first and x0 * x0 + x1 * x1 < _HIT_BOUND:
            hits += 1
        if 2 * j + 1 < end and x2 * x2 + x3 * x3 < _HIT_BOUND:
            hits += 1
    return hits
