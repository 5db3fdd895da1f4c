"""GETs whose handler runs on the event loop (SQLite) are answered by the HTTP protocol itself,
without the ASGI cycle (`Endpoint.answer_now`): the same answer either way, a heavy page too, and
a handler that cannot be answered at once (a write, a rate-limit hold) runs only as often as
before, finished on the ASGI path."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.responses import Response, StreamingResponse

from stackyard.api import routing
from stackyard.api.routing import Req, Router
from stackyard.errors import not_found
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import Live, _Switch, make_user

router = Router()
calls: dict[str, list[str]] = {}


def _called(name: str) -> None:
    calls.setdefault(name, []).append(threading.current_thread().name)


@router.get("/v3/now/light")
def light(r: Req) -> Any:
    _called("light")
    with r.db.read() as tx:
        return {"n": tx.scalar("SELECT COUNT(*) AS n FROM users"), "q": r.param("q")}


@router.get("/v3/now/heavy")
def heavy(r: Req) -> Any:
    _called("heavy")
    return {"items": [{"i": i, "nums": list(range(50))} for i in range(200)]}


@router.get("/v3/now/streamed")
def streamed(r: Req) -> Any:
    _called("streamed")
    return StreamingResponse(iter([b'{"parts": ', b"2}"]), media_type="application/json")


@router.get("/v3/now/missing")
def missing(r: Req) -> Any:
    _called("missing")
    raise not_found("thing")


@router.get("/v3/now/writes")
def writes(r: Req) -> Any:
    _called("writes")
    with r.db.write() as tx:
        tx.run("UPDATE users SET updated_at = updated_at WHERE 1 = 0")
    return {"wrote": True}


@router.get("/v3/now/split")
def split(r: Req) -> Any:
    _called("split")
    return Response(b"{}", media_type="application/json", headers={"x-note": "a\r\nx-injected: 1"})


@pytest.fixture
def server(
    db: Database, settings: Settings, _shared_server: tuple[_Switch, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, list[str]]]:
    """The shared server on an app with the routes above; answers its URL and the paths that went
    through the ASGI path (`Endpoint.answer`)."""
    from stackyard.server.app import create_app

    calls.clear()
    through_asgi: list[str] = []
    real = routing.Endpoint.answer

    async def answer(self: routing.Endpoint, scope: Any, receive: Any) -> Any:
        through_asgi.append(scope["path"])
        return await real(self, scope, receive)

    monkeypatch.setattr(routing.Endpoint, "answer", answer)
    switch, url = _shared_server
    switch.app = create_app(settings, db, extra_routers=[router])
    try:
        yield url, through_asgi
    finally:
        switch.app = None


def _comparable(r: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    skip = {"date", "x-request-id"}
    return r.status_code, r.content, sorted((k, v) for k, v in r.headers.items() if k not in skip)


def test_a_light_get_is_answered_at_once_with_the_asgi_paths_answer(
    db: Database, server: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, through_asgi = server
    with httpx.Client(base_url=url) as c:
        # when a light GET, its HEAD and a GET whose handler refuses are asked
        now = c.get("/v3/now/light", params={"q": "a b"})
        head = c.head("/v3/now/light", params={"q": "a b"})
        refused = c.get("/v3/now/missing", headers={"x-request-id": "mine-1"})
        # and the same again with the protocol's way turned off
        monkeypatch.setattr(routing.Endpoint, "answer_now", lambda self, scope: None)
        asgi = c.get("/v3/now/light", params={"q": "a b"})
        asgi_refused = c.get("/v3/now/missing", headers={"x-request-id": "mine-1"})
    # then each handler ran once per request, and the answers are the same either way
    assert now.status_code == 200 and now.json()["q"] == "a b"
    assert _comparable(now) == _comparable(asgi)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(now.content))
    assert refused.status_code == 422 and refused.headers["x-request-id"] == "mine-1"
    assert _comparable(refused) == _comparable(asgi_refused)
    assert len(calls["light"]) == 3 and len(calls["missing"]) == 2
    # and only with the protocol's way off did they take the ASGI path (on SQLite, where GETs run
    # on the loop; PostgreSQL's run on threads, always through ASGI)
    if db.dialect == "sqlite":
        assert through_asgi == ["/v3/now/light", "/v3/now/missing"]
    else:
        assert len(through_asgi) == 5


def test_what_cannot_be_answered_at_once_still_runs_once(db: Database, server: tuple[str, list[str]]) -> None:
    url, through_asgi = server
    with httpx.Client(base_url=url) as c:
        # when a heavy page, a streamed answer and a GET that writes are asked
        page = c.get("/v3/now/heavy")
        parts = c.get("/v3/now/streamed")
        wrote = c.get("/v3/now/writes")
    # then all answer in full; the page at once on SQLite (it is rendered where its handler ran),
    # the streamed answer and the write through the ASGI path
    assert page.status_code == 200 and len(page.json()["items"]) == 200
    assert parts.status_code == 200 and parts.json() == {"parts": 2}
    assert wrote.status_code == 200 and wrote.json() == {"wrote": True}
    if db.dialect == "sqlite":
        assert through_asgi == ["/v3/now/streamed", "/v3/now/writes"]
    else:
        assert through_asgi == ["/v3/now/heavy", "/v3/now/streamed", "/v3/now/writes"]
    # the page's and the stream's handlers ran once (the stream's result was handed over, not
    # made again), and the writing one was not started on the loop again (its first try stopped
    # at the write; it then ran on a worker thread)
    assert len(calls["heavy"]) == 1 and len(calls["streamed"]) == 1
    assert calls["writes"][-1].startswith("stackyard-handler")
    assert len(calls["writes"]) == (2 if db.dialect == "sqlite" else 1)


def test_a_rate_limited_get_still_waits_before_its_refusal(
    db: Database, settings: Settings, _shared_server: tuple[_Switch, str]
) -> None:
    from stackyard.server.app import create_app

    # given an app whose reads are limited to one at a time, with a hold before each refusal
    limited = settings.replace(rate_limit_reads=1, rate_limit_burst_seconds=1.0, rate_limit_hold_seconds=0.3)
    switch, url = _shared_server
    switch.app = create_app(limited, db)
    try:
        user = make_user(Live(url=url, db=db, settings=limited), "limited@example.com")
        with httpx.Client(base_url=url, headers={"authtoken": user.authtoken}) as c:
            stack = c.post("/v3/stacks", json={"stack": {"name": "S", "master_locale": "en-us"}})
            assert stack.status_code == 201, stack.text
            c.headers["api_key"] = stack.json()["stack"]["api_key"]
            # when reads come faster than the limit
            answers = []
            for _ in range(4):
                started = time.monotonic()
                answers.append((c.get("/v3/environments"), time.monotonic() - started))
    finally:
        switch.app = None
    # then the refusals are 429s, each held back as on the ASGI path
    refused = [(r, took) for r, took in answers if r.status_code == 429]
    assert refused, [r.status_code for r, _ in answers]
    assert all(took >= 0.3 for _, took in refused)


def test_a_header_split_across_lines_is_never_written(server: tuple[str, list[str]]) -> None:
    url, _ = server
    with httpx.Client(base_url=url) as c:
        # when a handler's answer holds a header value with a line break, then it is never sent:
        # uvicorn's cycle refuses it (and drops the connection), as it always has
        with pytest.raises(httpx.RemoteProtocolError):
            c.get("/v3/now/split")
        # and the connection's next request is answered as usual
        assert c.get("/v3/now/light").status_code == 200


def test_a_connection_left_idle_after_a_direct_answer_is_closed_after_the_keep_alive_wait(
    db: Database,
    server: tuple[str, list[str]],
    _shared_server: tuple[_Switch, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, through_asgi = server
    switch, _ = _shared_server
    monkeypatch.setattr(switch.server.config, "timeout_keep_alive", 0.6)
    host, port = url.removeprefix("http://").split(":")
    request = b"GET /v3/now/light HTTP/1.1\r\nHost: t\r\n\r\n"
    with (
        socket.create_connection((host, int(port))) as busy,
        socket.create_connection((host, int(port))) as idle,
    ):
        busy.settimeout(5)
        idle.settimeout(5)
        # when one client asks once and then says nothing, while another asks every 0.3 s
        idle.sendall(request)
        assert idle.recv(65536).startswith(b"HTTP/1.1 200")
        for i in range(6):
            busy.sendall(request)
            assert busy.recv(65536).startswith(b"HTTP/1.1 200")
            time.sleep(0.3)
            if i == 0:  # 0.3 s in, within the keep-alive wait: still open
                idle.setblocking(False)
                with pytest.raises(BlockingIOError):
                    idle.recv(1)
                idle.setblocking(True)
        # then the quiet one was closed once the keep-alive wait had passed
        idle.settimeout(5)
        assert idle.recv(65536) == b""
        # and the one that kept asking (each answer waits anew) is still served, past that wait
        busy.sendall(request)
        assert busy.recv(65536).startswith(b"HTTP/1.1 200")
    if db.dialect == "sqlite":
        assert through_asgi == []  # every answer was the protocol's own
