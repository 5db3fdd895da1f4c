"""An origin server the edge tests run: routes set per test, every request it receives recorded."""

from __future__ import annotations

import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, dict[str, str], bytes]
Route = Callable[["Seen"], Answer]


class Seen:
    """A request as the origin received it."""

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method, self.path, self.headers, self.body = method, path, headers, body


class Origin:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        """Listening on 127.0.0.1 (`port`); with `tls`, HTTPS only."""
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.delay = 0.0
        self.lock = threading.Lock()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with origin.lock:
                    origin.seen.append(seen)
                    route = origin.routes.get(self.path.partition("?")[0])
                if origin.delay:
                    time.sleep(origin.delay)
                status, headers, out = (
                    route(seen) if route else (404, {"Cache-Control": "no-store"}, b"no route")
                )
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                if self.command != "HEAD" and status not in (204, 304):
                    self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self) -> None:
        with self.lock:
            self.routes.clear()
            self.seen.clear()
        self.delay = 0.0

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for s in self.seen if s.path == path or s.path.partition("?")[0] == path)

    def by_path(self) -> Counter[str]:
        with self.lock:
            return Counter(s.path for s in self.seen)

    def route(self, path: str, status: int = 200, body: bytes = b"hello", **headers: str) -> None:
        """A fixed answer; header names with `_` for `-` (Cache_Control=...)."""
        fixed = {k.replace("_", "-"): v for k, v in headers.items()}
        self.routes[path] = lambda seen: (status, fixed, body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
