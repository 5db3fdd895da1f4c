"""The per-process cache (`core.cache`): one rule per event type, never a stale value in any process
after a change is acknowledged, and fewer statements per request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from stackyard.access.caller import Caller
from stackyard.access.resolve import authenticate, stack_access
from stackyard.content.model import content_types
from stackyard.core import cache, events, spine
from stackyard.core.event_types import EVENT_TYPES
from stackyard.errors import PreconditionFailed, Unauthorized
from stackyard.identity import organizations, users
from stackyard.stacks import locales, stacks
from stackyard.store.engine import Database, Tx
from tests.access.helpers import management_token, member, role_uid
from tests.conftest import Live, User, free_port
from tests.content.model.test_content_types import ct, text
from tests.core.conftest import through

ENTRY_READ = [
    {"module": "content_type", "acl": {"read": True}},
    {"module": "entry", "acl": {"read": True}},
]


def _event(type: str, **data: Any) -> dict[str, Any]:
    """An event row as `events.after` answers it."""
    return {
        "gseq": 7,
        "seq": 3,
        "api_key": "blt_stack",
        "org_uid": "blt_org",
        "branch": "main",
        "type": type,
        "module": type.split(".")[0],
        "object_uid": "blt_object",
        "created_at": "2026-01-01T00:00:00.000Z",
        "data": data,
    }


# -- the rules, a pure function of one event ----------------------------------------------------------
def test_every_event_type_has_exactly_one_rule() -> None:
    assert set(cache.RULES) == set(EVENT_TYPES)
    for name in EVENT_TYPES:
        tags = cache.affected(_event(name))
        assert isinstance(tags, set), name
        assert all(isinstance(t, tuple) and len(t) >= 2 for t in tags), name


@pytest.mark.parametrize(
    ("type", "tags"),
    [
        ("content_type.update", {("schemas", "blt_stack", "main")}),
        ("content_type.delete", {("schemas", "blt_stack", "main")}),
        # a global field is inlined into every content type that embeds it
        ("global_field.update", {("schemas", "blt_stack", "main")}),
        ("role.update", {("access", "blt_stack")}),
        ("role.delete", {("access", "blt_stack")}),
        ("stack.share", {("access", "blt_stack")}),
        ("stack.unshare", {("access", "blt_stack")}),
        ("stack.update_user_roles", {("access", "blt_stack")}),
        ("stack.accept_ownership", {("access", "blt_stack")}),
        ("stack.delete", {("stack", "blt_stack")}),
        ("management_token.update", {("token", "blt_stack", "blt_object")}),
        ("delivery_token.delete", {("token", "blt_stack", "blt_object")}),
        ("locale.create", {("locales", "blt_stack", "main")}),
        ("locale.delete", {("locales", "blt_stack", "main")}),
        ("entry.update", set()),
        ("environment.delete", set()),
        # the stack row (its name) and, without a stack, sessions and organization roles
        ("stack.update", {("access", "blt_stack")}),
        ("user.logout", {("user", "blt_object")}),
        ("user.reset_password", {("user", "blt_object")}),
        ("organization.share", {("org", "blt_org")}),
        ("organization.transfer_ownership", {("org", "blt_org")}),
        ("edge_site.create", set()),
    ],
)
def test_each_change_drops_what_it_affects(type: str, tags: set[tuple[str, ...]]) -> None:
    assert cache.affected(_event(type)) == tags


def test_what_a_rule_drops_is_what_values_are_tagged_with() -> None:
    # the tags values are stored under are the ones the rules name
    assert cache.affected(_event("global_field.create")) <= set(cache.schema_tags("blt_stack", "main"))
    assert cache.affected(_event("role.create")) <= set(cache.access_tags("blt_stack"))
    assert cache.affected(_event("management_token.delete")) <= set(
        cache.token_tags("blt_stack", "blt_object")
    )
    assert cache.affected(_event("locale.update")) <= set(cache.locale_tags("blt_stack", "main"))
    assert cache.affected(_event("user.logout")) <= set(cache.session_tags("blt_object"))
    for name in ("stack.update", "stack.unshare", "role.update", "organization.accept_invitation"):
        assert cache.affected(_event(name)) <= set(cache.stack_row_tags("blt_stack", "blt_org")), name
    every = (cache.schema_tags("k", "main"), cache.access_tags("k"), cache.token_tags("k", "t"))
    for tags in (*every, cache.locale_tags("k", "main"), cache.stack_row_tags("k", "o")):
        assert cache.affected({**_event("stack.delete"), "api_key": "k"}) <= set(tags)


def test_an_event_type_without_a_rule_drops_everything() -> None:
    assert cache.affected(_event("widget.create")) is None  # a type this server does not know


# -- the cache on a database, through the spine ---------------------------------------------------------
def _stack(db: Database, email: str = "cache@example.com") -> tuple[Caller, str, spine.StackScope]:
    with db.write() as tx:
        user_uid, _ = users.create(tx, email, password="correct horse battery")
        org_uid = organizations.create(tx, user_uid, "Cache org")
        caller = Caller(kind="user", user_uid=user_uid)
        api_key = stacks.create(tx, caller, {"name": "Cache"}, org_uid)
    return caller, api_key, spine.StackScope(caller, api_key, org_uid)


def _label(db: Database, scope: spine.StackScope, count: int = 1) -> None:
    """`count` events that drop nothing cached."""
    with db.write() as tx:
        for i in range(count):
            spine.record(tx, scope, "label.create", f"l{i}", {"name": "x"})


class Loads:
    """A loader that counts its calls and answers what `value` holds now."""

    def __init__(self, value: Any) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> Any:
        self.calls += 1
        return self.value


def _get(db: Database, key: tuple[str, ...], load: Callable[[], Any], *tags: tuple[str, ...]) -> Any:
    with db.read() as tx:
        return cache.cached(tx, key, load, lambda _: tags)


def test_a_value_is_loaded_once_and_dropped_by_its_events(db: Database) -> None:
    _, api_key, scope = _stack(db)
    load = Loads("v1")
    tags = cache.schema_tags(api_key, "main")
    # given a cached value: events that do not touch it keep it
    assert _get(db, ("k",), load, *tags) == "v1"
    _label(db, scope)
    assert _get(db, ("k",), load, *tags) == "v1"
    assert load.calls == 1
    # when an event that affects it commits, then the next read loads it again
    load.value = "v2"
    with db.write() as tx:
        spine.record(tx, scope, "global_field.update", "seo", {"title": "SEO"})
    assert _get(db, ("k",), load, *tags) == "v2"
    assert load.calls == 2


def test_write_transactions_neither_read_nor_fill_the_cache(db: Database) -> None:
    load = Loads("committed")
    assert _get(db, ("k",), load) == "committed"
    with db.write() as tx:
        # a write sees its own changes, which are not in the cache and may roll back
        assert cache.cached(tx, ("k",), lambda: "uncommitted", lambda _: ()) == "uncommitted"
        assert cache.cached(tx, ("other",), lambda: "uncommitted", lambda _: ()) == "uncommitted"
    assert _get(db, ("k",), load) == "committed"
    assert _get(db, ("other",), Loads("fresh")) == "fresh"


def test_lru_bound(db: Database) -> None:
    c = cache.configure(db, max_entries=2)
    loads = {k: Loads(k) for k in "abc"}
    for k in "ab":
        _get(db, (k,), loads[k])
    _get(db, ("a",), loads["a"])  # a is now the most recently used
    _get(db, ("c",), loads["c"])  # so b goes
    assert len(c) == 2
    for k in "abc":
        _get(db, (k,), loads[k])
    assert (loads["a"].calls, loads["b"].calls, loads["c"].calls) == (1, 2, 2)


def test_falling_far_behind_or_an_unknown_event_clears_everything(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    *_, scope = _stack(db)
    c = cache.configure(db, max_entries=100, catch_up=5)
    load = Loads("v")
    _get(db, ("k",), load)
    # more events than the cache reads to catch up: it starts empty
    _label(db, scope, 6)
    _get(db, ("k",), load)
    assert (load.calls, c.clears) == (2, 1)
    # an event type without a rule (a newer server's): it starts empty
    _label(db, scope, 1)
    _get(db, ("k",), load)
    assert load.calls == 2
    monkeypatch.delitem(cache.RULES, "label.create")
    _label(db, scope, 1)
    _get(db, ("k",), load)
    assert (load.calls, c.clears) == (3, 2)


def test_a_reset_event_log_is_noticed(db: Database) -> None:
    *_, scope = _stack(db)
    _label(db, scope, 3)
    load = Loads("before the reset")
    _get(db, ("k",), load)
    # when the log is emptied under the running process (a restore, say)
    with db.write() as tx:
        tx.run("DELETE FROM events")
        tx.run("UPDATE event_clock SET gseq = 0")
    load.value = "after the reset"
    # then while the clock is behind the cache's position, reads do without the cache
    assert _get(db, ("k",), load) == "after the reset"
    # and once the clock passes it again, the event at that position is another one: it starts empty
    _label(db, scope, 10)
    assert _get(db, ("k",), load) == "after the reset"
    assert _get(db, ("k",), load) == "after the reset"
    assert cache.of(db).clears == 1


def test_events_missing_from_the_log_clear_everything(db: Database) -> None:
    *_, scope = _stack(db)
    load = Loads("v1")
    _get(db, ("k",), load)
    # when the clock moves past events nobody can read any more (a pruned log)
    _label(db, scope, 2)
    with db.write() as tx:
        tx.run("DELETE FROM events")
    load.value = "v2"
    # then nothing cached is trusted
    assert _get(db, ("k",), load) == "v2"
    assert _get(db, ("k",), load) == "v2"
    assert load.calls == 2


def test_a_value_loaded_before_an_invalidation_is_not_stored(db: Database) -> None:
    _, api_key, scope = _stack(db)
    tags = cache.schema_tags(api_key, "main")
    current = {"value": "v1"}

    def change_and_read() -> None:
        with db.write() as tx:
            spine.record(tx, scope, "content_type.update", "post", {"title": "Post"})
        current["value"] = "v2"
        assert _get(db, ("other",), Loads("x")) == "x"

    def slow_load() -> str:
        # this transaction read v1; meanwhile a change commits and another request applies it
        seen = current["value"]
        t = threading.Thread(target=change_and_read)
        t.start()
        t.join()
        return seen

    with db.read() as tx:
        assert cache.cached(tx, ("k",), slow_load, lambda _: tags) == "v1"
    # v1 predates the event already applied: it must not have been kept
    assert _get(db, ("k",), lambda: current["value"], *tags) == "v2"


def test_events_that_drop_nothing_do_not_keep_loads_from_being_stored(db: Database) -> None:
    # given entry saves committing while a value is being loaded
    _, api_key, scope = _stack(db)
    tags = cache.schema_tags(api_key, "main")

    def saves() -> None:
        with db.write() as tx:
            spine.record(tx, scope, "entry.update", "e1", {"title": "x"}, content_type="post", locale="en-us")
        assert _get(db, ("other",), Loads("x")) == "x"

    def load() -> str:
        t = threading.Thread(target=saves)
        t.start()
        t.join()
        return "v"

    load_calls = Loads("v")
    with db.read() as tx:
        assert cache.cached(tx, ("k",), lambda: (load_calls(), load())[1], lambda _: tags) == "v"
    # then the value was kept all the same
    assert _get(db, ("k",), load_calls, *tags) == "v"
    assert load_calls.calls == 1


def test_readers_never_see_a_value_older_than_the_last_acknowledged_write(db: Database) -> None:
    # given a content type that one thread keeps updating through one handle, while readers on a
    # second handle (another process's cache) load it
    caller, api_key, _ = _stack(db)
    other = Database(db.url, pool_size=8)
    with db.write() as tx:
        access = stack_access(tx, caller, api_key)
        content_types.create(tx, access, ct("post")["content_type"])
    acked = {"version": 1}
    stop = threading.Event()
    errors: list[str] = []

    def write() -> None:
        for i in range(2, 30):
            with db.write() as tx:
                access = stack_access(tx, caller, api_key)
                content_types.update(tx, access, "post", {"description": f"v{i}"})
            acked["version"] = i
        stop.set()

    def read() -> None:
        while not stop.is_set():
            floor = acked["version"]
            with other.read() as tx:
                access = stack_access(tx, caller, api_key)
                version = content_types.load(tx, access.api_key, "main", "post")["_version"]
            if version < floor:
                errors.append(f"read version {version} after version {floor} was acknowledged")

    threads = [threading.Thread(target=read) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        write()
        for t in threads:
            t.join(timeout=60)
        # then no reader saw a version older than the last write acknowledged before it began
        assert errors == []
        assert cache.of(other).hits > 0
        with other.read() as tx:
            assert content_types.load(tx, api_key, "main", "post")["_version"] == 29
    finally:
        stop.set()
        other.close()


# -- two handles on one database (the `other` fixture): what another process sees ---------------------------
def _schema_of(handle: Database, owner: User, api_key: str, ct_uid: str) -> dict[str, Any]:
    def load(tx: Tx) -> dict[str, Any]:
        caller = authenticate(tx, {"authtoken": owner.authtoken})
        stack_access(tx, caller, api_key)
        return content_types.load(tx, api_key, "main", ct_uid)

    return dict(through(handle, load))


def _fields(schema: list[dict[str, Any]]) -> list[Any]:
    return [(f["uid"], _fields(f["schema"])) if "schema" in f else f["uid"] for f in schema]


def test_schema_changes_reach_another_handle_at_once(
    live: Live, cma: httpx.Client, owner: User, api_key: str, other: Database
) -> None:
    # given a content type embedding a global field, cached by the second handle
    seo = {"global_field": {"title": "SEO", "uid": "seo", "schema": [text("keywords")]}}
    assert cma.post("/v3/global_fields", json=seo).status_code == 201
    embed = {"display_name": "SEO", "uid": "seo", "data_type": "global_field", "reference_to": "seo"}
    assert cma.post("/v3/content_types", json=ct("post", embed)).status_code == 201
    hits = cache.of(other).hits
    for _ in range(2):
        schema = _schema_of(other, owner, api_key, "post")["schema"]
        assert _fields(schema) == ["title", ("seo", ["keywords"])]
    assert cache.of(other).hits > hits
    # when the global field changes through the first handle, then the second sees it at once
    seo["global_field"]["schema"].append(text("description"))
    assert cma.put("/v3/global_fields/seo", json=seo).status_code == 200
    assert _fields(_schema_of(other, owner, api_key, "post")["schema"]) == [
        "title",
        ("seo", ["keywords", "description"]),
    ]
    # and so does a change of the content type itself, and its deletion
    assert cma.put("/v3/content_types/post", json=ct("post", text("body"))).status_code == 200
    assert _fields(_schema_of(other, owner, api_key, "post")["schema"]) == ["title", "body"]
    assert cma.delete("/v3/content_types/post").status_code == 200
    with pytest.raises(Exception, match="not found"):
        _schema_of(other, owner, api_key, "post")


def test_role_and_membership_changes_reach_another_handle_at_once(
    live: Live, cma: httpx.Client, api_key: str, other: Database
) -> None:
    # given a developer, whose standing the second handle has cached
    dev = member(live, cma, "dev@example.com", "Developer")

    def level() -> str:
        def read(tx: Tx) -> str:
            return stack_access(tx, authenticate(tx, {"authtoken": dev.authtoken}), api_key).level

        return str(through(other, read))

    assert level() == level() == "developer"
    # when the member's roles change, then the second handle sees the new ones at once
    cm = role_uid(cma, "Content Manager")
    assert cma.put("/v3/stacks/users/roles", json={"users": {dev.uid: [cm]}}).status_code == 200
    assert level() == "content_manager"
    # and a custom role's rules, changed in the role itself
    rules = [{"module": "environment", "environments": ["$all"], "acl": {"read": True}}]
    r = cma.post("/v3/roles", json={"role": {"name": "Reader", "rules": rules}})
    assert r.status_code == 201, r.text
    reader = r.json()["role"]["uid"]
    assert cma.put("/v3/stacks/users/roles", json={"users": {dev.uid: [reader]}}).status_code == 200

    def modules() -> list[str]:
        def read(tx: Tx) -> list[str]:
            access = stack_access(tx, authenticate(tx, {"authtoken": dev.authtoken}), api_key)
            return sorted(str(rule["module"]) for rule in access.rules)

        return list(through(other, read))

    assert modules() == modules() == ["environment"]
    rules.append({"module": "locale", "locales": ["$all"], "acl": {"read": True}})
    assert cma.put(f"/v3/roles/{reader}", json={"role": {"rules": rules}}).status_code == 200
    assert modules() == ["environment", "locale"]
    # and removing them from the stack
    assert cma.post("/v3/stacks/unshare", json={"email": dev.email}).status_code == 200
    with pytest.raises(PreconditionFailed):
        level()


def test_token_changes_reach_another_handle_at_once(
    live: Live, cma: httpx.Client, api_key: str, other: Database
) -> None:
    # given a management token whose scope the second handle has cached
    secret = management_token(cma, "CI", ENTRY_READ)

    def scope() -> list[str]:
        def read(tx: Tx) -> list[str]:
            return sorted(
                str(rule["module"]) for rule in authenticate(tx, {"authorization": secret}).token_scope
            )

        return list(through(other, read))

    assert scope() == scope() == ["branch", "content_type", "entry"]
    # when its scope changes, then the second handle sees the new one at once
    token_uid = cma.get("/v3/stacks/management_tokens").json()["tokens"][0]["uid"]
    r = cma.put(f"/v3/stacks/management_tokens/{token_uid}", json={"token": {"scope": ENTRY_READ[:1]}})
    assert r.status_code == 200, r.text
    assert scope() == ["branch", "content_type"]
    # and once it is deleted, the secret stops working there too
    assert cma.delete(f"/v3/stacks/management_tokens/{token_uid}").status_code == 200
    with pytest.raises(Unauthorized):
        scope()


def test_locale_changes_reach_another_handle_at_once(
    live: Live, cma: httpx.Client, owner: User, api_key: str, other: Database
) -> None:
    # given the second handle has the stack's locales cached
    def has(code: str) -> bool:
        def read(tx: Tx) -> bool:
            stack_access(tx, authenticate(tx, {"authtoken": owner.authtoken}), api_key)
            return locales.exists(tx, api_key, code)

        return bool(through(other, read))

    hits = cache.of(other).hits
    assert has("en-us") and has("en-us") and not has("fr-fr")
    assert cache.of(other).hits > hits
    # when a locale is added through the first handle, then the second sees it at once
    assert cma.post("/v3/locales", json={"locale": {"code": "fr-fr"}}).status_code == 201
    assert has("fr-fr")
    # and once it is deleted, it is gone there too
    assert cma.delete("/v3/locales/fr-fr").status_code == 200
    assert not has("fr-fr") and has("en-us")


def test_organization_role_changes_reach_another_handle_at_once(
    live: Live, cma: httpx.Client, owner: User, api_key: str, other: Database
) -> None:
    # given a developer of the stack, as the second handle sees them
    dev = member(live, cma, "dev@example.com", "Developer")

    def level() -> str:
        def read(tx: Tx) -> str:
            return stack_access(tx, authenticate(tx, {"authtoken": dev.authtoken}), api_key).level

        return str(through(other, read))

    assert level() == level() == "developer"
    # when the organization makes them an admin (an organization change: an event without a stack)
    with live.client(authtoken=owner.authtoken) as c:
        r = c.post(
            f"/v3/organizations/{owner.org_uid}/share",
            json={"share": {"users": {dev.email: ["admin"]}}},
        )
        assert r.status_code == 200, r.text
    # then the second handle sees it at once
    assert level() == "admin"


# -- statements per request -----------------------------------------------------------------------------
@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement any transaction of this process runs (the live server's included)."""
    seen: list[str] = []
    run = Tx._exec

    def counted(self: Tx, sql: str, params: tuple[Any, ...]) -> Any:
        seen.append(sql)
        return run(self, sql, params)

    monkeypatch.setattr(Tx, "_exec", counted)
    return seen


