"""Fuzzing every documented route of the live server: no input may cause a 5xx, and every error
answer has the canonical JSON shape.

Requests are built by hypothesis from GET /openapi.json (so the document is exercised too): path
parameters from ids the server has handed out or random text, real or junk credentials and stack
keys, query strings and bodies (the route's envelope around random JSON, bare JSON of any type,
random bytes, multipart). The caller is the owner of a real stack with some content in it. Failures
are collected across all routes and reported together, each with its request.

STACKYARD_FUZZ_EXAMPLES (default 30) sets the examples per route; STACKYARD_FUZZ_SECONDS (default
40) caps each engine's run, shared equally between the routes, so the suite stays quick as routes
are added (a route gets fewer examples when time runs short, never none).
"""

from __future__ import annotations

import json
import os
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from stackyard.api.dispatch import api_of_path
from stackyard.settings import Settings
from tests.conftest import Live, User, make_user

EXAMPLES = int(os.environ.get("STACKYARD_FUZZ_EXAMPLES", "30"))
BUDGET = float(os.environ.get("STACKYARD_FUZZ_SECONDS", "40"))
CANONICAL = {"error_message", "error_code", "errors"}
# StackPath's routes answer its own error shape (gRPC code, message, details).
STACKPATH = {"code", "message", "details"}
# The automation API answers errors in StackStorm's shape, {"faultstring": ...} (api/errors.py).
ST2_PREFIXES = ("/api/v1", "/auth/v1", "/stream/v1")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")

# Field names the handlers look at, so random objects reach past the first validation step.
VOCABULARY = [
    "name", "title", "uid", "urls", "url", "locale", "code", "fallback_locale", "description",
    "master_locale", "email", "password", "password_confirmation", "first_name", "last_name", "company",
    "users", "stacks", "roles", "rules", "module", "acl", "schema", "data_type", "display_name",
    "mandatory", "multiple", "unique", "field_metadata", "options", "scope", "environments", "branches",
    "expires_on", "share", "message", "transfer_to", "tfa_token", "reset_password_token", "emails",
    "stack_settings", "stack_variables", "rte", "content_type", "global_field", "reference_to", "blocks",
    "_version", "tags", "environment", "token", "role", "user", "stack", "org_uid", "api_key", "query",
    "permissions", "read", "create", "update", "delete", "publish", "ACL", "settings", "items",
]  # fmt: skip
QUERY_NAMES = ["skip", "limit", "include_count", "query", "locale", "asc", "desc", "force", "include_branch"]
ASCII = st.text(alphabet=string.printable, max_size=40)
# `$regex` patterns that broke engines: catastrophic backtracking, counts past every limit, syntax
# only one engine knows (named backreferences, lookaround, possessive quantifiers), huge alternations.
HOSTILE_REGEX = st.sampled_from(
    ["(a+)+$", "^([A-Za-z ]+)+$", "a{4294967296}", "a{1001}", "(?P<n>a)(?P=n)", "(a)\\1", "\\1", "(?=a)",
     "(?<!a)b", "a*+", "[[:alpha:]]", "\\p{L}", "(?i)x", "\\bx\\b", "(", "[", "*", "\\", "(?#c)"]
) | st.builds(
    lambda atom, n, tail: "(" * n + atom + "+)+" * n + tail,
    st.sampled_from(["a", ".", "\\w", "[a-z ]", "a|aa"]), st.integers(1, 12), st.sampled_from(["", "$", "!", "{2,255}"]),
) | st.builds(
    lambda words, n: "|".join(words * n), st.lists(st.text(string.ascii_lowercase, min_size=1, max_size=6), min_size=1, max_size=8), st.integers(1, 200)
)  # fmt: skip
REGEX_QUERY = st.builds(
    lambda field, rx, i: json.dumps({field: {"$regex": rx, **({"$options": i} if i else {})}}),
    st.sampled_from(["title", "uid", "tags", "nope"]),
    HOSTILE_REGEX,
    st.sampled_from(["", "i", "x", "ms"]),
)
HEADER_TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_.:/=+", max_size=40)


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    """No lockout: random logins must not lock the owner out halfway through."""
    return Settings(
        data_dir=str(tmp_path), access_log=False, max_failed_logins=10**6, auth_attempts_per_minute=10**6
    )


