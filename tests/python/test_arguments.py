"""Arguments beyond the bad-input table: NumPy scalars, huge integers, the output-buffer rule,
``out=None`` sizes and ``fallback``'s one meaning."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import pi
from _helpers import interrupt_call, posix_only
from pi import _checks, _engine, _lib, _result
from pi._errors import DeviceError

NUMPY_INTS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


@pytest.mark.parametrize("kind", NUMPY_INTS)
def test_numpy_integer_scalars_are_ints(kind) -> None:
    n, seed, first = kind(100), kind(42), kind(3)
    want = pi.estimate(100, seed=42, first=3, backend="cpu")["hits"]
    assert pi.estimate(n, seed=seed, first=first, backend="cpu", threads=kind(1))["hits"] == want
    assert pi.approximate_pi_cpu(n, seed=seed, threads=kind(2)) == pi.approximate_pi_cpu(100, 42)
    assert list(pi.count_hits_batched(kind(10), kind(4), seed)) == list(
        pi.count_hits_batched(10, 4, 42)
    )
    (r,) = pi.iter_estimates(kind(10), kind(1), seed=seed, backend="cpu")
    assert r["hits"] == pi.estimate(10, seed=42)["hits"]


def test_a_numpy_str_is_a_backend_name() -> None:
    assert pi.estimate(1000, seed=42, backend=np.str_("cpu"))["hits"] == 794


def test_numpy_uint64_at_the_top_of_its_range() -> None:
    top = np.uint64(2**64 - 1)
    assert pi.estimate(1000, seed=top)["hits"] == 778
    assert pi.estimate(np.uint64(1000), seed=42, first=np.uint64(2**64 - 1000))["hits"] == 796


@pytest.mark.parametrize("value", [np.bool_(True), np.bool_(False), True, False])
def test_numpy_bool_is_a_bool(value) -> None:
    try:
        got = pi.approximate_pi_gpu(1000, seed=42, fallback=value)
    except pi.NoDeviceError:
        assert not value  # only fallback=False raises, and only without an adapter
        return
    assert got == 3.176


@pytest.mark.parametrize(
    "value", [np.bool_(True), np.float64(10.0), np.float32(10), 10.0, "10", np.str_("10")]
)
def test_numpy_bools_and_floats_are_not_ints(value) -> None:
    with pytest.raises(TypeError, match="num_points must be an int"):
        pi.estimate(value)


@pytest.mark.parametrize("value", [np.int64(1), 1, None, "yes", np.float64(1.0)])
def test_fallback_takes_only_a_bool(value) -> None:
    with pytest.raises(TypeError, match="fallback must be a bool"):
        pi.approximate_pi_gpu(10, fallback=value)


@pytest.mark.parametrize("name", ["num_points", "seed", "first", "threads"])
@pytest.mark.parametrize(
    "value", [10**5000, -(10**5000), 2**100_000], ids=["10**5000", "-10**5000", "2**100000"]
)
def test_huge_integers_are_named_without_hitting_the_digit_limit(name, value) -> None:
    kwargs = {"num_points": 10, name: value}
    with pytest.raises(ValueError) as caught:
        pi.estimate(**kwargs)
    message = str(caught.value)
    assert message.startswith(f"{name} must be") and "-bit integer" in message
    assert len(message) < 200


def test_shown() -> None:
    assert _checks.shown(2**64) == "18446744073709551616"
    assert _checks.shown(10**30) == "a 100-bit integer"
    assert _checks.shown(-(10**5000)) == "a negative 16610-bit integer"


def test_one_result_builder() -> None:
    r = _result.result(794, 1000, 42, 0, "cpu", "CPU", 0.5, batch=1)
    assert list(r) == [*_result.KEYS, "batch"]
    assert r["pi"] == 3.176 and r["std_error"] == pytest.approx(0.0511568568229128)
    assert list(pi.estimate(1000, seed=42)) == list(_result.KEYS)


# --- the output buffer: one rule, decided before any work -----------------------------------


def misaligned(n: int) -> np.ndarray:
    """``n`` uint64 items at an odd byte address, all 777."""
    view = np.zeros(8 * n + 1, np.uint8)[1:].view(np.uint64)
    view[:] = 777
    return view


@pytest.mark.parametrize("batch_size", [1, 10, 2**17, 10**7])
@pytest.mark.parametrize("n", [1, 4])
def test_a_misaligned_buffer_is_refused_before_any_work(batch_size, n) -> None:
    out = misaligned(n)
    assert out.ctypes.data % 8 != 0
    with pytest.raises(ValueError, match="out must be 8-byte aligned"):
        pi.count_hits_batched(batch_size, n, seed=1, out=out, backend="cpu")
    assert (out == 777).all()


def test_zero_batches_take_any_buffer() -> None:
    out = misaligned(2)
    assert pi.count_hits_batched(10, 0, seed=1, out=out) is out
    assert (out == 777).all()
    assert list(pi.count_hits_batched(10, 0, seed=1)) == []


@pytest.mark.parametrize("dtype", ["M8[ns]", "m8[s]", "O", "U8", "c16"])
def test_a_buffer_of_another_item_type_is_a_type_error(dtype) -> None:
    with pytest.raises(TypeError, match="out must"):
        pi.count_hits_batched(10, 4, seed=1, out=np.zeros(8, dtype))


# --- out=None: what no machine can hold, what this one cannot --------------------------------


@pytest.mark.parametrize("n", [2**61, 2**63, 2**64 - 1])
def test_out_none_past_the_address_space_is_a_value_error(n) -> None:
    with pytest.raises(ValueError, match=r"num_batches = .* needs an output of .* address"):
        pi.count_hits_batched(1, n, seed=1)


@pytest.mark.parametrize("n", [10**10, 10**13])
def test_out_none_past_this_machines_memory_says_how_much(n) -> None:
    memory = _checks._physical_memory()
    if memory is None or 8 * n <= memory:
        pytest.skip("this machine could hold the array")
    with pytest.raises(MemoryError) as caught:
        pi.count_hits_batched(1, n, seed=1)
    assert f"num_batches = {n} needs an output of" in str(caught.value)


def test_out_none_in_several_chunks_equals_out() -> None:
    n = 2**20 + 5  # more than one chunk of the new array
    made = pi.count_hits_batched(3, n, seed=9, first=11, backend="cpu")
    out = np.zeros(n, np.uint64)
    pi.count_hits_batched(3, n, seed=9, first=11, out=out, backend="cpu")
    assert made.itemsize == 8 and len(made) == n
    assert np.array_equal(np.frombuffer(made, np.uint64), out)


# --- fallback: the native engine's, one rule for fallback=True and backend="auto" ----------


#: The cache keys of the default GPU engine and of the engine of ``fallback=True``.
_GPU_KEY = ("gpu", 0, _engine.GPU_DEFAULT)
_EITHER_KEY = (_engine.GPU_OR_CPU, 0, _engine.GPU_DEFAULT)


class _FailingEngine(_engine.Engine):
    """A CPU engine, cached as the GPU one, whose native call fails as a lost device does."""

    def __init__(self) -> None:
        super().__init__("cpu", 1)
        self.key = _GPU_KEY
        self.calls = 0

    def count_native(self, seed: int, first: int, count: int, out: Any, watch: Any) -> int:
        self.calls += 1
        return int(_lib.lib.PI_ERROR_DEVICE)

    def count_small(self, seed: int, first: int, count: int) -> int:
        self.calls += 1
        _lib.check(_lib.lib.PI_ERROR_DEVICE)
        return 0


def test_fallback_is_one_native_engine_kept_across_calls(monkeypatch) -> None:
    failing = _FailingEngine()
    monkeypatch.setitem(_engine._engines, _GPU_KEY, failing)
    with pytest.raises(DeviceError):
        pi.approximate_pi_gpu(10**6, seed=42, fallback=False)
    assert failing.calls == 1
    assert _engine._engines.get(_GPU_KEY) is failing  # an explicit GPU request just raises

    # fallback=True never touches the GPU engine: it has its own, of PI_BACKEND_GPU_OR_CPU,
    # which falls back by itself and is kept (given up or not) until pi.close().
    assert pi.approximate_pi_gpu(10**6, seed=42, fallback=True) == 3.143424
    assert failing.calls == 1
    either = _engine._engines[_EITHER_KEY]
    assert pi.approximate_pi_gpu(10**6, seed=42) == 3.143424
    assert _engine._engines[_EITHER_KEY] is either
    pi.close()
    assert _EITHER_KEY not in _engine._engines


@posix_only
def test_ctrl_c_stops_a_huge_out_none_request_at_once() -> None:
    # 2**30 batches of 2**17 samples: an 8 GiB array that would take hours to fill.
    statement = "pi.count_hits_batched(2**17, 2**30, seed=1, backend='cpu')"
    line, elapsed, stderr = interrupt_call(statement, 1.5)
    assert line == "interrupted\n", stderr
    assert elapsed < 0.5, f"took {elapsed:.2f} s to stop"