def test_fetching_an_entry_runs_fewer_statements(
    live: Live, cma: httpx.Client, api_key: str, statements: list[str]
) -> None:
    # given an entry, and a developer reading it
    assert cma.post("/v3/content_types", json=ct("post", text("body"))).status_code == 201
    r = cma.post("/v3/content_types/post/entries", params={"locale": "en-us"}, json={"entry": {"title": "A"}})
    assert r.status_code == 201, r.text
    path = f"/v3/content_types/post/entries/{r.json()['entry']['uid']}"
    dev = member(live, cma, "dev@example.com", "Developer")

    def run(client: httpx.Client) -> list[str]:
        statements.clear()
        assert client.get(path, params={"locale": "en-us"}).status_code == 200
        return list(statements)

    with live.client(authtoken=dev.authtoken, api_key=api_key) as c:
        # when the cache is off: session, stack, roles, content type, locale, entry
        cache.configure(live.db, max_entries=0)
        uncached = run(c)
        assert len(uncached) == 6
        assert any("FROM content_types" in s for s in uncached)
        assert any("FROM member_roles" in s for s in uncached)
        # when it is on, after a first fetch: the event clock and the entry
        cache.configure(live.db, max_entries=cache.DEFAULT_ENTRIES)
        run(c)
        cached = run(c)
        assert len(cached) == 2, cached
        assert "event_clock" in cached[0] and "FROM entries" in cached[1]
        assert run(c) == cached
    # the owner's fetch went from five statements to two
    with live.client(authtoken=cma.headers["authtoken"], api_key=api_key) as c:
        run(c)
        assert run(c) == cached


