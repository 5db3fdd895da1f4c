"""Concurrent writes to one entry: no write is lost without someone being told.

Given two or more clients updating the same entry at once, either every update lands in order (each
gets its own version) or a client that sent a stale `_version` gets 409; nothing is overwritten
silently. Runs against the live server on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from tests.conftest import Live, User
from tests.content.model.test_content_types import ct

COUNTER = ct(
    "counter",
    {"display_name": "Hits", "uid": "hits", "data_type": "number"},
    {"display_name": "Note", "uid": "note", "data_type": "text"},
)
WRITERS = 6
ROUNDS = 3


def _run(n: int, work: Any) -> None:
    start = threading.Barrier(n)

    def go(i: int) -> None:
        start.wait()
        work(i)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)


def test_concurrent_increments_all_land(live: Live, owner: User, api_key: str, cma: httpx.Client) -> None:
    assert cma.post("/v3/content_types", json=COUNTER).status_code == 201
    entry = cma.post("/v3/content_types/counter/entries", json={"entry": {"title": "c", "hits": 0}}).json()[
        "entry"
    ]
    url = f"/v3/content_types/counter/entries/{entry['uid']}"
    statuses: list[int] = []

    def work(i: int) -> None:
        with live.client(authtoken=owner.authtoken, api_key=api_key) as c:
            for _ in range(ROUNDS):
                statuses.append(c.put(url, json={"entry": {"hits": {"ADD": 1}}}).status_code)

    _run(WRITERS, work)
    assert statuses == [200] * (WRITERS * ROUNDS)
    final = cma.get(url).json()["entry"]
    assert final["hits"] == WRITERS * ROUNDS
    assert final["_version"] == 1 + WRITERS * ROUNDS
    assert cma.get(url + "/versions").json()["count"] == 1 + WRITERS * ROUNDS


def test_stale_versions_get_409_never_a_silent_overwrite(
    live: Live, owner: User, api_key: str, cma: httpx.Client
) -> None:
    assert cma.post("/v3/content_types", json=COUNTER).status_code == 201
    entry = cma.post("/v3/content_types/counter/entries", json={"entry": {"title": "c"}}).json()["entry"]
    url = f"/v3/content_types/counter/entries/{entry['uid']}"
    landed: list[tuple[int, str]] = []
    refused: list[int] = []

    def work(i: int) -> None:
        # each client reads the entry, then saves with the _version it saw
        with live.client(authtoken=owner.authtoken, api_key=api_key) as c:
            seen = c.get(url).json()["entry"]["_version"]
            note = f"writer {i}"
            r = c.put(url, json={"entry": {"note": note, "_version": seen}})
            if r.status_code == 200:
                landed.append((r.json()["entry"]["_version"], note))
            else:
                assert r.status_code == 409 and r.json()["error_code"] == 162, r.text
                refused.append(i)

    _run(WRITERS, work)
    assert len(landed) + len(refused) == WRITERS and landed
    # every accepted write has its own version, and the history holds each of them
    versions = sorted(v for v, _ in landed)
    assert len(set(versions)) == len(versions)
    final = cma.get(url).json()["entry"]
    assert final["_version"] == 1 + len(landed)
    for version, note in landed:
        old = cma.get(url, params={"version": str(version)}).json()["entry"]
        assert old["note"] == note
