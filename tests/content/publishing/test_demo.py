"""`serve --demo`'s publishing step: the demo entries are published to its environments, once."""

from __future__ import annotations

from typing import Any

import httpx

from stackyard.access.caller import Caller
from stackyard.access.resolve import stack_access
from stackyard.content.demo import STEPS
from tests.conftest import Live


def test_demo_content_is_published_once(live: Live, cma: httpx.Client, owner: Any, api_key: str) -> None:
    assert (
        cma.post("/v3/locales", json={"locale": {"code": "fr-fr", "fallback_locale": "en-us"}}).status_code
        == 201
    )
    for env in ("development", "production"):  # as the demo stack has them
        assert cma.post("/v3/environments", json={"environment": {"name": env}}).status_code == 201
    caller = Caller(kind="user", user_uid=owner.uid, request_id="demo")
    for _ in range(2):
        with live.db.write() as tx:
            access = stack_access(tx, caller, api_key)
            for step in STEPS:
                step(tx, access)
    with live.db.read() as tx:
        rows = tx.all(
            "SELECT uid, content_type_uid, locale, source_locale FROM published WHERE api_key = ? AND kind = 'entry'",
            api_key,
        )
        envs = tx.all("SELECT uid FROM environments WHERE api_key = ?", api_key)
    entries = {(r["content_type_uid"], r["uid"]) for r in rows}
    assert {ct for ct, _ in entries} == {"article", "author"} and len(entries) == 4
    # every entry in both languages, in every environment, once
    assert len(rows) == 4 * 2 * len(envs) and envs
    french = {r["uid"]: r["source_locale"] for r in rows if r["locale"] == "fr-fr"}
    assert set(french.values()) == {"fr-fr", "en-us"}  # localized ones, and fallbacks
