"""fork() and resources: calls in a forked child are exact and never hang; the engine cache
is bounded and ``pi.close()`` gives its threads back.

Each case runs in a child interpreter under a timeout, and each fork inside it
under the watchdog of ``_fork.in_child``: a regression fails instead of hanging.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from _helpers import run_python

HERE = Path(__file__).resolve().parent
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")


def run_script(body: str, timeout: float = 120) -> object:
    """Runs ``body`` (with ``in_child`` imported) in a new interpreter; what it prints, as JSON."""
    code = f"import sys\nsys.path.insert(0, {str(HERE)!r})\nfrom _fork import in_child\n"
    proc = run_python(code + textwrap.dedent(body), timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@needs_fork
def test_a_child_counts_exactly_after_the_parent_used_the_pool() -> None:
    result = run_script(
        """
        import json, pi
        from pi import _engine
        big = (42, 3, 10**6 + 7)  # over the small-run limit: the thread pool counts it
        want = [
            pi.estimate(10**7, seed=1, backend="cpu")["hits"],
            pi.estimate(big[2], seed=big[0], first=big[1], backend="cpu")["hits"],
            list(pi.count_hits_batched(10**5, 40, seed=7, backend="cpu")),
        ]
        engine = _engine.get_engine("cpu", 0)  # the parent's engine, used as is in the child

        def child():
            return [
                pi.estimate(10**7, seed=1, backend="cpu")["hits"],
                pi.estimate(big[2], seed=big[0], first=big[1], backend="cpu")["hits"],
                list(pi.count_hits_batched(10**5, 40, seed=7, backend="cpu")),
            ]

        def child_on_the_parents_engine():
            return engine.count_hits(1, 0, 10**7)

        got = in_child(child)
        print(json.dumps([got == want, in_child(child_on_the_parents_engine) == want[0]]))
        """
    )
    assert result == [True, True]


@needs_fork
@pytest.mark.parametrize("backend", ["cpu", "auto"])
def test_a_fork_pool_maps_exactly(backend) -> None:
    result = run_script(
        f"""
        import json, multiprocessing, pi

        def hits(seed):
            return pi.estimate(10**6, seed=seed, backend={backend!r})["hits"]

        if __name__ == "__main__":
            want = [hits(s) for s in range(8)]  # the parent's engine and pool exist now
            pool = multiprocessing.get_context("fork").Pool(2)
            try:
                got = pool.map_async(hits, range(8)).get(timeout=60)
            finally:
                pool.terminate()
                pool.join()
            print(json.dumps(got == want))
        """
    )
    assert result is True


@needs_fork
def test_a_fork_while_another_thread_holds_the_cache_lock() -> None:
    result = run_script(
        """
        import json, threading, time, pi
        from pi import _engine

        held = threading.Event()

        def making_an_engine():  # holds the lock as making an engine does
            with _engine._lock:
                held.set()
                time.sleep(3)

        threading.Thread(target=making_an_engine, daemon=True).start()
        held.wait()
        print(json.dumps(in_child(lambda: pi.estimate(1000, seed=42, threads=1)["hits"])))
        """
    )
    assert result == 794


@needs_fork
def test_forks_while_another_thread_makes_engines() -> None:
    result = run_script(
        """
        import json, threading, pi

        stop = threading.Event()

        def churn():  # makes and drops engines of many thread counts, all the time
            k = 0
            while not stop.is_set():
                pi.estimate(2 * 10**5, seed=5, backend="cpu", threads=1 + k % 7)
                if k % 3 == 0:
                    pi.close()
                k += 1

        worker = threading.Thread(target=churn, daemon=True)
        worker.start()
        want = pi.estimate(10**6, seed=9, backend="cpu", threads=3)["hits"]
        got = [in_child(lambda: pi.estimate(10**6, seed=9, backend="cpu", threads=3)["hits"])
               for _ in range(20)]
        stop.set()
        worker.join()
        print(json.dumps(got == [want] * 20))
        """
    )
    assert result is True


@needs_fork
@pytest.mark.usefixtures("gpu_available")
def test_a_gpu_engine_in_a_child_is_exact_or_a_quick_device_error() -> None:
    result = run_script(
        """
        import json, time, pi
        from pi import _engine

        n = 4 * _engine.lib.PI_GPU_MIN_SAMPLES
        want = pi.estimate(n, seed=3, backend="gpu")["hits"]
        parents = _engine.get_engine("gpu", 0)
        either = _engine.get_engine(_engine.GPU_OR_CPU, 0)  # what approximate_pi_gpu uses

        def outcome(count):
            start = time.monotonic()
            try:
                got = "exact" if count() == want else "wrong"
            except pi.DeviceError:
                got = "DeviceError"
            return [got, time.monotonic() - start]

        def child():
            return [
                outcome(lambda: parents.count_hits(3, 0, n)),
                outcome(lambda: pi.estimate(n, seed=3, backend="gpu")["hits"]),
                outcome(lambda: int(round(pi.approximate_pi_gpu(n, seed=3) * n / 4))),
                # A device lost to the fork, on an engine that falls back: the same count.
                outcome(lambda: either.count_hits(3, 0, n)),
            ]

        print(json.dumps(in_child(child, timeout=60)))
        """
    )
    for got, seconds in result:
        assert got in ("exact", "DeviceError"), result
        assert seconds < 2.0 or got == "exact", result
    # A new engine in the child, and an engine that falls back, count exactly.
    assert [got for got, _ in result[1:]] == ["exact"] * 3, result


@needs_fork
@pytest.mark.usefixtures("gpu_available")
def test_approximate_pi_gpu_stays_on_the_cpu_once_its_gpu_is_given_up() -> None:
    # A device does not survive fork(): the parent's engine, kept in the child's cache,
    # gives its GPU up there as it would after a device failure. The one rule: that call
    # and the next ones count on the CPU with that very engine; pi.close() tries the GPU again.
    result = run_script(
        """
        import json, pi
        from pi import _engine

        n = 4 * _engine.lib.PI_GPU_MIN_SAMPLES
        want = pi.approximate_pi_cpu(n, seed=3)
        key = (_engine.GPU_OR_CPU, 0, _engine.GPU_DEFAULT)
        first = pi.approximate_pi_gpu(n, seed=3)
        parents = _engine._engines[key]

        def child():
            _engine._engines[key] = parents
            out = {"values": [pi.approximate_pi_gpu(n, seed=3) for _ in range(3)]}
            out["kept"] = _engine._engines.get(key) is parents
            out["backend"] = parents.backend
            out["device"] = parents.describe()
            pi.close()
            out["after_close"] = pi.approximate_pi_gpu(n, seed=3)
            out["new_backend"] = _engine._engines[key].backend
            return out

        print(json.dumps([want, first, parents.backend, in_child(child, timeout=60)]))
        """
    )
    want, first, parent_backend, child = result
    assert first == want and parent_backend == "gpu", result
    assert child["values"] == [want] * 3 and child["after_close"] == want, child
    assert child["kept"] and child["backend"] == "cpu", child
    assert "GPU given up" in child["device"], child
    assert child["new_backend"] == "gpu", child


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_many_thread_counts_leave_a_bounded_number_of_threads(capsys) -> None:
    result = run_script(
        """
        import json, os, time, pi
        from pi import _engine

        def threads():
            return len(os.listdir("/proc/self/task"))

        def settle(limit):  # a freed pool's threads end shortly after the free
            deadline = time.monotonic() + 10
            while threads() > limit and time.monotonic() < deadline:
                time.sleep(0.02)
            return threads()

        baseline = threads()  # no engine yet
        want = pi.estimate(10**6, seed=1, backend="cpu")["hits"]
        pi.close()
        for t in range(1, 65):
            assert pi.estimate(10**6, seed=1, backend="cpu", threads=t)["hits"] == want
        kept = sum(t for (_, t, _) in _engine._engines)  # the cached engines' own threads
        after_sweep = settle(baseline + kept)
        pi.close()
        after_close = settle(baseline)
        print(json.dumps([baseline, kept, after_sweep, after_close, _engine.MAX_OTHER_ENGINES]))
        """
    )
    baseline, kept, after_sweep, after_close, max_other = result
    assert kept <= sum(range(65 - max_other, 65))
    assert after_sweep <= baseline + kept, result
    assert after_close <= baseline, result
    with capsys.disabled():
        print(
            f"\n[reliability] threads: {baseline} at start, {after_sweep} after 64 thread "
            f"counts, {after_close} after pi.close()"
        )


@needs_fork
def test_a_child_draws_other_seeds_than_its_parent() -> None:
    result = run_script(
        """
        import json, pi

        pi.estimate(10)  # draws a seed: the package now holds fresh ones in reserve
        child = in_child(lambda: [pi.estimate(10)["seed"] for _ in range(3)])
        parent = [pi.estimate(10)["seed"] for _ in range(3)]
        print(json.dumps(len(set(child) | set(parent))))
        """
    )
    assert result == 6
