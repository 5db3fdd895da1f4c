"""What goes on the wire: headers, paths, params, retries, idempotency keys, pagination, no leaks.

The server side here is httpx's MockTransport recording each request, so these tests pin the SDK's
own behaviour (what it sends, how often, after which waits); the live tests cover the real server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackyard.client import ConnectionFailed
from stackyard.client.management import AsyncClient, Client
from stackyard.errors import Conflict, NotFound, RateLimited, ServerError


class Recorder:
    """A fake server: answers from a list (the last one repeats) and remembers every request."""

    def __init__(
        self, *answers: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]
    ) -> None:
        self.answers = list(answers) or [httpx.Response(200, json={})]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


def make(rec: Recorder, **kw: Any) -> tuple[Client, list[float]]:
    slept: list[float] = []
    client = Client(base_url="http://cms.test", transport=httpx.MockTransport(rec), **kw)
    client._transport.config.sleep = slept.append
    return client, slept


def test_endpoint_from_host_scheme_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Client(host="localhost:8080", scheme="http://").endpoint == "http://localhost:8080/v3/"
    assert Client(host="example.com").endpoint == "https://example.com/v3/"
    assert Client(host="contentstack.com", region="eu").endpoint == "https://eu-api.contentstack.com/v3/"
    assert Client(base_url="http://127.0.0.1:8080/").endpoint == "http://127.0.0.1:8080/v3/"
    assert Client(base_url="http://127.0.0.1:8080/v3").endpoint == "http://127.0.0.1:8080/v3/"
    assert Client(base_url="127.0.0.1:8080", scheme="http://").endpoint == "http://127.0.0.1:8080/v3/"
    monkeypatch.setenv("STACKYARD_URL", "http://elsewhere:9000")
    assert Client().endpoint == "http://elsewhere:9000/v3/"
    monkeypatch.delenv("STACKYARD_URL")
    assert Client().endpoint == "http://127.0.0.1:8080/v3/"


def test_credentials_and_stack_headers() -> None:
    rec = Recorder()
    client, _ = make(rec, authtoken="tok", headers={"x-extra": "1"}, early_access=["taxonomy", "x"])
    client.stack("KEY").environments().find()
    h = rec.requests[0].headers
    assert (h["authtoken"], h["api_key"], h["x-extra"], h["x-header-ea"]) == (
        "tok",
        "KEY",
        "1",
        "taxonomy, x",
    )
    assert "authorization" not in h
    mrec = Recorder()
    mclient, _ = make(mrec, management_token="cs123")
    mclient.stack("KEY").fetch()
    assert mrec.requests[0].headers["authorization"] == "cs123"  # verbatim, no "Bearer"


def test_headers_never_leak_between_objects() -> None:
    rec = Recorder()
    client, _ = make(rec)
    a = client.stack("A")
    ct = a.content_types("blog", branch="dev")
    ct.add_header("x-only-here", "1")
    client.stack("B").content_types("blog").fetch()  # another stack: no api_key A, no branch, no x-only-here
    a.content_types("blog").fetch()  # same stack, new object: no branch
    ct.entry("e1").fetch()  # derived after add_header: inherits branch and the header
    first, second, third = (r.headers for r in rec.requests)
    assert first["api_key"] == "B" and "branch" not in first and "x-only-here" not in first
    assert second["api_key"] == "A" and "branch" not in second
    assert third["api_key"] == "A" and third["branch"] == "dev" and third["x-only-here"] == "1"


def test_params_belong_to_one_object_and_the_seed_style_works() -> None:
    rec = Recorder()
    client, _ = make(rec)
    query = client.stack("K").content_types("blog").entry()
    query.add_param("limit", 2)
    query.add_param_dict({"skip": 4, "include_count": True, "query": {"title": "a b"}})
    query.find()
    client.stack("K").content_types("blog").entry().find()
    params = rec.requests[0].url.params
    assert (params["limit"], params["skip"], params["include_count"]) == ("2", "4", "true")
    assert json.loads(params["query"]) == {"title": "a b"}
    assert rec.requests[1].url.params == httpx.QueryParams()


def test_path_segments_are_quoted() -> None:
    rec = Recorder()
    client, _ = make(rec)
    client.stack("K").environments("my env/x?y").fetch()
    client.stack("K").locale("fr-fr").fetch()
    assert rec.requests[0].url.raw_path == b"/v3/environments/my%20env%2Fx%3Fy"
    assert rec.requests[1].url.path == "/v3/locales/fr-fr"


@pytest.mark.parametrize("bad", ["", "   ", None, ".", "..", 3.5, True])
def test_bad_ids_fail_before_any_io(bad: Any) -> None:
    rec = Recorder()
    client, _ = make(rec)
    with pytest.raises(ValueError):
        if bad is None:
            client.stack("K").environments().fetch()
        else:
            client.stack("K").environments(bad).fetch()
    with pytest.raises(ValueError):
        client.stack("K").content_types("ct").entry(bad if bad is not None else "").delete()
    assert rec.requests == []


def test_bodies_and_required_args_checked_before_io() -> None:
    rec = Recorder()
    client, _ = make(rec)
    with pytest.raises(ValueError):
        client.stack("K").environments().create("not a dict")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.stack().fetch()  # no api_key
    with pytest.raises(ValueError):
        client.stack("K").content_types().entry()  # entries need a content type
    with pytest.raises(ValueError):
        client.stack("K").content_types().imports("/no/such/file.json")
    with pytest.raises(ValueError):
        client.login("", "pw")
    assert rec.requests == []


def test_official_call_shapes_on_the_wire(tmp_path: Any) -> None:
    rec = Recorder()
    client, _ = make(rec)
    s = client.stack("K")
    s.content_types().find()
    s.content_types("ct").delete()
    s.content_types("ct").entry().create({"entry": {"title": "t"}})
    s.content_types("ct").entry("e").delete()
    s.accept_ownership("u1", "tok")
    client.stack().create("org1", {"stack": {"name": "n"}})
    client.stack("K").find()
    f = tmp_path / "ct.json"
    f.write_text('{"uid": "x"}')
    s.content_types().imports(str(f))
    got = [(r.method, r.url.path, dict(r.url.params)) for r in rec.requests]
    assert got[0] == (
        "GET",
        "/v3/content_types",
        {"include_count": "false", "include_global_field_schema": "true", "include_branch": "false"},
    )
    assert got[1] == ("DELETE", "/v3/content_types/ct", {"force": "true"})
    assert got[2] == ("POST", "/v3/content_types/ct/entries", {"locale": "en-us"})
    assert json.loads(rec.requests[2].content) == {"entry": {"title": "t"}}
    assert got[3] == ("DELETE", "/v3/content_types/ct/entries/e", {"force": "true"})
    assert got[4] == ("GET", "/v3/stacks/accept_ownership/tok", {"api_key": "K", "uid": "u1"})
    assert rec.requests[5].headers["organization_uid"] == "org1" and "api_key" not in rec.requests[5].headers
    assert "api_key" not in rec.requests[6].headers  # find lists stacks, so no api_key
    imp = rec.requests[7]
    assert imp.url.path == "/v3/content_types/import"
    assert imp.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="content_type"; filename="ct.json"' in imp.content


def test_extension_upload_sends_the_official_fields(tmp_path: Any) -> None:
    rec = Recorder()
    client, _ = make(rec)
    page = tmp_path / "demo.html"
    page.write_text("<p>hi</p>")
    data = {
        "file_path": str(page),
        "title": "Ext",
        "data_type": "text",
        "type": "dashboard",
        "multiple": False,
        "tags": {},
    }
    client.stack("K").extension().upload(data)
    sent = rec.requests[0].content
    assert b'name="extension[upload]"; filename="demo.html"' in sent and b"<p>hi</p>" in sent
    for name, value in [("title", b"Ext"), ("type", b"dashboard"), ("multiple", b"False"), ("tags", b"{}")]:
        assert f'name="extension[{name}]"'.encode() + b"\r\n\r\n" + value in sent


def test_retries_transient_errors_with_one_idempotency_key() -> None:
    rec = Recorder(
        httpx.Response(503, json={"error_message": "busy", "error_code": 500}),
        httpx.Response(
            429, json={"error_message": "Too many requests", "error_code": 429}, headers={"Retry-After": "2"}
        ),
        httpx.Response(201, json={"environment": {"name": "x"}}),
    )
    client, slept = make(rec, max_retries=3)
    r = client.stack("K").environments().create({"environment": {"name": "x"}})
    assert r.status_code == 201 and r.json()["environment"]["name"] == "x"
    assert len(rec.requests) == 3
    assert slept[1] == 2.0 and 0 < slept[0] <= 0.5
    keys = {req.headers["idempotency-key"] for req in rec.requests}
    assert len(keys) == 1 and len(keys.pop()) == 36


def test_gets_carry_no_idempotency_key_and_permanent_errors_are_not_retried() -> None:
    rec = Recorder(
        httpx.Response(422, json={"error_message": "gone", "error_code": 141, "errors": {"uid": ["x"]}})
    )
    client, slept = make(rec, max_retries=5)
    with pytest.raises(NotFound) as err:
        client.stack("K").environments("x").fetch()
    assert len(rec.requests) == 1 and slept == []
    assert "idempotency-key" not in rec.requests[0].headers
    assert err.value.errors == {"uid": ["x"]}


def test_gives_up_after_max_retries_with_the_last_error() -> None:
    rec = Recorder(
        httpx.Response(
            429, json={"error_message": "slow down", "error_code": 429}, headers={"Retry-After": "1"}
        )
    )
    client, slept = make(rec, max_retries=2)
    with pytest.raises(RateLimited) as err:
        client.user().fetch()
    assert len(rec.requests) == 3 and slept == [1.0, 1.0]
    assert err.value.retry_after == 1.0


def test_duplicate_conflict_is_not_retried() -> None:
    rec = Recorder(httpx.Response(409, json={"error_message": "dup", "error_code": 163}))
    client, _ = make(rec, max_retries=3)
    with pytest.raises(Conflict):
        client.stack("K").environments().create({"environment": {"name": "x"}})
    assert len(rec.requests) == 1


def test_connection_errors_are_retried_then_raised() -> None:
    rec = Recorder(httpx.ConnectError("refused"))
    client, slept = make(rec, max_retries=2)
    with pytest.raises(ConnectionFailed):
        client.user().fetch()
    assert len(rec.requests) == 3 and len(slept) == 2
    ok = Recorder(httpx.ReadTimeout("slow"), httpx.Response(200, json={"user": {}}))
    client, _ = make(ok, max_retries=1)
    assert client.user().fetch().json() == {"user": {}}


def test_login_keeps_the_token_only_on_200() -> None:
    rec = Recorder(
        httpx.Response(200, json={"user": {"authtoken": "new"}}), httpx.Response(200, json={"user": {}})
    )
    client, _ = make(rec)
    client.login("a@b.c", "pw", tfa_token="123456")
    assert json.loads(rec.requests[0].content) == {
        "user": {"email": "a@b.c", "password": "pw", "tfa_token": "123456"}
    }
    client.user().fetch()
    assert rec.requests[1].headers["authtoken"] == "new"
    created = Recorder(httpx.Response(201, json={"user": {"authtoken": "nope"}}))
    other, _ = make(created)
    other.login("a@b.c", "pw")
    assert other.authtoken is None


def test_login_with_mfa_secret_sends_a_totp() -> None:
    rec = Recorder(httpx.Response(200, json={"user": {"authtoken": "t"}}))
    client, _ = make(rec)
    client.login("a@b.c", "pw", mfa_secret="JBSWY3DPEHPK3PXPJBSWY3DP")
    code = json.loads(rec.requests[0].content)["user"]["tfa_token"]
    assert len(code) == 6 and code.isdigit()


def test_iterate_fetches_pages_lazily() -> None:
    def page(request: httpx.Request) -> httpx.Response:
        skip, limit = int(request.url.params["skip"]), int(request.url.params["limit"])
        names = [f"env{i}" for i in range(5)][skip : skip + limit]
        return httpx.Response(200, json={"environments": [{"name": n} for n in names], "count": 5})

    rec = Recorder(page)
    client, _ = make(rec)
    it = client.stack("K").environments().iterate(page_size=2)
    assert rec.requests == []  # nothing fetched until asked
    assert next(it) == {"name": "env0"} and len(rec.requests) == 1
    assert [e["name"] for e in it] == ["env1", "env2", "env3", "env4"]
    assert [(r.url.params["skip"], r.url.params["limit"]) for r in rec.requests] == [
        ("0", "2"),
        ("2", "2"),
        ("4", "2"),
    ]
    assert rec.requests[0].url.params["include_count"] == "true"


def test_iterate_without_a_count_reads_until_an_empty_page_even_if_the_server_caps_limit() -> None:
    def capped(request: httpx.Request) -> httpx.Response:
        skip = int(request.url.params["skip"])  # the server ignores our limit and sends 2 at most
        return httpx.Response(200, json={"stacks": [{"n": i} for i in range(7)][skip : skip + 2]})

    rec = Recorder(capped)
    client, _ = make(rec)
    assert [s["n"] for s in client.stack().iterate(page_size=50)] == list(range(7))
    assert [r.url.params["skip"] for r in rec.requests] == ["0", "2", "4", "6", "7"]


def test_server_errors_raise_even_without_a_json_body() -> None:
    rec = Recorder(httpx.Response(500, text="oops"))
    client, _ = make(rec, max_retries=0)
    with pytest.raises(ServerError):
        client.stack("K").fetch()


def test_async_client_sends_the_same_requests() -> None:
    def page(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("user-session"):
            return httpx.Response(200, json={"user": {"authtoken": "atok"}})
        if request.url.path.endswith("/missing"):
            return httpx.Response(422, json={"error_message": "no", "error_code": 141})
        skip = int(request.url.params.get("skip", 0))
        return httpx.Response(200, json={"environments": [{"name": f"e{skip}"}] if skip < 3 else []})

    rec = Recorder(page)

    async def main() -> list[str]:
        async with AsyncClient(base_url="http://cms.test", transport=httpx.MockTransport(rec)) as client:
            await client.login("a@b.c", "pw")
            r = await client.stack("K").environments().find()
            assert r.json()["environments"] == [{"name": "e0"}]
            with pytest.raises(NotFound):
                await client.stack("K").environments("missing").fetch()
            return [e["name"] async for e in client.stack("K").environments().iterate(page_size=1)]

    assert asyncio.run(main()) == ["e0", "e1", "e2"]
    assert all(r.headers.get("authtoken") == "atok" for r in rec.requests[1:])


@pytest.mark.parametrize("total", [1, 3, 60])
def test_iterate_stops_when_the_server_ignores_skip_and_limit(total: int) -> None:
    rec = Recorder(httpx.Response(200, json={"stacks": [{"n": i} for i in range(total)]}))
    client, _ = make(rec)
    assert [s["n"] for s in client.stack().iterate(page_size=50)] == list(range(total))
    assert len(rec.requests) <= 2


def test_a_post_lost_after_sending_is_not_repeated_but_an_unsent_one_is() -> None:
    lost = Recorder(httpx.ReadTimeout("no answer"), httpx.Response(201, json={}))
    client, _ = make(lost, max_retries=3)
    with pytest.raises(ConnectionFailed):
        client.stack("K").environments().create({"environment": {"name": "x"}})
    assert len(lost.requests) == 1
    unsent = Recorder(httpx.ConnectError("refused"), httpx.Response(201, json={"environment": {}}))
    client, _ = make(unsent, max_retries=3)
    assert client.stack("K").environments().create({"environment": {"name": "x"}}).status_code == 201
    assert len(unsent.requests) == 2
    crashed = Recorder(httpx.Response(502, text="bad gateway"), httpx.Response(201, json={}))
    client, _ = make(crashed, max_retries=3)
    with pytest.raises(ServerError):
        client.stack("K").environments().create({"environment": {"name": "x"}})
    assert len(crashed.requests) == 1


def test_an_upload_leaves_no_content_type_behind(tmp_path: Any) -> None:
    # the official SDK drops or overwrites Content-Type for good after uploads and imports (§1.4)
    rec = Recorder()
    client, _ = make(rec)
    stack = client.stack("K")
    f = tmp_path / "x.json"
    f.write_text("{}")
    stack.assets().upload(str(f))
    stack.content_types().imports(str(f))
    stack.content_types("ct").entry().create({"entry": {"title": "t"}})
    stack.webhooks("w").delete()
    stack.environments().create({"environment": {"name": "e"}})
    kinds = [r.headers.get("content-type", "") for r in rec.requests]
    assert kinds[0].startswith("multipart/form-data; boundary=") and kinds[1].startswith(
        "multipart/form-data; boundary="
    )
    assert kinds[2] == kinds[4] == "application/json"
    assert kinds[3] == ""  # a DELETE with no body says nothing about one


@given(uid=st.text(min_size=1).filter(lambda s: s.strip() and s not in (".", "..")))
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_id_travels_as_exactly_one_path_segment(uid: str) -> None:
    rec = Recorder()
    client, _ = make(rec)
    client.stack("K").content_types(uid).entry("e1").fetch()
    raw = rec.requests[0].url.raw_path.decode("ascii").split("?")[0]
    parts = raw.split("/")
    assert parts[:3] == ["", "v3", "content_types"] and parts[4:] == ["entries", "e1"]
    assert unquote(parts[3]) == uid
