"""``python -m pi web``: serves the page and its shader from the installed package on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from _helpers import DATA, child_env, cli

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[str]:
    """``python -m pi web --port 0`` in a child process; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pi", "web", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=DATA,
    )
    try:
        assert proc.stdout is not None
        # The child prints its address first, flushed; a watchdog ends a child that does not.
        watchdog = threading.Timer(60, proc.kill)
        watchdog.start()
        try:
            line = proc.stdout.readline()
        finally:
            watchdog.cancel()
        assert line.startswith("Serving the pi page at http://127.0.0.1:"), (
            line + proc.stderr.read() if proc.poll() is not None else line
        )
        url = line.split(" at ", 1)[1].split()[0]
        assert url.endswith("/web/index.html")
        yield url[: -len("/web/index.html")]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, "", b""


def test_serves_the_page_and_the_shader_as_in_the_repository(server: str) -> None:
    status, kind, body = fetch(f"{server}/web/index.html")
    assert (status, kind) == (200, "text/html; charset=utf-8")
    assert body == (REPO / "web" / "index.html").read_bytes()
    # The page fetches ../shaders/pi.wgsl relative to itself: the same file as the repository's.
    status, _, body = fetch(f"{server}/shaders/pi.wgsl")
    assert status == 200
    assert body == (REPO / "shaders" / "pi.wgsl").read_bytes()
    for name in ("app.js", "stream.js", "gpu.js", "worker.js", "query.js", "plot.js", "style.css"):
        status, kind, body = fetch(f"{server}/web/{name}")
        assert status == 200, name
        assert body == (REPO / "web" / name).read_bytes(), name
        if name.endswith(".js"):
            # Module scripts need a JavaScript type.
            assert kind.startswith("text/javascript"), (name, kind)


def test_the_package_carries_the_page_and_the_shader() -> None:
    import pi

    package = Path(pi.__file__).resolve().parent
    assert (package / "web" / "index.html").read_bytes() == (
        REPO / "web" / "index.html"
    ).read_bytes()
    assert (package / "shaders" / "pi.wgsl").read_bytes() == (
        REPO / "shaders" / "pi.wgsl"
    ).read_bytes()


def test_root_redirects_to_the_page(server: str) -> None:
    status, kind, body = fetch(f"{server}/")  # urllib follows the redirect
    assert kind.startswith("text/html")
    assert status == 200
    assert b"Monte Carlo" in body


@pytest.mark.parametrize(
    "path",
    ["/web/missing.js", "/web/../__init__.py", "/web/%2e%2e/__init__.py", "/_api.py", "/shaders/"],
)
def test_serves_nothing_else(server: str, path: str) -> None:
    assert fetch(f"{server}{path}")[0] == 404


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_bad_port_is_a_usage_error(port: str) -> None:
    r = cli("web", "--port", port, timeout=60)
    assert r.returncode == 2
    assert "--port" in r.stderr