@dataclass
class World:
    """The fuzzing caller's credentials and the ids it has seen; repaired when a request kills them."""

    live: Live
    owner: User
    authtoken: str
    api_key: str
    pool: set[str] = field(default_factory=set)

    def relogin(self) -> None:
        with self.live.client() as c:
            r = c.post(
                "/v3/user-session",
                json={"user": {"email": self.owner.email, "password": self.owner.password}},
            )
        assert r.status_code == 200, r.text
        self.authtoken = r.json()["user"]["authtoken"]

    def new_stack(self) -> None:
        with self.live.client(authtoken=self.authtoken) as c:
            r = c.post("/v3/stacks", json={"stack": {"name": "Fuzz again", "master_locale": "en-us"}})
        assert r.status_code == 201, r.text
        self.api_key = r.json()["stack"]["api_key"]
        self.pool.add(self.api_key)

    def harvest(self, value: Any) -> None:
        """Remember ids from answers, so later requests name objects that exist."""
        if isinstance(value, dict):
            for k, v in value.items():
                if (
                    k in ("uid", "api_key", "name", "code", "org_uid")
                    and isinstance(v, str)
                    and 0 < len(v) <= 64
                ):
                    self.pool.add(v)
                else:
                    self.harvest(v)
        elif isinstance(value, list):
            for v in value[:20]:
                self.harvest(v)


@pytest.fixture
def world(live: Live) -> Iterator[World]:
    owner = make_user(live, "fuzz-owner@example.com")
    w = World(live=live, owner=owner, authtoken=owner.authtoken, api_key="", pool={owner.org_uid, owner.uid})
    w.new_stack()
    with live.client(authtoken=w.authtoken, api_key=w.api_key) as c:
        seeds = [
            ("/v3/environments", {"environment": {"name": "production", "urls": [{"locale": "en-us", "url": "https://p.example.com"}]}}),
            ("/v3/locales", {"locale": {"code": "fr-fr", "name": "French", "fallback_locale": "en-us"}}),
            ("/v3/content_types", {"content_type": {"title": "Blog", "uid": "blog", "schema": [
                {"uid": "title", "data_type": "text", "display_name": "Title", "mandatory": True, "unique": True},
            ]}}),
        ]  # fmt: skip
        for path, body in seeds:
            r = c.post(path, json=body)
            if r.status_code < 300:
                w.harvest(r.json())
        for path in ("/v3/roles", "/v3/stacks/users"):
            r = c.get(path)
            if r.status_code == 200:
                w.harvest(r.json())
    w.pool |= {"production", "en-us", "fr-fr", "blog", "main"}
    yield w


def json_values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | ASCII
        | st.sampled_from(["", "en-us", "main"])
    )
    keys = st.sampled_from(VOCABULARY) | st.text(max_size=8)
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
        max_leaves=max_leaves,
    )


def hostile_json(max_depth: int) -> st.SearchStrategy[str]:
    """JSON texts that once made handlers fail with a 500: nesting past any limit (RecursionError
    from 1000 deep), numbers no float or 64-bit integer holds (OverflowError), unpaired surrogates
    (UnicodeEncodeError in the database driver)."""
    deep = st.integers(65, max_depth).flatmap(
        lambda n: st.sampled_from(["[" * n + "]" * n, '{"a": ' * n + "1" + "}" * n])
    )
    huge = st.sampled_from(
        ["1" + "0" * 400, "-1" + "0" * 400, "1e400", "-1e309", "9223372036854775808", "1" * 5000]
    )
    surrogate = st.integers(0xD800, 0xDFFF).map(lambda c: f'"x\\u{c:04x}"') | st.just('{"\\udc00": 1}')
    return deep | huge | surrogate


# Built once: constructing strategies per example costs more than the requests they make.
JSON = json_values()
HOSTILE = hostile_json(20_000)
# In the URL, shallower (past RecursionError's ~1000 still): 1,500 levels of `{"a": ` are 25 KB
# percent-encoded, within the server's max_url_bytes and httpx's 64 KiB.
HOSTILE_QUERY = hostile_json(1_500).map(lambda h: '{"title": ' + h + "}")
FIELDS = st.dictionaries(st.sampled_from(VOCABULARY) | st.text(max_size=8), JSON, max_size=6)
BODY_KINDS = st.sampled_from(
    ["envelope", "envelope", "envelope", "json", "hostile", "bytes", "multipart", "none"]
)
JSON_TYPES = st.sampled_from(["application/json", None, "multipart/form-data"])
BYTES_TYPES = st.sampled_from([None, "application/json", "text/plain"])
PART_NAMES = st.sampled_from(["content_type", "global_field", "asset[upload]", "file", "x"])
BOUNDARY = "fuzzboundary"
MULTIPART_TYPES = st.sampled_from([f"multipart/form-data; boundary={BOUNDARY}", "multipart/form-data", None])


