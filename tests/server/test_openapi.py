"""GET /openapi.json describes exactly the registered routes, with their parameters, bodies and errors."""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from schemathesis.core.result import Ok

from stackyard.server.app import all_routers
from tests.conftest import Live


def fetch_doc(live: Live) -> dict[str, Any]:
    with live.client() as c:
        r = c.get("/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.headers.get("x-request-id")
    return dict(r.json())


def param_names(doc: dict[str, Any], op: dict[str, Any], where: str) -> set[str]:
    names = set()
    for p in op.get("parameters", []):
        if "$ref" in p:
            p = doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[-1]]
        if p["in"] == where:
            names.add(p["name"])
    return names


def test_every_registered_route_is_documented(live: Live) -> None:
    doc = fetch_doc(live)
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] == "Stackyard"
    registered = {(m.lower(), p) for router in all_routers() for (m, p, _) in router.routes}
    documented = {(m, p) for p, item in doc["paths"].items() for m in item}
    assert registered | {("get", "/healthz"), ("get", "/openapi.json")} == documented
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for path, item in doc["paths"].items():
        for op in item.values():
            assert param_names(doc, op, "path") == set(re.findall(r"{(\w+)}", path)), path


def test_parameters_and_bodies_follow_the_handlers(live: Live) -> None:
    doc = fetch_doc(live)
    paths = doc["paths"]
    login = paths["/v3/user-session"]["post"]
    assert param_names(doc, login, "header") == set()
    body = login["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["user"] and body["properties"]["user"]["type"] == "object"
    user = paths["/v3/user"]["get"]
    assert {"authtoken", "authorization"} <= param_names(doc, user, "header")
    assert "api_key" not in param_names(doc, user, "header")
    envs = paths["/v3/environments"]["get"]
    assert {"api_key", "authtoken", "authorization", "branch"} <= param_names(doc, envs, "header")
    api_key = next(p for p in envs["parameters"] if p.get("name") == "api_key")
    assert api_key["required"] is True
    assert {"skip", "limit", "include_count"} <= param_names(doc, envs, "query")
    create = paths["/v3/environments"]["post"]
    assert "201" in create["responses"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["required"] == ["environment"]
    assert "requestBody" not in paths["/v3/environments/{name}"]["delete"]
    share = paths["/v3/organizations/{org_uid}/share"]["post"]
    assert share["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"


def test_errors_are_documented_with_the_canonical_body(live: Live) -> None:
    doc = fetch_doc(live)
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error_message", "error_code", "errors"}
    for path, item in doc["paths"].items():
        if path.startswith("/v3/"):
            for op in item.values():
                for status in ("400", "401", "422", "429"):
                    assert op["responses"][status] == {"$ref": f"#/components/responses/{status}"}


def test_schemathesis_reads_the_document(live: Live) -> None:
    doc = fetch_doc(live)
    schema = schemathesis.openapi.from_dict(doc)
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results)
    assert len(results) == sum(len(item) for item in doc["paths"].values())


def test_every_operation_declares_the_statuses_and_headers_the_server_answers(live: Live) -> None:
    doc = fetch_doc(live)
    components = doc["components"]

    def resolve(obj: dict[str, Any], kind: str) -> dict[str, Any]:
        return dict(components[kind][obj["$ref"].rsplit("/", 1)[-1]]) if "$ref" in obj else obj

    def header_names(response: dict[str, Any], required: bool = False) -> set[str]:
        headers = response.get("headers", {})
        return {n for n, h in headers.items() if not required or resolve(h, "headers").get("required")}

    everywhere = {"400", "401", "403", "404", "405", "413", "422", "429", "500"}
    for path, item in doc["paths"].items():
        if not path.startswith("/v3/"):
            continue
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            responses = {status: resolve(r, "responses") for status, r in op["responses"].items()}
            expected = everywhere | ({"415"} if "requestBody" in op else set())
            assert expected <= set(responses), where
            for status, response in responses.items():
                # every answer carries the request id, whatever its status
                assert "X-Request-Id" in header_names(response, required=True), (where, status)
            assert {"Retry-After"} <= header_names(responses["429"], required=True), where
            assert {"X-RateLimit-Limit", "X-RateLimit-Remaining"} <= header_names(responses["429"]), where
            assert "Allow" in header_names(responses["405"], required=True), where
            success = next(r for s, r in responses.items() if s.startswith("2"))
            assert {"X-RateLimit-Limit", "X-RateLimit-Remaining"} <= header_names(success), where
