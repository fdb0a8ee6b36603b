"""The Python API: values, dicts, generators, argument checks, threads."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pi
from pi import _stream

U64_MAX = 2**64 - 1
KNOWN = [  # (seed, first, count, hits): pinned from the pure-Python stream (test_stream.py)
    (42, 0, 1000, 794),
    (0, 0, 1000, 783),
    (U64_MAX, 0, 1000, 778),
    (42, 2**64 - 1000, 1000, 796),
    (0x243F6A8885A308D3, 12345, 4321, 3393),
]
DICT_KEYS = {"pi", "std_error", "hits", "samples", "seed", "first", "backend", "device", "seconds"}


def test_public_names() -> None:
    assert set(pi.__all__) == {
        "approximate_pi_python",
        "approximate_pi_cpu",
        "approximate_pi_gpu",
        "estimate",
        "iter_estimates",
        "count_hits_batched",
        "close",
        "NoDeviceError",
        "DeviceError",
        "__version__",
    }
    assert issubclass(pi.NoDeviceError, RuntimeError)
    assert issubclass(pi.DeviceError, RuntimeError)
    assert isinstance(pi.__version__, str) and pi.__version__.count(".") == 2


@pytest.mark.parametrize(("seed", "first", "count", "hits"), KNOWN)
def test_cpu_matches_known_answers(seed, first, count, hits) -> None:
    result = pi.estimate(count, seed=seed, backend="cpu", first=first)
    assert result["hits"] == hits
    assert result["pi"] == 4 * hits / count


def test_python_and_cpu_agree_bit_for_bit() -> None:
    for seed in (1, 2**32, 2**63 + 5):
        n = 20_001
        assert pi.approximate_pi_python(n, seed) == pi.approximate_pi_cpu(n, seed)
        assert pi.approximate_pi_cpu(n, seed, threads=1) == pi.approximate_pi_cpu(n, seed)


def test_approximate_pi_python_value() -> None:
    assert pi.approximate_pi_python(1000, seed=42) == 4 * 794 / 1000


@pytest.mark.parametrize("threads", [None, 0, 1, 2, 3])
def test_thread_counts_give_the_same_hits(threads) -> None:
    assert (
        pi.estimate(3_000_017, seed=9, backend="cpu", threads=threads)["hits"]
        == pi.estimate(3_000_017, seed=9, backend="cpu", threads=1)["hits"]
    )


def test_estimate_dict() -> None:
    result = pi.estimate(100_000, seed=42, backend="cpu")
    assert set(result) == DICT_KEYS
    assert result["hits"] == 78463  # pure Python, pinned
    assert result["samples"] == 100_000
    assert result["seed"] == 42 and result["first"] == 0
    assert result["pi"] == 4 * 78463 / 100_000
    p = 78463 / 100_000
    assert result["std_error"] == pytest.approx(4 * math.sqrt(p * (1 - p) / 100_000), rel=1e-12)
    assert result["backend"] == "cpu"
    assert isinstance(result["device"], str) and result["device"]
    assert result["seconds"] >= 0


def test_estimate_auto_reports_the_backend_used() -> None:
    result = pi.estimate(1000, seed=42)
    assert result["backend"] in ("cpu", "gpu")
    assert result["hits"] == 794


def test_estimate_first_offset_adds_up() -> None:
    a = pi.estimate(1_000_000, seed=3, backend="cpu")["hits"]
    b = pi.estimate(2_500_000, seed=3, backend="cpu", first=1_000_000)["hits"]
    assert a + b == pi.estimate(3_500_000, seed=3, backend="cpu")["hits"]


def test_the_last_sample_of_the_stream() -> None:
    assert pi.estimate(1, seed=5, first=U64_MAX)["hits"] == _stream.count_hits(5, U64_MAX, 1)
    assert pi.estimate(999, seed=5, first=2**64 - 999)["hits"] == _stream.count_hits(
        5, 2**64 - 999, 999
    )


def test_seed_none_is_fresh_and_reported() -> None:
    seeds = {pi.estimate(1000)["seed"] for _ in range(5)}
    assert len(seeds) == 5
    assert all(0 <= s <= U64_MAX for s in seeds)
    result = pi.estimate(10_000)
    assert pi.estimate(10_000, seed=result["seed"])["hits"] == result["hits"]


def test_numpy_integers_are_accepted() -> None:
    result = pi.estimate(np.uint64(1000), seed=np.int64(42), first=np.uint32(0))
    assert result["hits"] == 794 and type(result["samples"]) is int
    assert pi.approximate_pi_python(np.int32(1000), np.uint64(42)) == 3.176


@pytest.mark.parametrize("gpu", [None, 0, "all", np.int64(0), np.uint8(3), np.str_("all")])
def test_gpu_choices_are_accepted(gpu) -> None:
    # The CPU backend uses no GPU: every valid choice counts the same hits there.
    assert pi.estimate(1000, seed=42, backend="cpu", gpu=gpu)["hits"] == 794
    assert pi.count_hits_batched(1000, 2, 42, backend="cpu", gpu=gpu).tolist() == [794, 778]
    assert next(pi.iter_estimates(1000, 1, seed=42, backend="cpu", gpu=gpu))["hits"] == 794


def test_gpu_check() -> None:
    from pi import _checks
    from pi._lib import lib

    assert _checks.gpu(None) == lib.PI_GPU_DEFAULT
    assert _checks.gpu("all") == lib.PI_GPU_ALL
    assert _checks.gpu(np.int16(2)) == 2
    assert _checks.gpu(2**31 - 1) == 2**31 - 1
    for bad, error in ((-1, ValueError), (2**31, ValueError), (True, TypeError), ("1", ValueError)):
        with pytest.raises(error, match="gpu"):
            _checks.gpu(bad)


# --- iter_estimates -------------------------------------------------------------------------


def test_iter_estimates_dicts() -> None:
    results = list(pi.iter_estimates(1000, 4, seed=42, backend="cpu"))
    assert [r["batch"] for r in results] == [1, 2, 3, 4]
    assert [r["samples"] for r in results] == [1000, 2000, 3000, 4000]
    assert results[0]["hits"] == 794 and results[0]["batch_hits"] == 794
    assert sum(r["batch_hits"] for r in results) == results[-1]["hits"]
    assert set(results[-1]) == DICT_KEYS | {"batch", "batch_hits"}


def test_iter_estimates_is_endless_without_num_batches() -> None:
    gen = pi.iter_estimates(10, seed=1)
    for _ in range(1000):
        last = next(gen)
    assert last["samples"] == 10_000
    assert last["hits"] == pi.estimate(10_000, seed=1)["hits"]


@settings(max_examples=40, deadline=None)
@given(
    batch_size=st.integers(1, 200_000),
    num_batches=st.integers(1, 6),
    seed=st.integers(0, U64_MAX),
)
def test_iter_estimates_equals_estimate(batch_size, num_batches, seed) -> None:
    for k, result in enumerate(pi.iter_estimates(batch_size, num_batches, seed=seed), start=1):
        whole = pi.estimate(k * batch_size, seed=seed)
        assert result["hits"] == whole["hits"]
        assert result["pi"] == whole["pi"]
        assert result["std_error"] == whole["std_error"]
        assert result["samples"] == k * batch_size and result["seed"] == seed


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, U64_MAX), first=st.integers(0, 2**64 - 5000), count=st.integers(1, 4000))
def test_cpu_equals_pure_python(seed, first, count) -> None:
    assert pi.estimate(count, seed=seed, first=first, backend="cpu")["hits"] == _stream.count_hits(
        seed, first, count
    )


# --- bad input: the message names the argument -----------------------------------------------

CALLS = {
    "python": lambda **kw: pi.approximate_pi_python(**{"num_points": 10, **kw}),
    "cpu": lambda **kw: pi.approximate_pi_cpu(**{"num_points": 10, **kw}),
    "gpu": lambda **kw: pi.approximate_pi_gpu(**{"num_points": 10, **kw}),
    "estimate": lambda **kw: pi.estimate(**{"num_points": 10, **kw}),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("bad", [1.0, 1e3, "10", True, False, None, 10 + 0j, [10]])
def test_num_points_wrong_type(call, bad) -> None:
    with pytest.raises(TypeError, match="num_points"):
        CALLS[call](num_points=bad)


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("bad", [0, -1, -(2**70), 2**64, 2**80])
def test_num_points_wrong_value(call, bad) -> None:
    with pytest.raises(ValueError, match="num_points"):
        CALLS[call](num_points=bad)


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("bad", [1.5, "42", True, np.bool_(True), np.float64(3.0)])
def test_seed_wrong_type(call, bad) -> None:
    with pytest.raises(TypeError, match="seed"):
        CALLS[call](seed=bad)


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("bad", [-1, 2**64])
def test_seed_wrong_value(call, bad) -> None:
    with pytest.raises(ValueError, match="seed"):
        CALLS[call](seed=bad)


@pytest.mark.parametrize(
    ("bad", "exc"),
    [(1.0, TypeError), ("2", TypeError), (True, TypeError), (-1, ValueError), (2**32, ValueError)],
)
def test_threads_bad(bad, exc) -> None:
    with pytest.raises(exc, match="threads"):
        pi.approximate_pi_cpu(10, threads=bad)
    with pytest.raises(exc, match="threads"):
        pi.estimate(10, threads=bad)


@pytest.mark.parametrize(
    ("bad", "exc"),
    [
        ("GPU", ValueError),
        ("cuda", ValueError),
        ("", ValueError),
        (1, TypeError),
        (None, TypeError),
    ],
)
def test_backend_bad(bad, exc) -> None:
    with pytest.raises(exc, match="backend"):
        pi.estimate(10, backend=bad)
    with pytest.raises(exc, match="backend"):
        pi.iter_estimates(10, backend=bad)
    with pytest.raises(exc, match="backend"):
        pi.count_hits_batched(10, 1, 0, backend=bad)


@pytest.mark.parametrize(
    ("bad", "exc"), [(1.0, TypeError), (True, TypeError), (-1, ValueError), (2**64, ValueError)]
)
def test_first_bad(bad, exc) -> None:
    with pytest.raises(exc, match="first"):
        pi.estimate(10, first=bad)


def test_range_past_the_end_of_the_stream() -> None:
    with pytest.raises(ValueError, match="first"):
        pi.estimate(2, first=U64_MAX)
    with pytest.raises(ValueError, match="first"):
        pi.estimate(U64_MAX, first=2)
    with pytest.raises(ValueError, match="num_batches"):
        pi.count_hits_batched(2**63, 3, seed=0)
    with pytest.raises(ValueError, match="num_batches"):
        pi.iter_estimates(2**63, 3)


def test_fallback_must_be_bool() -> None:
    with pytest.raises(TypeError, match="fallback"):
        pi.approximate_pi_gpu(10, fallback="no")


def test_iter_estimates_checks_at_the_call() -> None:
    with pytest.raises(TypeError, match="batch_size"):
        pi.iter_estimates(1.5)
    with pytest.raises(ValueError, match="batch_size"):
        pi.iter_estimates(0)
    with pytest.raises(TypeError, match="num_batches"):
        pi.iter_estimates(10, 2.0)
    with pytest.raises(ValueError, match="num_batches"):
        pi.iter_estimates(10, -1)
    with pytest.raises(ValueError, match="seed"):
        pi.iter_estimates(10, seed=-1)


# --- threads ---------------------------------------------------------------------------------


def test_python_threads_count_concurrently_and_exactly() -> None:
    n = 20_000_000
    seeds = [11, 22, 33, 44]
    expected = {s: pi.estimate(n, seed=s, backend="cpu")["hits"] for s in seeds}
    got: dict[int, int] = {}
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for _ in range(3):
                hits = pi.estimate(n, seed=seed, backend="cpu")["hits"]
                assert got.setdefault(seed, hits) == hits
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s,)) for s in seeds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert got == expected
