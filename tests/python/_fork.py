"""Runs a function in a forked child under a watchdog (imported by the scripts of test_fork.py).

The child gets an alarm (its default action ends the process even while a
thread waits in a futex) and the parent kills it at the deadline, so a
fork that hangs fails the test and leaves no process behind.
"""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any, Callable


def in_child(body: Callable[[], Any], timeout: float = 20.0) -> Any:
    """``body()`` run in a forked child; its (JSON) result, or ``RuntimeError`` saying why not."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        signal.alarm(int(timeout) + 5)
        try:
            message = ["ok", body()]
        except BaseException as e:
            message = ["error", type(e).__name__, str(e)]
        os.write(write, json.dumps(message).encode())
        os._exit(0)
    os.close(write)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise RuntimeError(f"hang: the forked child did not finish within {timeout} s")
        time.sleep(0.005)
    with os.fdopen(read, "rb") as f:
        text = f.read().decode()
    if not text:
        raise RuntimeError(f"the forked child died (wait status {status})")
    message = json.loads(text)
    if message[0] == "error":
        raise RuntimeError(f"in the forked child: {message[1]}: {message[2]}")
    return message[1]
