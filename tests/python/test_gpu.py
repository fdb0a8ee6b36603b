"""The GPU backend: same hits as the CPU; picking adapters (``gpu=``); requests without one.

Tests that need an adapter skip with the reason (see ``pytest -rs``) unless
``PI_REQUIRE_ALL=1``, which turns a missing adapter into a failure. On a
machine without a GPU, lavapipe (apt install mesa-vulkan-drivers) gives one.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import pi
from _helpers import NO_GPU_ENV, run_python
from pi import _engine, _stream
from pi._lib import ffi, lib

#: Runs up to this many samples go to the CPU even on a GPU engine (src/engine.rs).
GPU_MIN = lib.PI_GPU_MIN_SAMPLES


@pytest.mark.usefixtures("gpu_available")
class TestOnAGpu:
    # Sizes above the engine's small-run threshold, so the GPU counts them.
    @pytest.mark.parametrize("n", [GPU_MIN + 1, 1_000_003, 2**24 + 5, 3 * 2**24 + 12345])
    def test_gpu_equals_cpu(self, n) -> None:
        for seed in (0, 42, 2**64 - 1):
            gpu = pi.estimate(n, seed=seed, backend="gpu")
            assert gpu["backend"] == "gpu"
            assert gpu["hits"] == pi.estimate(n, seed=seed, backend="cpu")["hits"]

    def test_gpu_with_odd_first(self) -> None:
        for first in (1, 2**32 - 1, 2**33 + 7, 2**64 - 2**20 - 1):
            gpu = pi.estimate(2**20, seed=7, first=first, backend="gpu")
            assert gpu["hits"] == pi.estimate(2**20, seed=7, first=first, backend="cpu")["hits"]

    def test_gpu_small_run_equals_pure_python(self) -> None:
        assert pi.estimate(1000, seed=42, backend="gpu")["hits"] == 794
        assert pi.approximate_pi_gpu(5000, seed=3, fallback=False) == pi.approximate_pi_python(
            5000, seed=3
        )

    def test_gpu_matches_pure_python_on_a_gpu_sized_run(self) -> None:
        n = 2 * GPU_MIN + 3
        assert pi.estimate(n, seed=99, first=12345, backend="gpu")["hits"] == _stream.count_hits(
            99, 12345, n
        )

    def test_gpu_batched(self) -> None:
        size = 2 * GPU_MIN
        out = pi.count_hits_batched(size, 6, seed=5, first=3, backend="gpu")
        cpu = pi.count_hits_batched(
            size, 6, seed=5, first=3, out=np.zeros(6, np.uint64), backend="cpu"
        )
        assert out.tolist() == cpu.tolist()

    def test_gpu_iter_estimates(self) -> None:
        size = 4 * GPU_MIN
        for k, r in enumerate(pi.iter_estimates(size, 3, seed=8, backend="gpu"), start=1):
            assert r["hits"] == pi.estimate(k * size, seed=8, backend="cpu")["hits"]

    @pytest.mark.parametrize("gpu", [0, "all", np.int64(0)])
    def test_a_gpu_choice_equals_cpu(self, gpu) -> None:
        # 2**24 + 5 and more: PI_GPU_ALL cuts runs of at least 2**24 samples between devices.
        for n, seed, first in ((2**24 + 5, 42, 0), (3 * 2**24 + 12345, 2**64 - 1, 2**33 + 7)):
            got = pi.estimate(n, seed=seed, first=first, backend="gpu", gpu=gpu)
            assert got["backend"] == "gpu"
            assert got["hits"] == pi.estimate(n, seed=seed, first=first, backend="cpu")["hits"]
        n = 2 * GPU_MIN + 3
        assert pi.approximate_pi_gpu(n, seed=3, fallback=False, gpu=gpu) == 4.0 * (
            _stream.count_hits(3, 0, n) / n
        )
        size = 2 * GPU_MIN
        batched = pi.count_hits_batched(size, 5, seed=5, first=3, backend="gpu", gpu=gpu)
        cpu = pi.count_hits_batched(size, 5, seed=5, first=3, backend="cpu")
        assert batched.tolist() == cpu.tolist()
        for k, r in enumerate(pi.iter_estimates(size, 2, seed=8, backend="gpu", gpu=gpu), 1):
            assert r["backend"] == "gpu"
            assert r["hits"] == pi.estimate(k * size, seed=8, backend="cpu")["hits"]

    def test_a_gpu_choice_has_its_own_engine(self) -> None:
        pi.estimate(GPU_MIN + 1, seed=1, backend="gpu")
        pi.estimate(GPU_MIN + 1, seed=1, backend="gpu", gpu=0)
        default = _engine._engines[("gpu", 0, _engine.GPU_DEFAULT)]
        chosen = _engine._engines[("gpu", 0, 0)]
        assert chosen is not default
        assert chosen.describe().startswith("GPU")

    def test_gpu_device_is_described(self) -> None:
        result = pi.estimate(2**20, seed=1, backend="gpu")
        assert result["device"].startswith("GPU")


def test_no_adapter_when_drivers_are_hidden() -> None:
    code = """
