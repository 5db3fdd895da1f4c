"""Environments over HTTP: CRUD by name, validation, isolation between stacks."""

from __future__ import annotations

from tests.conftest import Live, make_user


def test_environment_lifecycle(cma) -> None:
    # given a new environment with a URL for the master locale
    r = cma.post(
        "/v3/environments",
        json={
            "environment": {"name": "staging", "urls": [{"locale": "en-us", "url": "https://s.example.com"}]}
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "Environment created successfully."
    created = r.json()["environment"]
    assert created["urls"] == [{"locale": "en-us", "url": "https://s.example.com"}]
    # when it is fetched by name, renamed, and listed
    assert cma.get("/v3/environments/staging").json()["environment"]["uid"] == created["uid"]
    r = cma.put("/v3/environments/staging", json={"environment": {"name": "stage"}})
    assert r.status_code == 200 and r.json()["environment"]["_version"] == 2
    names = [
        e["name"]
        for e in cma.get("/v3/environments", params={"include_count": "true"}).json()["environments"]
    ]
    assert names == ["stage"]
    # then the old name is gone and delete removes the new one
    assert cma.get("/v3/environments/staging").status_code == 422
    assert cma.delete("/v3/environments/stage").json() == {"notice": "Environment deleted successfully."}
    assert cma.get("/v3/environments").json()["environments"] == []


def test_environment_validation_names_the_field(cma) -> None:
    r = cma.post(
        "/v3/environments", json={"environment": {"name": "", "urls": [{"locale": "xx-yy", "url": "u"}]}}
    )
    assert r.status_code == 422
    body = r.json()
    assert set(body) >= {"error_message", "error_code", "errors"}
    assert "name" in body["errors"] and "urls.0.locale" in body["errors"]
    assert cma.get("/v3/environments").json()["environments"] == []


def test_duplicate_environment_is_refused(cma) -> None:
    assert cma.post("/v3/environments", json={"environment": {"name": "prod"}}).status_code == 201
    r = cma.post("/v3/environments", json={"environment": {"name": "prod"}})
    assert r.status_code == 409 and r.json()["errors"] == {"name": ["is not unique."]}


def test_body_without_content_type_is_read_as_json(live: Live, owner, api_key) -> None:
    # the management SDK sends JSON with no Content-Type after an upload (catalogue §1.4)
    with live.client(authtoken=owner.authtoken, api_key=api_key) as c:
        r = c.post(
            "/v3/environments", content=b'{"environment": {"name": "bare"}}', headers={"content-type": ""}
        )
        assert r.status_code == 201, r.text
        r = c.post(
            "/v3/environments",
            content=b'{"environment": {"name": "multi"}}',
            headers={"content-type": "multipart/form-data"},
        )
        assert r.status_code == 201, r.text


def test_other_organizations_stack_is_not_found(live: Live, cma, api_key) -> None:
    cma.post("/v3/environments", json={"environment": {"name": "secret"}})
    stranger = make_user(live, "stranger@example.com")
    with live.client(authtoken=stranger.authtoken, api_key=api_key) as c:
        r = c.get("/v3/environments/secret")
        assert r.status_code == 412
        assert "secret" not in r.text
