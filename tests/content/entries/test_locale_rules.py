"""A custom role's locale rules bind every entry action, over HTTP and in the policy.

Given a stack with en-us and fr-fr, an article localized in both, and members whose roles may do
everything to entries of every content type but only in some languages; when they act on entries
in a language outside their rules; then they get 403, and nothing from that language reaches them
through fallback, language lists or references. Runs on both engines.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from stackyard.access.caller import Caller, StackAccess
from stackyard.access.policy import allowed, content_locales
from tests.access.helpers import custom_role, member
from tests.conftest import Live
from tests.content.entries.test_entries import ARTICLE, AUTHOR, E, create

EVERYTHING = {"read": True, "create": True, "update": True, "delete": True, "publish": True}


def rules(*codes: str) -> list[dict[str, Any]]:
    return [
        {"module": "content_type", "content_types": ["$all"], "acl": {"read": True, "sub_acl": EVERYTHING}},
        {"module": "locale", "locales": list(codes), "acl": {"read": True}},
    ]


@pytest.fixture
def world(live: Live, cma: httpx.Client) -> dict[str, Any]:
    """An article in en-us with its own fr-fr copy, another in en-us only, and two members: one
    limited to en-us, one to fr-fr."""
    model = cma
    assert model.post("/v3/locales", json={"locale": {"code": "fr-fr"}}).status_code == 201
    for body in (AUTHOR, ARTICLE):
        assert model.post("/v3/content_types", json=body).status_code == 201
    article = create(model, "article", {"title": "Hello"})
    one = E.format("article") + "/" + article["uid"]
    r = model.put(one, params={"locale": "fr-fr"}, json={"entry": {"title": "Bonjour"}})
    assert r.status_code == 200, r.text
    english_only = create(model, "article", {"title": "English only"})
    custom_role(model, "English editor", rules("en-us"))
    custom_role(model, "French editor", rules("fr-fr"))
    key = model.headers["api_key"]
    return {
        "one": one,
        "english_only": E.format("article") + "/" + english_only["uid"],
        "en": {
            "authtoken": member(live, model, "en@example.com", "English editor").authtoken,
            "api_key": key,
        },
        "fr": {"authtoken": member(live, model, "fr@example.com", "French editor").authtoken, "api_key": key},
    }


def test_a_role_limited_to_en_us_cannot_touch_fr_fr_entries(live: Live, world: dict[str, Any]) -> None:
    one, fr = world["one"], {"locale": "fr-fr"}
    with live.client(**world["en"]) as c:
        # given the role may not read the locale itself
        assert c.get("/v3/locales/fr-fr").status_code == 403
        # then every entry action in fr-fr is refused
        denied = [
            c.post(E.format("article"), params=fr, json={"entry": {"title": "Nouveau"}}),
            c.get(one, params=fr),
            c.get(one, params={**fr, "include_fallback": "true"}),
            c.get(E.format("article"), params=fr),
            c.get(E.format("article"), params={**fr, "include_fallback": "true"}),
            c.put(one, params=fr, json={"entry": {"title": "Salut"}}),
            c.put(world["english_only"], params=fr, json={"entry": {"title": "Localisé"}}),
            c.post(one + "/unlocalize", params=fr),
            c.delete(one, params=fr),
            c.get(one + "/versions", params=fr),
            c.post(one + "/versions/1/name", json={"entry": {"_version_name": "v1", "locale": "fr-fr"}}),
            c.get(one + "/export", params=fr),
            c.post(one + "/import", params=fr, files={"entry": ("e.json", json.dumps({"title": "Importé"}))}),
            c.post(
                E.format("article") + "/import",
                params=fr,
                files={"entry": ("e.json", json.dumps({"title": "Importé"}))},
            ),
            # deleting the whole entry deletes its fr-fr copy too
            c.delete(one),
        ]
        assert [r.status_code for r in denied] == [403] * len(denied), [r.text for r in denied]
        assert "fr-fr" in denied[0].json()["error_message"]
        # and the same work in en-us is allowed
        assert c.get(one).json()["entry"]["title"] == "Hello"
        assert [e["title"] for e in c.get(E.format("article")).json()["entries"]] == ["English only", "Hello"]
        assert c.put(one, json={"entry": {"body": "edited"}}).status_code == 200
        assert c.post(E.format("article"), json={"entry": {"title": "New"}}).status_code == 201
        # and the entry's languages show only en-us
        assert c.get(one + "/locales").json()["locales"] == [{"code": "en-us", "localized": True}]
        assert c.delete(world["english_only"]).status_code == 200
    # and nothing was written in fr-fr
    with live.client(**world["fr"]) as c:
        assert c.get(one, params={"locale": "fr-fr"}).json()["entry"]["title"] == "Bonjour"
        assert [
            e["title"] for e in c.get(E.format("article"), params={"locale": "fr-fr"}).json()["entries"]
        ] == ["Bonjour"]


def test_fallback_never_reads_a_locale_outside_the_rules(live: Live, world: dict[str, Any]) -> None:
    fr = {"locale": "fr-fr"}
    with live.client(**world["fr"]) as c:
        # given an entry with no fr-fr copy, whose fallback is en-us, which the role may not read
        english_only = world["english_only"]
        # then no fallback shows it, in a fetch, a list or its versions
        r = c.get(english_only, params={**fr, "include_fallback": "true"})
        assert r.status_code == 422 and r.json()["error_code"] == 141
        listed = c.get(E.format("article"), params={**fr, "include_fallback": "true"}).json()["entries"]
        assert [e["title"] for e in listed] == ["Bonjour"]
        assert c.get(english_only + "/versions", params=fr).status_code == 422
        # and the master locale, the default of every entry route, is refused
        assert c.get(english_only).status_code == 403
        assert c.get(E.format("article")).status_code == 403
        # and localizing starts from what was sent, not from the en-us copy
        r = c.put(english_only, params=fr, json={"entry": {"title": "Seulement"}})
        assert r.status_code == 200, r.text
        assert r.json()["notice"] == "Entry localized successfully."
        assert "body" not in r.json()["entry"] or r.json()["entry"]["body"] in (None, "")


def _access(rule_list: list[dict[str, Any]]) -> StackAccess:
    return StackAccess(
        caller=Caller(kind="user", user_uid="u"),
        stack={"api_key": "k", "org_uid": "o"},
        level="custom",
        rules=tuple(rule_list),
    )


def test_the_policy_binds_localized_modules_to_locale_rules() -> None:
    english = _access(rules("en-us"))
    for action in ("read", "create", "update", "delete", "publish"):
        assert allowed(english, "entry", action, "blog", locale="en-us")
        assert allowed(english, "entry", action, "blog", locale="EN-US")
        assert not allowed(english, "entry", action, "blog", locale="fr-fr")
    assert content_locales(english).admits("en-us") and not content_locales(english).admits("fr-fr")
    # a role without locale rules works in no locale; "$all" in every one
    assert not allowed(_access(rules()[:1]), "entry", "read", "blog", locale="en-us")
    assert allowed(_access(rules("$all")), "entry", "read", "blog", locale="xx-yy")
    # a locale rule without read grants nothing
    no_read = [rules()[0], {"module": "locale", "locales": ["en-us"], "acl": {"read": False}}]
    assert not allowed(_access(no_read), "entry", "read", "blog", locale="en-us")
    # modules that are not localized ignore the locale
    assert allowed(english, "content_type", "read", "blog", locale="fr-fr")