import json, pi
out = {}
try:
    pi.approximate_pi_gpu(1000, seed=42, fallback=False)
    out["gpu_no_fallback"] = "returned"
except pi.NoDeviceError as e:
    out["gpu_no_fallback"] = "NoDeviceError: " + str(e)
try:
    pi.estimate(1000, seed=42, backend="gpu")
    out["estimate_gpu"] = "returned"
except pi.NoDeviceError as e:
    out["estimate_gpu"] = "NoDeviceError"
out["fallback"] = pi.approximate_pi_gpu(1000, seed=42)
either = pi._engine._engines[(pi._engine.GPU_OR_CPU, 0, pi._engine.GPU_DEFAULT)]
out["fallback_backend"] = either.backend
auto = pi.estimate(1000, seed=42, backend="auto")
out["auto_backend"] = auto["backend"]
out["auto_hits"] = auto["hits"]
print(json.dumps(out))
"""
    # PI_BACKEND would override the backend asked for; drop it.
    proc = run_python(code, env={**NO_GPU_ENV, "PI_BACKEND": ""})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["gpu_no_fallback"].startswith("NoDeviceError"), out
    assert out["estimate_gpu"] == "NoDeviceError"
    assert out["fallback"] == 4 * 794 / 1000
    assert out["fallback_backend"] == "cpu"
    assert out["auto_backend"] == "cpu"
    assert out["auto_hits"] == 794


def adapters() -> list[str]:
    """The lines of ``pi_gpu_list``: one per adapter, numbered from 0."""
    size = lib.pi_gpu_list(ffi.NULL, 0)
    buf = ffi.new("char[]", size + 1)
    lib.pi_gpu_list(buf, size + 1)
    return [line for line in ffi.string(buf).decode().splitlines() if line.strip()]


@pytest.mark.parametrize("past", [0, 1, 2**31 - 1 - len(adapters())])
def test_an_index_past_the_last_adapter(past: int) -> None:
    # As pi_engine_new_on says: NoDeviceError for the GPU backend, the CPU for auto.
    index = len(adapters()) + past
    with pytest.raises(pi.NoDeviceError):
        pi.estimate(1000, seed=42, backend="gpu", gpu=index)
    with pytest.raises(pi.NoDeviceError):
        pi.approximate_pi_gpu(1000, seed=42, fallback=False, gpu=index)
    assert pi.approximate_pi_gpu(1000, seed=42, gpu=index) == 4 * 794 / 1000
    auto = pi.estimate(GPU_MIN + 1, seed=42, backend="auto", gpu=index)
    assert auto["backend"] == "cpu"
    assert auto["hits"] == pi.estimate(GPU_MIN + 1, seed=42, backend="cpu")["hits"]


def test_gpu_choices_keep_the_cache_bounded() -> None:
    first = len(adapters())
    for index in range(first, first + 2 * _engine.MAX_OTHER_ENGINES):
        assert pi.estimate(1000, seed=42, backend="auto", gpu=index)["hits"] == 794
    chosen = [key for key in _engine._engines if key[2] != _engine.GPU_DEFAULT or key[1]]
    assert 0 < len(chosen) <= _engine.MAX_OTHER_ENGINES
