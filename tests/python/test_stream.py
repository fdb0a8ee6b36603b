"""The pure-Python stream (pi._stream) against Random123's known answers and itself."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _helpers import DATA
from pi import _stream

U64 = st.integers(min_value=0, max_value=2**64 - 1)


def kat_vectors() -> list[tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]]:
    vectors = []
    for line in (DATA / "philox4x32_10_kat.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, rounds, *words = line.split()
        assert (name, rounds) == ("philox4x32", "10")
        w = tuple(int(x, 16) for x in words)
        vectors.append((w[0:4], w[4:6], w[6:10]))
    return vectors


KAT = kat_vectors()


def test_kat_file_is_complete() -> None:
    assert len(KAT) == 55  # 3 current Random123 vectors + 52 old ones


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT)
def test_philox4x32_10_known_answers(ctr, key, expected) -> None:
    assert _stream.philox4x32_10(ctr, key) == expected


def test_sample_layout() -> None:
    # Block j = i // 2 with counter (lo32(j), hi32(j), 0, 0), key (lo32(s), hi32(s)).
    seed = 0x0123456789ABCDEF
    key = (0x89ABCDEF, 0x01234567)
    j = 0x1_0000_0002
    x0, x1, x2, x3 = _stream.philox4x32_10((2, 1, 0, 0), key)
    assert _stream.sample(seed, 2 * j) == (x0, x1)
    assert _stream.sample(seed, 2 * j + 1) == (x2, x3)


def test_hit_is_exact_integer_test() -> None:
    assert _stream.is_hit(0, 0)
    assert not _stream.is_hit(2**32, 0)  # on the circle: not a hit
    assert _stream.is_hit(2**32 - 1, 0)
    # Just inside and just outside, where float64 would round to the boundary.
    x = 3037000499  # floor(2**31.5)
    assert _stream.is_hit(x, x)
    assert not _stream.is_hit(x + 1, x + 1)


# Known answers, computed with this module and pinned (native backends check them too).
KNOWN = [
    (42, 0, 1000, 794),
    (0, 0, 1000, 783),
    (2**64 - 1, 0, 1000, 778),
    (42, 2**64 - 1000, 1000, 796),
    (0x243F6A8885A308D3, 12345, 4321, 3393),
]


@pytest.mark.parametrize(("seed", "first", "count", "hits"), KNOWN)
def test_known_hit_counts(seed, first, count, hits) -> None:
    assert _stream.count_hits(seed, first, count) == hits


def test_count_hits_matches_sample_by_sample() -> None:
    seed = 7
    for first in range(5):
        for count in range(7):
            expected = sum(
                _stream.is_hit(*_stream.sample(seed, i)) for i in range(first, first + count)
            )
            assert _stream.count_hits(seed, first, count) == expected


@given(seed=U64, first=st.integers(0, 2**64 - 300), n=st.integers(0, 100), m=st.integers(0, 100))
def test_runs_add_up(seed, first, n, m) -> None:
    assert _stream.count_hits(seed, first, n) + _stream.count_hits(
        seed, first + n, m
    ) == _stream.count_hits(seed, first, n + m)
