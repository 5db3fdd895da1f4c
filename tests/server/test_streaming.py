"""Streaming bodies: uploads spooled to disk in chunks within `max_upload_bytes`, responses unbuffered.

The memory test runs the server in a subprocess of its own, so its resident set is measured alone
(VmHWM, the kernel's peak, reset just before the upload), and streams through a real socket.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.responses import StreamingResponse

from stackyard.api.routing import Req, Router
from stackyard.server.app import create_app
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import free_port

MiB = 1024 * 1024
GiB = 1024 * MiB
UPLOAD = "/v3/test-streaming/upload"
ROOT = Path(__file__).resolve().parents[2]


def streaming_router(seen: list[int] | None = None) -> Router:
    """Test-only routes: an upload that hashes what it reads, a large download, server-sent events."""
    router = Router()

    @router.post(UPLOAD, stream=True)
    def upload(r: Req) -> Any:
        if seen is not None:
            seen.append(r.upload.size)
        digest, size = hashlib.sha256(), 0
        for chunk in r.upload.chunks():
            digest.update(chunk)
            size += len(chunk)
        return {"size": size, "sha256": digest.hexdigest()}

    @router.get("/v3/test-streaming/download")
    def download(r: Req) -> Any:
        block = os.urandom(MiB)
        mib = r.int_param("mib", 1, maximum=1024)
        return StreamingResponse((block for _ in range(mib)), media_type="application/octet-stream")

    @router.get("/v3/test-streaming/events")
    def events(r: Req) -> Any:
        def stream() -> Iterator[bytes]:
            yield b"data: first\n\n"
            time.sleep(1.0)
            yield b"data: second\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    return router


def serve_main() -> None:
    """The subprocess server: `python -c "...serve_main()" PORT`, settings from STACKYARD_* variables."""
    import uvicorn

    app = create_app(Settings.from_sources(), extra_routers=[streaming_router()])
    uvicorn.run(
        app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False, lifespan="off"
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """(url, pid) of a server in a subprocess, its data dir under tmp_path."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STACKYARD_DATA_DIR": str(tmp_path / "data"),
        "STACKYARD_ACCESS_LOG": "false",
    }
    env.pop("STACKYARD_DATABASE_URL", None)
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from tests.server.test_streaming import serve_main; serve_main()", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "the streaming test server did not start: " + _tail(tmp_path / "server.log")
                )
            time.sleep(0.05)
        yield url, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:]


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class PeakRSS:
    """The peak resident set of a process from now on: the kernel's VmHWM after resetting it
    (clear_refs 5), and, where that is not allowed, VmRSS sampled every few milliseconds."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.baseline = _status_kib(pid, "VmRSS")
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            self.exact = True
        except OSError:
            self.exact = False
        self.sampled = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.sampled = max(self.sampled, _status_kib(self.pid, "VmRSS"))

    def growth_mib(self) -> float:
        self._stop.set()
        self._thread.join()
        peak = max(self.sampled, _status_kib(self.pid, "VmHWM") if self.exact else 0)
        return (peak - self.baseline) / 1024


def generated(total: int, digest: Any) -> Iterator[bytes]:
    """`total` bytes in distinct 1 MiB chunks, made as they are sent (the client holds one at a time)."""
    block = os.urandom(MiB)
    for i in range(total // MiB):
        chunk = i.to_bytes(8, "big") + block[8:]
        digest.update(chunk)
        yield chunk


def test_a_1_gib_upload_and_a_large_download_stream_in_bounded_memory(server: tuple[str, int]) -> None:
    url, pid = server
    with httpx.Client(base_url=url, timeout=120) as c:
        # given a server that has already taken a spooled upload and sent a streamed download
        warm = hashlib.sha256()
        r = c.post(UPLOAD, content=generated(8 * MiB, warm))
        assert r.status_code == 200 and r.json()["sha256"] == warm.hexdigest(), r.text
        assert c.get("/v3/test-streaming/download", params={"mib": 8}).status_code == 200
        peak = PeakRSS(pid)
        started = time.monotonic()
        # when 1 GiB is uploaded chunked (no length declared), and 256 MiB downloaded
        digest = hashlib.sha256()
        r = c.post(UPLOAD, content=generated(GiB, digest))
        received = 0
        with c.stream("GET", "/v3/test-streaming/download", params={"mib": 256}) as down:
            assert down.status_code == 200
            for chunk in down.iter_bytes():
                received += len(chunk)
        growth = peak.growth_mib()
        took = time.monotonic() - started
    # then the handler read back exactly what was sent
    assert r.status_code == 200, r.text
    assert r.json() == {"size": GiB, "sha256": digest.hexdigest()}
    assert received == 256 * MiB
    # and the server's resident memory grew by far less than either body
    assert growth < 100, f"server RSS grew by {growth:.0f} MiB"
    assert took < 60, f"took {took:.0f} s"


def test_a_streamed_response_is_sent_as_it_is_produced(server: tuple[str, int]) -> None:
    url, _ = server
    arrivals: list[tuple[float, bytes]] = []
    with httpx.Client(base_url=url, timeout=30) as c:
        start = time.monotonic()
        with c.stream("GET", "/v3/test-streaming/events") as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            assert r.headers.get("x-request-id")
            for chunk in r.iter_raw():
                arrivals.append((time.monotonic() - start, chunk))
    body = b"".join(chunk for _, chunk in arrivals)
    assert body == b"data: first\n\ndata: second\n\n"
    # the first event arrived a second before the handler's generator finished, not with the rest
    first = next(t for t, chunk in arrivals if chunk)
    assert arrivals[-1][0] - first >= 0.8, arrivals


def _asgi_post(app: Any, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.post(UPLOAD, content=body, headers=headers)

    return anyio.run(go)


def test_an_over_limit_upload_gets_413_and_the_handler_sees_nothing(db: Database, settings: Settings) -> None:
    # given an upload route that takes at most 1 MiB
    seen: list[int] = []
    app = create_app(settings.replace(max_upload_bytes=MiB), db, extra_routers=[streaming_router(seen)])
    offered = [0]

    async def body(total: int) -> AsyncIterator[bytes]:
        for _ in range(total // (64 * 1024)):
            offered[0] += 64 * 1024
            yield b"x" * (64 * 1024)

    # when 64 MiB are streamed to it chunked
    r = _asgi_post(app, body(64 * MiB))
    # then it answers 413 having read barely past the limit, and the handler never ran
    assert r.status_code == 413 and r.json()["error_code"] == 113, r.text
    assert offered[0] <= MiB + 64 * 1024
    assert seen == []
    # when the body declares a length over the limit, then nothing is read at all
    offered[0] = 0
    r = _asgi_post(app, body(2 * MiB), headers={"Content-Length": str(2 * MiB)})
    assert r.status_code == 413 and offered[0] == 0 and seen == []
    # and a body within the limit, over the in-memory spool, reaches the handler whole
    digest = hashlib.sha256()

    async def exactly_the_limit() -> AsyncIterator[bytes]:
        for chunk in generated(MiB, digest):
            for i in range(0, MiB, 100_000):
                yield chunk[i : i + 100_000]

    r = _asgi_post(app, exactly_the_limit())
    assert r.status_code == 200 and r.json() == {"size": MiB, "sha256": digest.hexdigest()}
    assert seen == [MiB]


def test_plain_routes_keep_max_body_bytes(db: Database, settings: Settings) -> None:
    # given streaming uploads of up to 1 MiB, and plain bodies of up to 1000 bytes
    app = create_app(
        settings.replace(max_body_bytes=1000, max_upload_bytes=MiB), db, extra_routers=[streaming_router()]
    )

    async def go() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            plain = await c.put("/v3/user", content=b"x" * 5000)
            upload = await c.post(UPLOAD, content=b"x" * 5000)
            return plain, upload

    plain, upload = anyio.run(go)
    # then a plain route refuses 5000 bytes a streaming route takes
    assert plain.status_code == 413 and plain.json()["error_code"] == 113
    assert upload.status_code == 200 and upload.json()["size"] == 5000