def body_for(data: st.DataObject, op: dict[str, Any]) -> tuple[bytes | None, str | None]:
    """(body bytes, content type) for the operation: usually what it expects, sometimes anything."""
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    envelope = next(iter(schema.get("properties", {})), None)
    kind = data.draw(BODY_KINDS)
    if kind == "none":
        return None, None
    if kind == "bytes":
        return data.draw(st.binary(max_size=200)), data.draw(BYTES_TYPES)
    if kind == "multipart":
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{data.draw(PART_NAMES)}"; filename="f.json"\r\n'
            "Content-Type: application/json\r\n\r\n"
        )
        raw = head.encode() + data.draw(st.binary(max_size=100)) + f"\r\n--{BOUNDARY}--\r\n".encode()
        return raw, data.draw(MULTIPART_TYPES)
    if kind == "hostile":
        # inside the route's envelope, where a handler would otherwise read it
        inner = f'{{"{data.draw(st.sampled_from(VOCABULARY))}": {data.draw(HOSTILE)}}}'
        text = f'{{"{envelope}": {inner}}}' if envelope else inner
        return text.encode(), data.draw(JSON_TYPES)
    if kind == "envelope":
        fields = data.draw(FIELDS)
        value: Any = {envelope: fields} if envelope else fields
    else:
        value = data.draw(JSON)
    return json.dumps(value).encode(), data.draw(JSON_TYPES)


AUTH_CHOICE = st.sampled_from(["real", "real", "real", "real", "none", "junk"])
KEY_CHOICE = st.sampled_from(["real", "real", "real", "none", "junk"])
RARELY = st.integers(0, 9)
BRANCHES = st.sampled_from(["main", "development", ""]) | HEADER_TEXT
PICK = st.integers(0, 10**6) | st.none()
SEGMENT = st.text(min_size=1, max_size=30)


def headers_for(data: st.DataObject, w: World) -> dict[str, str]:
    headers: dict[str, str] = {}
    choice = data.draw(AUTH_CHOICE)
    if choice != "none":
        headers["authtoken"] = w.authtoken if choice == "real" else data.draw(HEADER_TEXT)
    choice = data.draw(KEY_CHOICE)
    if choice != "none":
        headers["api_key"] = w.api_key if choice == "real" else data.draw(HEADER_TEXT)
    if data.draw(RARELY) == 0:
        headers["authorization"] = data.draw(HEADER_TEXT)
    if data.draw(RARELY) == 0:
        headers["branch"] = data.draw(BRANCHES)
    return {k: v for k, v in headers.items() if v.strip() == v}


def path_for(data: st.DataObject, template: str, w: World) -> str:
    path = template
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        # an index, not sampled_from(pool): the pool grows, and strategies must not change under hypothesis
        known = sorted(w.pool)
        pick = data.draw(PICK, label=path[start:end])
        value = known[pick % len(known)] if pick is not None else data.draw(SEGMENT)
        path = path[:start] + quote(value, safe="") + path[end + 1 :]
    return path


def check(r: httpx.Response, method: str, path: str = "") -> str | None:
    """What is wrong with the answer, if anything."""
    if r.status_code >= 500:
        return f"status {r.status_code}"
    if 300 <= r.status_code < 400:
        return None  # a trailing-slash redirect from the router, answered without a body
    if not r.headers.get("x-request-id"):
        return "no X-Request-Id"
    if method == "HEAD" or r.status_code == 204:
        return None
    try:
        body = r.json()
    except ValueError:
        return f"status {r.status_code} with a non-JSON body"
    if r.status_code >= 400 and api_of_path(path) == "stackpath":
        if not isinstance(body, dict) or set(body) != STACKPATH or not isinstance(body["code"], int):
            return f"status {r.status_code} without StackPath's error body"
        return None
    if r.status_code >= 400 and r.request.url.path.startswith(ST2_PREFIXES):
        if not isinstance(body, dict) or not isinstance(body.get("faultstring"), str):
            return f"status {r.status_code} without StackStorm's faultstring body"
        return None
    if r.status_code >= 400:
        if not isinstance(body, dict) or not set(body) >= CANONICAL:
            return f"status {r.status_code} without the canonical error body"
        if not isinstance(body["error_code"], int) or not isinstance(body["error_message"], str):
            return f"status {r.status_code}: error_code/error_message of the wrong type"
    return None


def describe(
    method: str, path: str, params: dict[str, str], headers: dict[str, str], body: bytes | None
) -> str:
    shown = {k: ("<real>" if len(v) > 30 else v) for k, v in headers.items()}
    return f"{method} {path} params={params!r} headers={shown!r} body={body[:300] if body else body!r}"


