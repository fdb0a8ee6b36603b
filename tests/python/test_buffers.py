"""count_hits_batched: every kind of output buffer, and the ones it refuses."""

from __future__ import annotations

import array
import sys

import numpy as np
import pytest

import pi
from pi import _stream

SEED = 42
# Hits of 5 batches of 200 samples of seed 42, from the pure-Python stream.
EXPECTED = [_stream.count_hits(SEED, 1000 + 200 * k, 200) for k in range(5)]


def test_numpy_uint64() -> None:
    out = np.zeros(5, dtype=np.uint64)
    assert pi.count_hits_batched(200, 5, SEED, first=1000, out=out) is out
    assert out.tolist() == EXPECTED


@pytest.mark.parametrize("dtype", ["<u8", "=u8", np.ulonglong, np.uint64])
def test_numpy_uint64_spellings(dtype) -> None:
    if sys.byteorder != "little" and dtype == "<u8":
        pytest.skip("big-endian machine")
    out = np.zeros(5, dtype=dtype)
    pi.count_hits_batched(200, 5, SEED, first=1000, out=out)
    assert out.tolist() == EXPECTED


def test_array_q() -> None:
    out = array.array("Q", [0] * 5)
    assert pi.count_hits_batched(200, 5, SEED, first=1000, out=out) is out
    assert out.tolist() == EXPECTED


def test_bytearray_memoryview_cast() -> None:
    raw = bytearray(8 * 5)
    view = memoryview(raw).cast("Q")
    assert pi.count_hits_batched(200, 5, SEED, first=1000, out=view) is view
    assert view.tolist() == EXPECTED
    assert memoryview(raw).cast("Q").tolist() == EXPECTED


def test_out_none_allocates_array_q() -> None:
    out = pi.count_hits_batched(200, 5, SEED, first=1000)
    assert isinstance(out, array.array) and out.typecode == "Q"
    assert out.tolist() == EXPECTED


def test_larger_buffer_keeps_the_rest() -> None:
    out = np.full(8, 7, dtype=np.uint64)
    pi.count_hits_batched(200, 5, SEED, first=1000, out=out)
    assert out.tolist() == [*EXPECTED, 7, 7, 7]


def test_two_dimensional_c_contiguous_counts_flat() -> None:
    out = np.zeros((2, 3), dtype=np.uint64)
    pi.count_hits_batched(200, 5, SEED, first=1000, out=out)
    assert out.ravel().tolist() == [*EXPECTED, 0]


def test_zero_batches() -> None:
    assert len(pi.count_hits_batched(10, 0, SEED)) == 0
    out = np.full(2, 3, dtype=np.uint64)
    pi.count_hits_batched(10, 0, SEED, out=out)
    assert out.tolist() == [3, 3]


def test_batches_equal_separate_runs() -> None:
    out = pi.count_hits_batched(1_000_003, 7, seed=5, first=17, backend="cpu")
    for k in range(7):
        assert out[k] == pi.estimate(1_000_003, seed=5, first=17 + k * 1_000_003)["hits"]
    assert sum(out) == pi.estimate(7 * 1_000_003, seed=5, first=17)["hits"]


def test_many_small_batches() -> None:
    out = pi.count_hits_batched(3, 100_000, seed=1)
    assert sum(out) == pi.estimate(300_000, seed=1)["hits"]
    assert out[:50].tolist() == [_stream.count_hits(1, 3 * k, 3) for k in range(50)]


def test_few_huge_batches_are_cut_into_pieces() -> None:
    # Batches bigger than one native piece go through count_hits in pieces.
    out = pi.count_hits_batched(2**27 + 1, 2, seed=3, backend="cpu")
    assert out.tolist() == [
        pi.estimate(2**27 + 1, seed=3, first=k * (2**27 + 1), backend="cpu")["hits"]
        for k in range(2)
    ]


@pytest.mark.parametrize(
    "dtype", [np.float64, np.int64, np.int32, np.uint32, np.float32, np.uint8, np.complex64]
)
def test_wrong_item_type(dtype) -> None:
    with pytest.raises(TypeError, match="out"):
        pi.count_hits_batched(10, 2, SEED, out=np.zeros(4, dtype=dtype))


@pytest.mark.parametrize(
    "out",
    [
        array.array("q", [0, 0]),
        array.array("d", [0, 0]),
        array.array("I", [0, 0]),
        bytearray(16),
        [0, 0],
        "ab",
        3,
    ],
)
def test_wrong_buffer_type(out) -> None:
    with pytest.raises(TypeError, match="out"):
        pi.count_hits_batched(10, 2, SEED, out=out)


def test_big_endian_refused() -> None:
    order = ">u8" if sys.byteorder == "little" else "<u8"
    with pytest.raises(TypeError, match="out"):
        pi.count_hits_batched(10, 2, SEED, out=np.zeros(2, dtype=order))


def test_read_only() -> None:
    out = np.zeros(2, dtype=np.uint64)
    out.flags.writeable = False
    with pytest.raises(ValueError, match=r"out.*writable"):
        pi.count_hits_batched(10, 2, SEED, out=out)
    with pytest.raises(ValueError, match="out"):
        pi.count_hits_batched(10, 2, SEED, out=memoryview(bytes(16)).cast("Q"))


def test_too_small() -> None:
    with pytest.raises(ValueError, match=r"out.*too small"):
        pi.count_hits_batched(10, 5, SEED, out=np.zeros(4, dtype=np.uint64))
    with pytest.raises(ValueError, match="out"):
        pi.count_hits_batched(10, 1, SEED, out=array.array("Q"))


def test_not_contiguous() -> None:
    out = np.zeros(10, dtype=np.uint64)
    with pytest.raises(ValueError, match=r"out.*contiguous"):
        pi.count_hits_batched(10, 5, SEED, out=out[::2])
    with pytest.raises(ValueError, match=r"out.*contiguous"):
        pi.count_hits_batched(10, 4, SEED, out=np.zeros((2, 2), dtype=np.uint64).T)
    assert not out.any()


def test_argument_checks() -> None:
    with pytest.raises(TypeError, match="batch_size"):
        pi.count_hits_batched(1.0, 2, SEED)
    with pytest.raises(ValueError, match="batch_size"):
        pi.count_hits_batched(0, 2, SEED)
    with pytest.raises(TypeError, match="num_batches"):
        pi.count_hits_batched(10, True, SEED)
    with pytest.raises(ValueError, match="num_batches"):
        pi.count_hits_batched(10, -2, SEED)
    with pytest.raises(TypeError, match="seed"):
        pi.count_hits_batched(10, 2, None)
    with pytest.raises(TypeError, match="first"):
        pi.count_hits_batched(10, 2, SEED, first="0")
    with pytest.raises(ValueError, match="first"):
        pi.count_hits_batched(10, 2, SEED, first=2**64 - 19)
