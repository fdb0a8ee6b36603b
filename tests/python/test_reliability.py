"""Concurrency and memory: one engine shared by 8 Python threads, and the
resident memory of a process that makes 10,000 engines and a million small
calls stays flat. The figures are printed (pytest -s or the CI log shows
them) for docs/reliability.md."""

from __future__ import annotations

import os
import threading

import pytest

import pi
from pi._engine import get_engine
from pi._lib import ffi, lib

THREADS = 8
CALLS_EACH = 500
ENGINES = 10_000
SMALL_CALLS = 1_000_000
RSS_BOUND = 16 << 20  # bytes of growth allowed after warm-up


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _report(capsys: pytest.CaptureFixture, text: str) -> None:
    with capsys.disabled():
        print(f"\n[reliability] {text}")


def test_eight_threads_share_one_engine_exactly(capsys: pytest.CaptureFixture) -> None:
    engine = get_engine("cpu", 2)
    cases = [
        (s * 7919, s * 1_000_003, 1 + s * 977 + (200_000 if s % 4 == 3 else 0)) for s in range(16)
    ]
    expected = [engine.count_hits(*c) for c in cases]
    wrong: list[tuple[int, int]] = []

    def work(t: int) -> None:
        for k in range(CALLS_EACH):
            i = (k * 5 + t) % len(cases)
            if engine.count_hits(*cases[i]) != expected[i]:
                wrong.append((t, k))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    _report(capsys, f"{THREADS} Python threads x {CALLS_EACH} calls on one engine: 0 wrong")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc to read RSS")
def test_memory_stays_flat(capsys: pytest.CaptureFixture) -> None:
    out = ffi.new("pi_engine **")
    hits = ffi.new("uint64_t *")

    def make_and_free(n: int) -> None:
        for _ in range(n):
            assert lib.pi_engine_new(lib.PI_BACKEND_CPU, 1, out) == lib.PI_OK
            lib.pi_engine_free(out[0])

    engine = get_engine("cpu", 1).raw

    def small_calls(n: int) -> None:
        for i in range(n):
            lib.pi_count_hits(engine, i, 0, 16, hits)

    make_and_free(500)
    small_calls(20_000)
    before = _rss()
    make_and_free(ENGINES)
    after_engines = _rss()
    small_calls(SMALL_CALLS)
    # And the bad-input path, which sets the per-thread message each time.
    for _ in range(10_000):
        lib.pi_count_hits(ffi.NULL, 0, 0, 1, hits)
    after_calls = _rss()
    _report(
        capsys,
        f"RSS {before / 2**20:.1f} MiB; after {ENGINES} engines {after_engines / 2**20:.1f} MiB; "
        f"after {SMALL_CALLS} calls {after_calls / 2**20:.1f} MiB (bound +{RSS_BOUND >> 20} MiB)",
    )
    assert after_engines - before < RSS_BOUND
    assert after_calls - before < RSS_BOUND


def test_a_freed_engine_cannot_be_reached_from_python() -> None:
    # The API hands out no engine; the cache may drop one while a call runs,
    # and the call's own reference keeps it alive until it returns.
    engine = get_engine("cpu", 1)
    pi.close()
    assert engine.count_hits(42, 0, 1000) == 794
    assert pi.estimate(1000, seed=42, backend="cpu", threads=1)["hits"] == 794
