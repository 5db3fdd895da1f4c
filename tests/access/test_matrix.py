"""The authorization matrix: every kind of caller against the stack administration routes.

Given one stack with an owner, members holding each built-in role, a custom role (read-only on
one environment) and two custom roles that may do everything to entries but only in en-us or only
in fr-fr, a management token with the modules and one without, a delivery token, no credential, and
the owner of another organization; when each calls each route; then the status is the one in the
table, and no error body carries data of the stack. Runs on both engines.

Destructive calls act on objects made for that caller, so the order of the cells does not matter,
except that the stack itself is deleted last, by its owner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.access.helpers import custom_role, delivery_token, management_token, member, role_uid
from tests.conftest import Live, make_user

CALLERS = (
    "admin",
    "developer",
    "content_manager",
    "custom",
    "custom_en",
    "custom_fr",
    "token_with",
    "token_without",
    "delivery",
    "nobody",
    "stranger",
    "owner",
)
# Short names for a row of expected statuses, in the order of CALLERS.
OWNER_ADMIN = {"owner", "admin"}
BUILDERS = {"owner", "admin", "developer"}
MEMBERS = {"owner", "admin", "developer", "content_manager", "custom", "custom_en", "custom_fr"}
# Custom roles: `custom` reads one environment; the others work on entries in one language each.
CUSTOM = {"custom", "custom_en", "custom_fr"}
EDITORS = BUILDERS | {"content_manager"}
LOCALE_CODES = {c: f"zz-c{i}" for i, c in enumerate(CALLERS)}


def expect(ok: int, allowed: set[str], *, denied: int = 403) -> dict[str, int | None]:
    """`ok` for the callers in `allowed`; `denied` for other stack callers; 401 without a usable
    management credential; 412 for a stranger, to whom the stack does not exist."""
    out: dict[str, int | None] = {c: (ok if c in allowed else denied) for c in CALLERS}
    out.update(delivery=401, nobody=401, stranger=412)
    return out


@dataclass
class World:
    live: Live
    api_key: str
    headers: dict[str, dict[str, str]]
    ids: dict[str, Any] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)


@dataclass
class Cell:
    method: str
    path: Callable[[World, str], str]
    expected: dict[str, int | None]  # None: not the management API's to answer (see `_read`)
    body: Callable[[World, str], Any] | None = None


def _const(value: str) -> Callable[[World, str], str]:
    return lambda w, c: value


def _build(live: Live) -> World:
    owner = make_user(live, "owner@example.com")
    with live.client(authtoken=owner.authtoken) as c:
        r = c.post("/v3/stacks", json={"stack": {"name": "Matrix stack", "master_locale": "en-us"}})
        assert r.status_code == 201, r.text
        api_key = r.json()["stack"]["api_key"]
    world = World(live=live, api_key=api_key, headers={})
    with live.client(authtoken=owner.authtoken, api_key=api_key) as cma:
        for name in ("matrix-prod", "matrix-dev", *(f"del-{c}" for c in CALLERS)):
            assert cma.post("/v3/environments", json={"environment": {"name": name}}).status_code == 201
        for caller in CALLERS:
            code = f"zz-d{CALLERS.index(caller)}"
            assert cma.post("/v3/locales", json={"locale": {"code": code}}).status_code == 201
            world.ids[f"role-{caller}"] = custom_role(cma, f"del-{caller}", [])
            dt = cma.post(
                "/v3/stacks/delivery_tokens",
                json={
                    "token": {
                        "name": f"dtdel-{caller}",
                        "scope": [{"module": "environment", "environments": ["matrix-prod"]}],
                    }
                },
            ).json()["token"]
            world.ids[f"dt-{caller}"] = dt["uid"]
            mt = cma.post(
                "/v3/stacks/management_tokens",
                json={
                    "token": {
                        "name": f"mtdel-{caller}",
                        "scope": [{"module": "environment", "acl": {"read": True}}],
                    }
                },
            ).json()["token"]
            world.ids[f"mt-{caller}"] = mt["uid"]
        world.ids["reader"] = custom_role(
            cma,
            "Matrix reader",
            [{"module": "environment", "environments": ["matrix-prod"], "acl": {"read": True}}],
        )
        world.ids["cm_role"] = role_uid(cma, "Content Manager")
        _entries(world, cma)
        members = {
            "admin": member(live, cma, "admin@example.com", "Admin"),
            "developer": member(live, cma, "developer@example.com", "Developer"),
            "content_manager": member(live, cma, "cm@example.com", "Content Manager"),
            "custom": member(live, cma, "custom@example.com", "Matrix reader"),
            "custom_en": member(live, cma, "custom-en@example.com", "Matrix en-us editor"),
            "custom_fr": member(live, cma, "custom-fr@example.com", "Matrix fr-fr editor"),
        }
        rw = {"read": True, "write": True}
        with_modules = management_token(
            cma,
            "matrix mgmt",
            [
                {"module": "environment", "acl": rw},
                {"module": "locale", "acl": rw},
                {"module": "audit_log", "acl": {"read": True}},
            ],
        )
        without = management_token(cma, "matrix narrow", [{"module": "content_type", "acl": rw}])
        delivery = delivery_token(cma, "matrix delivery", "matrix-prod")
        world.ids["dt"] = cma.get("/v3/stacks/delivery_tokens").json()["tokens"][0]["uid"]
        world.ids["mt"] = cma.get("/v3/stacks/management_tokens").json()["tokens"][0]["uid"]
        world.ids["log"] = cma.get("/v3/audit-logs").json()["logs"][0]["uid"]
        world.ids["stack_uid"] = cma.get("/v3/stacks").json()["stack"]["uid"]
    stranger = make_user(live, "stranger@example.com")
    world.secrets = [with_modules, without, delivery]
    base = {"api_key": api_key}
    world.headers = {
        "owner": {**base, "authtoken": owner.authtoken},
        **{name: {**base, "authtoken": u.authtoken} for name, u in members.items()},
        "token_with": {**base, "authorization": with_modules},
        "token_without": {**base, "authorization": without},
        "delivery": {**base, "access_token": delivery, "environment": "matrix-prod"},
        "nobody": base,
        "stranger": {**base, "authtoken": stranger.authtoken},
    }
    return world


def _entries(world: World, cma: Any) -> None:
    """A content type with an entry in en-us and fr-fr, one such entry per caller to delete, and
    the two language-bound editor roles."""
    assert cma.post("/v3/locales", json={"locale": {"code": "fr-fr"}}).status_code == 201
    schema = [{"display_name": "Title", "uid": "title", "data_type": "text", "mandatory": True}]
    r = cma.post(
        "/v3/content_types", json={"content_type": {"title": "Page", "uid": "page", "schema": schema}}
    )
    assert r.status_code == 201, r.text
    for name in ("entry", *(f"entry-{c}" for c in CALLERS)):
        r = cma.post(ENTRIES_PATH, json={"entry": {"title": name}})
        assert r.status_code == 201, r.text
        uid = r.json()["entry"]["uid"]
        r = cma.put(f"{ENTRIES_PATH}/{uid}", params=FR, json={"entry": {"title": f"{name} (fr)"}})
        assert r.status_code == 200, r.text
        world.ids[name] = uid
    every = {"read": True, "create": True, "update": True, "delete": True, "publish": True}
    for code in ("en-us", "fr-fr"):
        rules = [
            {"module": "content_type", "content_types": ["$all"], "acl": {"read": True, "sub_acl": every}},
            {"module": "locale", "locales": [code], "acl": {"read": True}},
        ]
        custom_role(cma, f"Matrix {code} editor", rules)


ENTRIES_PATH = "/v3/content_types/page/entries"
FR = {"locale": "fr-fr"}
ENVIRONMENTS = [
    Cell("GET", _const("/v3/environments"), expect(200, MEMBERS | {"token_with"})),
    Cell(
        "GET",
        _const("/v3/environments/matrix-prod"),
        expect(200, MEMBERS - {"custom_en", "custom_fr"} | {"token_with"}),
    ),
    Cell("GET", _const("/v3/environments/matrix-dev"), expect(200, MEMBERS - CUSTOM | {"token_with"})),
    Cell(
        "POST",
        _const("/v3/environments"),
        expect(201, BUILDERS | {"token_with"}),
        lambda w, c: {"environment": {"name": f"new-{c}"}},
    ),
    Cell(
        "PUT",
        _const("/v3/environments/matrix-prod"),
        expect(200, BUILDERS | {"token_with"}),
        lambda w, c: {"environment": {"urls": []}},
    ),
    Cell("DELETE", lambda w, c: f"/v3/environments/del-{c}", expect(200, BUILDERS | {"token_with"})),
]
LOCALES = [
    Cell("GET", _const("/v3/locales"), expect(200, MEMBERS | {"token_with"})),
    Cell("GET", _const("/v3/locales/en-us"), expect(200, MEMBERS - {"custom", "custom_fr"} | {"token_with"})),
    Cell("GET", _const("/v3/locales/fr-fr"), expect(200, MEMBERS - {"custom", "custom_en"} | {"token_with"})),
    Cell(
        "POST",
        _const("/v3/locales"),
        expect(201, BUILDERS | {"token_with"}),
        lambda w, c: {"locale": {"code": LOCALE_CODES[c]}},
    ),
    Cell(
        "PUT",
        _const("/v3/locales/zz-d0"),
        expect(200, BUILDERS | {"token_with"}),
        lambda w, c: {"locale": {"name": c}},
    ),
    Cell(
        "DELETE", lambda w, c: f"/v3/locales/zz-d{CALLERS.index(c)}", expect(200, BUILDERS | {"token_with"})
    ),
]
ROLES = [
    Cell("GET", _const("/v3/roles"), expect(200, BUILDERS)),
    Cell("GET", lambda w, c: f"/v3/roles/{w.ids['reader']}", expect(200, BUILDERS)),
    Cell(
        "POST",
        _const("/v3/roles"),
        expect(201, OWNER_ADMIN),
        lambda w, c: {"role": {"name": f"new-{c}", "rules": []}},
    ),
    Cell(
        "PUT",
        lambda w, c: f"/v3/roles/{w.ids['reader']}",
        expect(200, OWNER_ADMIN),
        lambda w, c: {"role": {"description": c}},
    ),
    Cell("DELETE", lambda w, c: f"/v3/roles/{w.ids['role-' + c]}", expect(200, OWNER_ADMIN)),
]


def _token_cells(kind: str) -> list[Cell]:
    base = f"/v3/stacks/{kind}_tokens"
    short = "dt" if kind == "delivery" else "mt"
    scope = (
        [{"module": "environment", "environments": ["matrix-prod"]}]
        if kind == "delivery"
        else [{"module": "environment", "acl": {"read": True}}]
    )
    return [
        Cell("GET", _const(base), expect(200, BUILDERS)),
        Cell("GET", lambda w, c: f"{base}/{w.ids[short]}", expect(200, BUILDERS)),
        Cell(
            "POST",
            _const(base),
            expect(201, BUILDERS),
            lambda w, c: {"token": {"name": f"new-{c}", "scope": scope}},
        ),
        Cell(
            "PUT",
            lambda w, c: f"{base}/{w.ids[short]}",
            expect(200, BUILDERS),
            lambda w, c: {"token": {"description": c}},
        ),
        Cell("DELETE", lambda w, c: f"{base}/{w.ids[f'{short}-{c}']}", expect(200, BUILDERS)),
    ]


AUDIT = [
    Cell("GET", _const("/v3/audit-logs"), expect(200, BUILDERS | {"token_with"})),
    Cell("GET", lambda w, c: f"/v3/audit-logs/{w.ids['log']}", expect(200, BUILDERS | {"token_with"})),
]
STACK = [
    Cell("GET", _const("/v3/stacks"), expect(200, MEMBERS | {"token_with", "token_without"})),
    Cell("PUT", _const("/v3/stacks"), expect(200, OWNER_ADMIN), lambda w, c: {"stack": {"description": c}}),
    Cell("GET", _const("/v3/stacks/settings"), expect(200, MEMBERS | {"token_with", "token_without"})),
    Cell(
        "POST",
        _const("/v3/stacks/settings"),
        expect(201, OWNER_ADMIN),
        lambda w, c: {"stack_settings": {"stack_variables": {c: "1"}}},
    ),
    Cell(
        "POST",
        _const("/v3/stacks/settings/reset"),
        expect(201, OWNER_ADMIN),
        lambda w, c: {"stack_settings": {}},
    ),
    Cell("GET", _const("/v3/stacks/users"), expect(200, MEMBERS - CUSTOM)),
    Cell(
        "POST",
        _const("/v3/stacks/share"),
        expect(200, OWNER_ADMIN),
        lambda w, c: {
            "emails": [f"guest-{c}@example.com"],
            "roles": {f"guest-{c}@example.com": [w.ids["cm_role"]]},
        },
    ),
    Cell(
        "POST",
        _const("/v3/stacks/transfer_ownership"),
        expect(200, {"owner"}),
        lambda w, c: {"transfer_to": "admin@example.com"},
    ),
    # last: the owner deletes the stack
    Cell("DELETE", _const("/v3/stacks"), expect(200, {"owner"})),
]
# Entries in each language: the editors' locale rules decide, on top of their content type rules.
EN_READERS = MEMBERS - {"custom", "custom_fr"}
FR_READERS = MEMBERS - {"custom", "custom_en"}


def _one(suffix: str = "", mine: bool = False) -> Callable[[World, str], str]:
    return lambda w, c: f"{ENTRIES_PATH}/{w.ids[f'entry-{c}' if mine else 'entry']}{suffix}"


def _query(path: Callable[[World, str], str], params: str) -> Callable[[World, str], str]:
    return lambda w, c: f"{path(w, c)}?{params}"


def _read(ok: int, allowed: set[str]) -> dict[str, int | None]:
    """`expect` for an entry read: with a delivery token the delivery API answers these paths."""
    return {**expect(ok, allowed), "delivery": None}


ENTRIES = [
    Cell("GET", _const(ENTRIES_PATH), _read(200, EN_READERS)),
    Cell("GET", _const(ENTRIES_PATH + "?locale=fr-fr"), _read(200, FR_READERS)),
    Cell("GET", _one(), _read(200, EN_READERS)),
    Cell("GET", _query(_one(), "locale=fr-fr"), _read(200, FR_READERS)),
    Cell("GET", _query(_one("/versions"), "locale=fr-fr"), expect(200, FR_READERS)),
    Cell("GET", _query(_one("/export"), "locale=fr-fr"), expect(200, FR_READERS)),
    Cell(
        "POST",
        _const(ENTRIES_PATH),
        expect(201, EDITORS | {"custom_en"}),
        lambda w, c: {"entry": {"title": f"new-{c}"}},
    ),
    Cell(
        "POST",
        _const(ENTRIES_PATH + "?locale=fr-fr"),
        expect(201, EDITORS | {"custom_fr"}),
        lambda w, c: {"entry": {"title": f"nouveau-{c}"}},
    ),
    Cell(
        "PUT",
        _query(_one(), "locale=fr-fr"),
        expect(200, EDITORS | {"custom_fr"}),
        lambda w, c: {"entry": {"title": "entry (fr)"}},
    ),
    Cell("DELETE", _query(_one(mine=True), "locale=fr-fr"), expect(200, EDITORS | {"custom_fr"})),
    # the whole entry: every copy must be one the caller may delete (custom_fr is left its en-us one)
    Cell("DELETE", _one(mine=True), expect(200, EDITORS)),
]
GROUPS = {
    "entries": ENTRIES,
    "environments": ENVIRONMENTS,
    "locales": LOCALES,
    "roles": ROLES,
    "delivery_tokens": _token_cells("delivery"),
    "management_tokens": _token_cells("management"),
    "audit_logs": AUDIT,
    "stack": STACK,
}


def _leaks(world: World, text: str) -> list[str]:
    """Data of the stack that must never appear in an error answer."""
    sentinels = [
        "Matrix stack",
        "matrix-dev",
        "Matrix reader",
        "matrix mgmt",
        "matrix delivery",
        "owner@example.com",
        world.ids["stack_uid"],
        world.ids["reader"],
        *world.secrets,
    ]
    return [s for s in sentinels if s in text]


def _run(world: World, cells: list[Cell]) -> list[str]:
    """Every caller against every cell; answers the mismatches, as readable lines."""
    wrong: list[str] = []
    for cell in cells:
        for caller in CALLERS:
            path = cell.path(world, caller)
            body = cell.body(world, caller) if cell.body else None
            with world.live.client(**world.headers[caller]) as c:
                r = c.request(cell.method, path, json=body)
            want = cell.expected[caller]
            if want is None:
                continue
            if r.status_code != want:
                wrong.append(
                    f"{cell.method} {path} as {caller}: {r.status_code}, expected {want}: {r.text[:200]}"
                )
            if r.status_code >= 400:
                payload = r.json()
                if not {"error_message", "error_code", "errors"} <= set(payload):
                    wrong.append(f"{cell.method} {path} as {caller}: error body not canonical: {payload}")
                leaked = _leaks(world, r.text)
                if leaked:
                    wrong.append(f"{cell.method} {path} as {caller}: error body leaks {leaked}")
    return wrong


def _names(world: World, caller: str, path: str, key: str, field: str) -> list[str]:
    with world.live.client(**world.headers[caller]) as c:
        r = c.get(path)
        assert r.status_code == 200, r.text
        return sorted(item[field] for item in r.json()[key])


def test_authorization_matrix(live: Live) -> None:
    # One world per engine: destructive cells act on per-caller objects, and the stack goes last.
    world = _build(live)
    # given callers limited to part of a module, when they list it, then they see only that part
    assert _names(world, "custom", "/v3/environments", "environments", "name") == ["matrix-prod"]
    assert _names(world, "custom", "/v3/locales", "locales", "code") == []
    assert _names(world, "custom_en", "/v3/locales", "locales", "code") == ["en-us"]
    assert "matrix-dev" in _names(world, "token_with", "/v3/environments", "environments", "name")
    assert "matrix-dev" in _names(world, "content_manager", "/v3/environments", "environments", "name")
    # and every cell of the table answers as expected
    wrong = [line for group in GROUPS.values() for line in _run(world, group)]
    assert not wrong, "\n".join(wrong)
