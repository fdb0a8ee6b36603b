"""``python -m pi web``: serves the browser page (``web/``) and its shader on 127.0.0.1.

The page fetches ``../shaders/pi.wgsl`` relative to itself, so the server keeps the
repository's layout: ``/web/<file>`` and ``/shaders/pi.wgsl``. It serves those files and
nothing else: regular files whose real path (symbolic links resolved) lies inside the
page's folder or the shader's. They come from the installed package (``pi/web/``,
``pi/shaders/``, put there by the wheel) or, in an editable install, from the source tree.
A client that sends nothing for ``CLIENT_TIMEOUT`` seconds (half a request line, say) is
disconnected, so slow or idle clients cannot hold the server's threads.
"""

from __future__ import annotations

import argparse
import http.server
import re
import sys
import threading
import webbrowser
from functools import partial
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
#: Seconds a client may stay silent (mid-request or idle between requests).
CLIENT_TIMEOUT = 10.0
PAGE = "/web/index.html"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".wgsl": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def parse_port(text: str) -> int:
    """A TCP port: 0 (any free one) up to 65535."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535: {text!r}")
    return n


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m pi web``."""
    parser.add_argument(
        "--port",
        type=parse_port,
        default=8000,
        help="TCP port on 127.0.0.1; 0 picks a free one (default: 8000)",
    )
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")


def assets() -> tuple[Path, Path]:
    """The page's folder and the shader file: from the package, else the source tree."""
    package = Path(__file__).resolve().parent
    for root in (package, package.parents[1]):
        web, shader = root / "web", root / "shaders" / "pi.wgsl"
        if (web / "index.html").is_file() and shader.is_file():
            return web, shader
    raise RuntimeError(
        f"the browser page is not installed with this package (no web/index.html in {package})"
    )


def _inside(file: Path, folder: Path) -> Path | None:
    """``file``'s real path when it is a regular file inside ``folder``'s real path, else None."""
    try:
        real, home = file.resolve(strict=True), folder.resolve(strict=True)
    except OSError:
        return None
    return real if real.is_file() and real.is_relative_to(home) else None


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET and HEAD of ``/``, ``/web/<file>`` and ``/shaders/pi.wgsl``; 404 for the rest."""

    server_version = "pi-web"

    def __init__(
        self, *args: Any, web: Path, shader: Path, timeout: float = CLIENT_TIMEOUT, **kwargs: Any
    ) -> None:
        self.web = web
        self.shader = shader
        self.timeout = timeout  # socketserver sets it on the connection
        super().__init__(*args, **kwargs)

    def _file(self) -> Path | None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == "/shaders/pi.wgsl":
            return _inside(self.shader, self.shader.parent)
        if path in ("/web", "/web/"):
            return _inside(self.web / "index.html", self.web)
        name = path[len("/web/") :] if path.startswith("/web/") else ""
        return _inside(self.web / name, self.web) if _NAME.match(name) else None

    def _send(self, head_only: bool) -> None:
        if self.path.split("?", 1)[0] == "/":
            self.send_response(302)
            self.send_header("Location", PAGE)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        file = self._file()
        if file is None:
            self.send_error(404, "not part of the pi page")
            return
        body = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", _TYPES.get(file.suffix, "application/octet-stream"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(head_only=False)

    def do_HEAD(self) -> None:
        self._send(head_only=True)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: one line at start is enough


def make_server(
    port: int,
    files: tuple[Path, Path] | None = None,
    timeout: float = CLIENT_TIMEOUT,
) -> http.server.ThreadingHTTPServer:
    """A server for the page on 127.0.0.1:``port`` (0: a free port), not yet serving.

    ``files``: the page's folder and the shader (default: ``assets()``); ``timeout``: seconds
    a client may stay silent before it is disconnected.
    """
    web, shader = files or assets()
    handler = partial(_Handler, web=web, shader=shader, timeout=timeout)
    server = http.server.ThreadingHTTPServer((HOST, port), handler)
    server.daemon_threads = True
    return server


def main(args: argparse.Namespace) -> int:
    """Serves until Ctrl-C. Prints the page's address first (a port of 0 shows the one taken)."""
    server = make_server(args.port)
    url = f"http://{HOST}:{server.server_address[1]}{PAGE}"
    print(f"Serving the pi page at {url} (Ctrl-C stops)", flush=True)
    if args.open:
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0