LISTS = [
    ("/v3/content_types", "content_types"),
    ("/v3/global_fields", "global_fields"),
    ("/v3/environments", "environments"),
    ("/v3/extensions", "extensions"),
    ("/v3/labels", "labels"),
    ("/v3/metadata", "metadata"),
    ("/v3/audit-logs", "logs"),
]


def test_lists_count_only_when_asked(cma: httpx.Client, statements: list[str]) -> None:
    assert cma.post("/v3/content_types", json=ct("post")).status_code == 201
    assert cma.post("/v3/environments", json={"environment": {"name": "production"}}).status_code == 201
    for path, key in LISTS:
        statements.clear()
        r = cma.get(path)
        assert r.status_code == 200, (path, r.text)
        assert "count" not in r.json(), path
        assert not any("COUNT(*)" in s for s in statements), path
        r = cma.get(path, params={"include_count": "true"})
        assert r.status_code == 200, (path, r.text)
        assert r.json()["count"] == len(r.json()[key]), path
    assert cma.get("/v3/audit-logs", params={"include_count": "true", "limit": 1}).json()["count"] >= 2


# -- two server processes on one database ---------------------------------------------------------------
def _second_server(url: str, tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "STACKYARD_ACCESS_LOG": "false", "STACKYARD_JOBS_ENABLED": "false"}
    cmd = [sys.executable, "-m", "stackyard", "serve", "--database-url", url, "--port", str(port)]
    cmd += ["--data-dir", str(tmp_path)]
    log = open(tmp_path / "second.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError((tmp_path / "second.log").read_text()[-3000:])
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.05)


