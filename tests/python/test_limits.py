"""Resource limits, freeing and the engine cache: refusals that never abort and leave
nothing behind, ``pi.close()`` that returns after the threads have exited, a bound on
the threads cached engines keep, and text output on a console without ``≈``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from _helpers import DATA, NO_GPU_ENV, child_env, run_python

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc and sets RLIMIT_AS (Linux)"
)


def _run(body: str) -> object:
    proc = run_python(textwrap.dedent(body), env=NO_GPU_ENV, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@linux_only
def test_a_thread_count_refused_under_an_address_space_limit_never_aborts() -> None:
    # The reported case: `ulimit -v`, threads=64 fine, then threads=1024 retried.
    result = _run(
        """
        import json, os, resource, pi

        def vm_kib():
            with open("/proc/self/status") as f:
                return next(int(l.split()[1]) for l in f if l.startswith("VmSize:"))

        def threads():
            return len(os.listdir("/proc/self/task"))

        want = pi.estimate(10**7, seed=42, backend="cpu", threads=4)["hits"]
        pi.close()
        base = threads()
        tight = (vm_kib() + 96 * 1024) * 1024  # room for 64 threads' stacks, not 1024
        resource.setrlimit(resource.RLIMIT_AS, (tight, resource.RLIM_INFINITY))
        ok64 = pi.estimate(10**7, seed=42, backend="cpu", threads=64)["hits"] == want
        pi.close()
        refusals, left = [], []
        for _ in range(10):
            try:
                pi.estimate(10**7, seed=42, backend="cpu", threads=1024)
                refusals.append("counted")
            except ValueError as e:
                refusals.append(str(e))
            left.append(threads() - base)
        after = pi.estimate(10**7, seed=42, backend="cpu", threads=4)["hits"] == want
        print(json.dumps([ok64, refusals, left, after]))
        """
    )
    ok64, refusals, left, after = result
    assert ok64 and after, result
    assert len(refusals) == 10
    for message in refusals:
        assert "cpu_threads = 1024" in message and "ask for fewer threads" in message, message
    assert left == [0] * 10, "threads left behind by refused engines"


@linux_only
def test_close_returns_after_the_engines_threads_have_exited() -> None:
    result = _run(
        """
        import json, os, pi

        def threads():
            return len(os.listdir("/proc/self/task"))

        base = threads()
        seen = []
        for _ in range(3):
            pi.estimate(10**7, seed=1, backend="cpu", threads=200)
            seen.append(threads() - base)
            pi.close()
            seen.append(threads() - base)  # right away, no waiting
        print(json.dumps(seen))
        """
    )
    assert result == [199, 0] * 3, result


@linux_only
def test_cached_engines_with_many_threads_are_bounded() -> None:
    result = _run(
        """
        import json, os, pi
        from pi import _engine

        def threads():
            return len(os.listdir("/proc/self/task"))

        base = threads()
        for t in range(1017, 1025):
            pi.estimate(10**6, seed=1, backend="cpu", threads=t)
        kept = [k[1] for k in _engine._others]
        print(json.dumps([kept, threads() - base, _engine.max_other_threads()]))
        """
    )
    kept, extra_threads, budget = result
    assert budget < 1017
    assert kept == [1024], result  # the newest only: the older ones were freed
    assert extra_threads == 1023, result  # its workers; the caller is the 1,024th


def test_text_output_on_a_console_without_the_approx_sign() -> None:
    def first_line(encoding: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "pi", "1e5", "--seed", "1", "--backend", "cpu"],
            capture_output=True,
            env=child_env({**NO_GPU_ENV, "PYTHONIOENCODING": encoding}),
            timeout=120,
            cwd=DATA,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.decode(encoding).splitlines()[0]

    cp1252 = first_line("cp1252")
    assert cp1252.startswith("pi ~ 3.") and " ± " in cp1252, cp1252
    assert first_line("utf-8") == cp1252.replace("pi ~", "pi ≈")
    assert first_line("ascii").startswith("pi ~ 3.") and " +/- " in first_line("ascii")


def test_pi_gpu_none_hides_every_adapter() -> None:
    result = _run(
        """
        import json, os
        os.environ["PI_GPU"] = "none"
        import pi
        from pi._lib import ffi, lib
        auto = pi.estimate(10**6, seed=42, backend="auto")
        try:
            pi.estimate(10**6, seed=42, backend="gpu")
            gpu = "counted"
        except pi.NoDeviceError as e:
            gpu = str(e)
        listed = lib.pi_gpu_list(ffi.NULL, 0)
        print(json.dumps([auto["backend"], auto["hits"], gpu, listed]))
        """
    )
    assert result[:2] == ["cpu", 785856], result
    assert "PI_GPU=none" in result[2], result
    assert result[3] == 0, result


def test_a_bad_pi_gpu_does_not_stop_the_cpu() -> None:
    env = {**NO_GPU_ENV, "PI_GPU": "-7"}
    ok = run_python("import pi; print(pi.estimate(10**6, seed=42, backend='cpu')['hits'])", env=env)
    assert ok.returncode == 0 and ok.stdout.strip() == "785856", ok.stderr
    bad = run_python("import pi; pi.estimate(10**6, seed=42, backend='gpu')", env=env)
    assert bad.returncode != 0 and "PI_GPU" in bad.stderr, bad.stderr
    if os.name == "posix":
        code = "import pi; pi.estimate(10, seed=1, backend='gpu')"
        long = run_python(code, env={**env, "PI_GPU": "x" * 10000})
        assert "... (10000 bytes)" in long.stderr, long.stderr
