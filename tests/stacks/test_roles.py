"""Stack roles over HTTP: built-in roles, custom roles with validated rules, who may manage them."""

from __future__ import annotations

from tests.access.helpers import custom_role, member, role_uid
from tests.conftest import Live

READ_STAGING = [{"module": "environment", "environments": ["staging"], "acl": {"read": True}}]


def test_every_stack_has_three_builtin_roles_that_cannot_change(cma) -> None:
    # given a new stack
    roles = cma.get("/v3/roles", params={"include_count": "true"}).json()
    assert [r["name"] for r in roles["roles"]] == ["Admin", "Developer", "Content Manager"]
    assert roles["count"] == 3
    admin = roles["roles"][0]
    assert admin["admin"] is True and admin["default"] is True and admin["users"] == []
    # when a built-in role is edited or deleted, then it is refused and unchanged
    r = cma.put(f"/v3/roles/{admin['uid']}", json={"role": {"name": "Boss"}})
    assert r.status_code == 422 and r.json()["errors"] == {"uid": ["is a built-in role."]}
    assert cma.delete(f"/v3/roles/{admin['uid']}").status_code == 422
    assert cma.get(f"/v3/roles/{admin['uid']}").json()["role"]["name"] == "Admin"


def test_custom_role_lifecycle(cma) -> None:
    cma.post("/v3/environments", json={"environment": {"name": "staging"}})
    env_uid = cma.get("/v3/environments/staging").json()["environment"]["uid"]
    # given a role whose rules name an environment by name, a locale and every content type
    r = cma.post(
        "/v3/roles",
        json={
            "role": {
                "name": "Reviewer",
                "description": "reads staging",
                "rules": [
                    *READ_STAGING,
                    {"module": "locale", "locales": ["EN-US"], "acl": {"read": True}},
                    {
                        "module": "content_type",
                        "content_types": ["$all"],
                        "acl": {"read": True, "sub_acl": {"read": True, "update": True}},
                    },
                    {"module": "branch", "branches": ["main"], "acl": {"read": True}},
                ],
            }
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "The role created successfully."
    role = r.json()["role"]
    # then environments are stored by uid and locale codes in lower case
    assert role["rules"][0] == {"module": "environment", "environments": [env_uid], "acl": {"read": True}}
    assert role["rules"][1]["locales"] == ["en-us"]
    assert role["admin"] is False and role["default"] is False
    # when it is renamed, its rules kept
    r = cma.put(f"/v3/roles/{role['uid']}", json={"role": {"name": "Staging reviewer"}})
    assert r.status_code == 200 and r.json()["notice"] == "The role updated successfully."
    assert r.json()["role"]["rules"] == role["rules"]
    assert [x["name"] for x in cma.get("/v3/roles").json()["roles"]][-1] == "Staging reviewer"
    # then delete removes it
    assert cma.delete(f"/v3/roles/{role['uid']}").json() == {"notice": "The role deleted successfully."}
    assert cma.get(f"/v3/roles/{role['uid']}").status_code == 422


def test_rules_are_validated_and_nothing_is_written(cma) -> None:
    r = cma.post(
        "/v3/roles",
        json={
            "role": {
                "name": "Bad",
                "rules": [
                    {"module": "environment", "environments": ["nowhere"], "acl": {"read": True}},
                    {"module": "locale", "locales": ["xx-yy"], "acl": {"read": True}},
                    {"module": "stack_user", "acl": {"read": True}},
                    {"module": "asset", "assets": "$all", "acl": {"read": True}},
                    {"module": "asset", "assets": ["$all"], "acl": {"read": "yes", "fly": True}},
                ],
            }
        },
    )
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert set(errors) == {
        "rules.0.environments.0",
        "rules.1.locales.0",
        "rules.2.module",
        "rules.3.assets",
        "rules.4.acl.read",
        "rules.4.acl.fly",
    }
    assert len(cma.get("/v3/roles").json()["roles"]) == 3
    assert cma.post("/v3/roles", json={"role": {"rules": []}}).json()["errors"] == {"name": ["is required."]}
    assert cma.post("/v3/roles", json={"role": {"name": "x", "rules": {}}}).status_code == 422
    assert cma.post("/v3/roles", json={"role": "x"}).status_code == 422


def test_duplicate_role_name_is_refused(cma) -> None:
    custom_role(cma, "Editors", [])
    r = cma.post("/v3/roles", json={"role": {"name": "editors", "rules": []}})
    assert r.status_code == 409 and r.json()["errors"] == {"name": ["is not unique."]}
    assert cma.post("/v3/roles", json={"role": {"name": "Admin"}}).status_code == 409


def test_role_in_use_is_not_deleted_without_force(live: Live, cma) -> None:
    cma.post("/v3/environments", json={"environment": {"name": "staging"}})
    reviewer = custom_role(cma, "Reviewer", READ_STAGING)
    # given a user whose only role is the custom role, and one who also holds Developer
    only = member(live, cma, "only@example.com", "Reviewer")
    both = member(live, cma, "both@example.com", "Reviewer", "Developer")
    role = cma.get(f"/v3/roles/{reviewer}").json()["role"]
    assert sorted(role["users"]) == sorted([only.uid, both.uid])
    # when it is deleted without force, then it is refused and names its holders
    r = cma.delete(f"/v3/roles/{reviewer}")
    assert r.status_code == 422 and r.json()["error_code"] == 164
    assert sorted(r.json()["errors"]["users"]) == sorted([only.uid, both.uid])
    # when deleted with force, the grants go; the user left with nothing is unshared
    assert cma.delete(f"/v3/roles/{reviewer}", params={"force": "true"}).status_code == 200
    users = {u["email"]: u["roles"] for u in cma.get("/v3/stacks/users").json()["users"]}
    assert "only@example.com" not in users
    assert users["both@example.com"] == [role_uid(cma, "Developer")]
    with live.client(authtoken=only.authtoken, api_key=cma.headers["api_key"]) as c:
        assert c.get("/v3/environments").status_code == 412


def test_only_owners_and_admins_manage_roles(live: Live, cma) -> None:
    admin = member(live, cma, "admin@example.com", "Admin")
    dev = member(live, cma, "dev@example.com", "Developer")
    api_key = cma.headers["api_key"]
    with live.client(authtoken=dev.authtoken, api_key=api_key) as c:
        # a developer reads roles but cannot create them
        assert c.get("/v3/roles").status_code == 200
        r = c.post("/v3/roles", json={"role": {"name": "Mine", "rules": []}})
        assert r.status_code == 403
    with live.client(authtoken=admin.authtoken, api_key=api_key) as c:
        assert c.post("/v3/roles", json={"role": {"name": "Theirs", "rules": []}}).status_code == 201


def test_custom_role_grants_what_its_rules_say(live: Live, cma) -> None:
    for name in ("staging", "production"):
        cma.post("/v3/environments", json={"environment": {"name": name}})
    custom_role(cma, "Reviewer", READ_STAGING)
    reviewer = member(live, cma, "reviewer@example.com", "Reviewer")
    with live.client(authtoken=reviewer.authtoken, api_key=cma.headers["api_key"]) as c:
        # then the list holds only the granted environment, and the other one is forbidden
        assert [e["name"] for e in c.get("/v3/environments").json()["environments"]] == ["staging"]
        assert c.get("/v3/environments/staging").status_code == 200
        assert c.get("/v3/environments/production").status_code == 403
        assert c.put("/v3/environments/staging", json={"environment": {"name": "s2"}}).status_code == 403