def send(
    client: httpx.Client,
    w: World,
    method: str,
    path: str,
    params: dict[str, str],
    headers: dict[str, str],
    body: bytes | None,
    failures: dict[tuple[str, str, str], str],
    template: str,
) -> None:
    try:
        r = client.request(method, path, params=params, headers=headers, content=body)
    except httpx.HTTPError as e:
        failures.setdefault(
            (method, template, type(e).__name__), describe(method, path, params, headers, body)
        )
        return
    problem = check(r, method, path)
    if problem:
        key = (method, template, problem)
        failures.setdefault(
            key, f"{problem}: {describe(method, path, params, headers, body)} -> {r.text[:300]}"
        )
    if 200 <= r.status_code < 300 and method != "HEAD":
        try:
            w.harvest(r.json())
        except ValueError:
            pass
    # repair what the request may have ended: the session (logout, reset) or the stack (delete)
    if (
        headers.get("authtoken") == w.authtoken
        and r.status_code < 300
        and (method, template)
        == (
            "DELETE",
            "/v3/user-session",
        )
    ) or (headers.get("authtoken") == w.authtoken and r.status_code == 401):
        w.relogin()
    elif headers.get("api_key") == w.api_key and r.status_code == 412 and "authtoken" in headers:
        with w.live.client(authtoken=w.authtoken, api_key=w.api_key) as c:
            if c.get("/v3/stacks").status_code == 412:
                w.new_stack()


FUZZ = fuzz_settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def report(failures: dict[tuple[str, str, str], str]) -> str:
    return "\n".join(f"- {m} {p}: {detail}" for (m, p, _), detail in sorted(failures.items()))


def fuzz_operation(
    client: httpx.Client,
    w: World,
    template: str,
    method: str,
    op: dict[str, Any],
    failures: dict[tuple[str, str, str], str],
    examples: int,
) -> None:
    """`examples` random requests to one documented operation."""
    query_names = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]
    query = st.dictionaries(
        st.sampled_from(query_names + QUERY_NAMES) | st.text(max_size=6),
        ASCII | REGEX_QUERY | HOSTILE_QUERY,
        max_size=4,
    )

    @fuzz_settings(FUZZ, max_examples=examples)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        path = path_for(data, template, w)
        params = data.draw(query)
        headers = headers_for(data, w)
        body, content_type = body_for(data, op) if method in ("post", "put", "delete") else (None, None)
        if content_type:
            headers["content-type"] = content_type
        send(client, w, method.upper(), path, params, headers, body, failures, template)

    run()


def test_every_route_survives_random_requests(live: Live, world: World) -> None:
    with live.client() as c:
        doc = c.get("/openapi.json").json()
    failures: dict[tuple[str, str, str], str] = {}
    operations = [
        (template, method, op) for template, item in doc["paths"].items() for method, op in item.items()
    ]
    end = time.monotonic() + BUDGET
    per_example = 0.05  # seconds; measured as the run goes
    with live.client() as client:
        for done, (template, method, op) in enumerate(operations):
            # time left over by quick routes goes to the ones after them
            share = (end - time.monotonic()) / (len(operations) - done)
            examples = max(1, min(EXAMPLES, int(share / per_example)))
            started = time.monotonic()
            fuzz_operation(client, world, template, method, op, failures, examples)
            per_example = 0.7 * per_example + 0.3 * (time.monotonic() - started) / examples
    assert not failures, f"{len(failures)} bad answers:\n{report(failures)}"


def test_random_methods_and_paths(live: Live, world: World) -> None:
    with live.client() as c:
        templates = list(c.get("/openapi.json").json()["paths"])
    failures: dict[tuple[str, str, str], str] = {}
    segments = st.sampled_from(sorted({s for t in templates for s in t.split("/") if s and "{" not in s}))
    with live.client() as client:

        @fuzz_settings(FUZZ, max_examples=EXAMPLES * 10)
        @given(data=st.data())
        def run(data: st.DataObject) -> None:
            method = data.draw(st.sampled_from(METHODS))
            if data.draw(st.booleans()):
                path = path_for(data, data.draw(st.sampled_from(templates)), world)
            else:
                parts = data.draw(
                    st.lists(segments | st.text(min_size=1, max_size=12), min_size=0, max_size=5)
                )
                path = "/" + "/".join(quote(p, safe="") for p in parts)
            headers = headers_for(data, world)
            body = data.draw(
                st.none()
                | st.binary(max_size=100)
                | JSON.map(lambda v: json.dumps(v).encode())
                | HOSTILE.map(str.encode)
            )
            send(client, world, method, path, {}, headers, body, failures, path)

        run()
    assert not failures, f"{len(failures)} bad answers:\n{report(failures)}"


def test_hostile_regexes_never_fail_the_server(live: Live, world: World) -> None:
    failures: dict[tuple[str, str, str], str] = {}
    template = "/v3/content_types/blog/entries"
    with live.client() as client:

        @fuzz_settings(FUZZ, max_examples=EXAMPLES * 3)
        @given(query=REGEX_QUERY, extra=st.sampled_from([{}, {"include_count": "true"}, {"limit": "1"}]))
        def run(query: str, extra: dict[str, str]) -> None:
            headers = {"authtoken": world.authtoken, "api_key": world.api_key}
            send(client, world, "GET", template, {"query": query, **extra}, headers, None, failures, template)

        run()
    assert not failures, f"{len(failures)} bad answers:\n{report(failures)}"