def test_a_second_server_process_never_serves_a_stale_value(
    live: Live, cma: httpx.Client, owner: User, api_key: str, tmp_path: Path
) -> None:
    # given an entry, a developer, a management token and a second session of the owner, and a
    # second server on the same database
    assert cma.post("/v3/content_types", json=ct("post")).status_code == 201
    r = cma.post("/v3/content_types/post/entries", params={"locale": "en-us"}, json={"entry": {"title": "A"}})
    assert r.status_code == 201, r.text
    entry = f"/v3/content_types/post/entries/{r.json()['entry']['uid']}"
    dev = member(live, cma, "dev@example.com", "Developer")
    secret = management_token(cma, "CI", ENTRY_READ)
    with live.client() as c:
        login = {"user": {"email": owner.email, "password": owner.password}}
        leaving = c.post("/v3/user-session", json=login).json()["user"]["authtoken"]
    process, second = _second_server(live.db.url, tmp_path)
    query = {"query": json.dumps({"subtitle": "x"})}
    try:
        owner_c = httpx.Client(base_url=second, headers=dict(cma.headers), timeout=30)
        dev_c = httpx.Client(base_url=second, headers={"authtoken": dev.authtoken, "api_key": api_key})
        token_c = httpx.Client(base_url=second, headers={"authorization": secret, "api_key": api_key})
        leaving_c = httpx.Client(base_url=second, headers={"authtoken": leaving, "api_key": api_key})
        with owner_c, dev_c, token_c, leaving_c:
            # when each has been read (and so cached) by the second process
            for _ in range(2):
                assert owner_c.get("/v3/content_types/post/entries", params=query).status_code == 400
                assert dev_c.get(entry).status_code == 200
                assert token_c.get(entry).status_code == 200
                assert leaving_c.get(entry).status_code == 200
            # and each is changed through the first
            r = cma.put("/v3/content_types/post", json=ct("post", text("subtitle")))
            assert r.status_code == 200, r.text
            assert cma.post("/v3/stacks/unshare", json={"email": dev.email}).status_code == 200
            token_uid = cma.get("/v3/stacks/management_tokens").json()["tokens"][0]["uid"]
            assert cma.delete(f"/v3/stacks/management_tokens/{token_uid}").status_code == 200
            with live.client(authtoken=leaving) as c:
                assert c.delete("/v3/user-session").status_code == 200
            # then the second process answers with the changes at once
            assert owner_c.get("/v3/content_types/post/entries", params=query).status_code == 200
            assert dev_c.get(entry).status_code == 412
            assert token_c.get(entry).status_code == 401
            assert leaving_c.get(entry).status_code == 401
            assert owner_c.get(entry).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_events_after_reads_the_event_at_a_position(db: Database) -> None:
    # what the cache relies on to recognise the event at its position
    _stack(db)
    with db.read() as tx:
        last = events.last_position(tx)
        assert [e["gseq"] for e in events.after(tx, last - 1, limit=1)] == [last]
