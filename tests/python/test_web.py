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


@pytest.fixture
def local_page(tmp_path: Path) -> Iterator[tuple[str, Path, object]]:
    """An in-process page server over a folder of this test's own (a 3 s client timeout)."""
    from pi import _web

    web, shaders = tmp_path / "pkg" / "web", tmp_path / "pkg" / "shaders"
    web.mkdir(parents=True)
    shaders.mkdir()
    (web / "index.html").write_text("<p>page</p>")
    (shaders / "pi.wgsl").write_text("// shader")
    server = _web.make_server(0, files=(web, shaders / "pi.wgsl"), timeout=3.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", web, server
    finally:
        server.shutdown()
        server.server_close()


def test_a_symlink_out_of_the_page_folder_is_not_served(local_page) -> None:
    base, web, _ = local_page
    secret = web.parent.parent / "secret.txt"
    secret.write_text("outside the page")
    (web / "leak.js").symlink_to(secret)
    (web / "dir.js").mkdir()  # not a regular file
    (web / "alias.html").symlink_to(web / "index.html")  # inside: served
    assert fetch(base + "/web/leak.js")[0] == 404
    assert fetch(base + "/web/dir.js")[0] == 404
    assert fetch(base + "/web/alias.html")[::2] == (200, b"<p>page</p>")
    assert fetch(base + "/web/index.html")[::2] == (200, b"<p>page</p>")
    # The shader too must resolve inside its folder.
    shader = web.parent / "shaders" / "pi.wgsl"
    shader.unlink()
    shader.symlink_to(secret)
    assert fetch(base + "/shaders/pi.wgsl")[0] == 404


def test_silent_clients_are_disconnected_and_free_their_threads(local_page) -> None:
    import socket
    import time

    base, _, _ = local_page
    port = int(base.rsplit(":", 1)[1])
    before = threading.active_count()
    socks = []
    for _ in range(30):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /web/index.ht")  # half a request line, then silence
        socks.append(s)
    for s in socks:  # each is closed by the server after its 3 s of silence
        assert s.recv(100) == b"", "the server answered half a request line"
        s.close()
    deadline = time.monotonic() + 20
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert threading.active_count() == before, "silent clients still hold server threads"
    assert fetch(base + "/web/index.html")[0] == 200
