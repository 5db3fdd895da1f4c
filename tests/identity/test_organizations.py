"""Organizations over HTTP: find, fetch, roles, stacks, sharing, ownership transfer, logs and isolation."""

from __future__ import annotations

from typing import Any

import httpx

from tests.access.helpers import accept_invitation
from tests.conftest import Live, User, make_user
from tests.identity.conftest import mailed_token

ORG_FIELDS = {
    "uid",
    "name",
    "plan_id",
    "owner_uid",
    "expires_on",
    "enabled",
    "is_over_usage_allowed",
    "created_at",
    "updated_at",
    "settings",
}


def role_uid(live: Live, api_key: str, kind: str) -> str:
    with live.db.read() as tx:
        return str(tx.scalar("SELECT uid FROM roles WHERE api_key = ? AND kind = ?", api_key, kind))


def share(c: httpx.Client, org_uid: str, body: dict) -> httpx.Response:
    return c.post(f"/v3/organizations/{org_uid}/share", json={"share": body})


def test_find_and_fetch_show_only_the_callers_organizations(live: Live, owner: User) -> None:
    stranger = make_user(live, "stranger@example.com")
    with live.client(authtoken=owner.authtoken) as c:
        orgs = c.get("/v3/organizations").json()["organizations"]
        assert [o["uid"] for o in orgs] == [owner.org_uid]
        assert set(orgs[0]) >= ORG_FIELDS and orgs[0]["owner_uid"] == owner.uid
        r = c.get(f"/v3/organizations/{owner.org_uid}")
        assert r.status_code == 200 and r.json()["organization"]["name"] == "owner@example.com's org"
        # another organization does not exist for this caller, whatever the sub-resource
        for suffix in ("", "/roles", "/stacks", "/logs"):
            r = c.get(f"/v3/organizations/{stranger.org_uid}{suffix}")
            assert r.status_code == 422, suffix
            assert r.json()["error_code"] == 141
            assert "stranger" not in r.text
        r = share(c, stranger.org_uid, {"users": {"x@example.com": ["member"]}})
        assert r.status_code == 422 and "stranger" not in r.text
        r = c.post(
            f"/v3/organizations/{stranger.org_uid}/transfer-ownership", json={"transfer_to": owner.email}
        )
        assert r.status_code == 422
    with live.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) AS n FROM users WHERE email = 'x@example.com'") == 0
        assert (
            tx.scalar("SELECT owner_uid FROM organizations WHERE uid = ?", stranger.org_uid) == stranger.uid
        )
    with live.client() as c:
        assert c.get("/v3/organizations").status_code == 401


def test_share_adds_existing_users_with_org_and_stack_roles(live: Live, owner: User, api_key: str) -> None:
    # given an existing user from elsewhere and a stack in the owner's organization
    dev = make_user(live, "dev@example.com", org=False)
    developer = role_uid(live, api_key, "developer")
    with live.client(authtoken=owner.authtoken) as c:
        # when the owner shares the organization and the stack with them
        r = share(
            c,
            owner.org_uid,
            {
                "users": {"Dev@Example.com": ["member"], "boss@example.com": ["admin"]},
                "stacks": {"dev@example.com": {api_key: [developer]}, "boss@example.com": {}},
                "message": "Join us",
            },
        )
        assert r.status_code == 200, r.text
        shares = {s["email"]: s for s in r.json()["shares"]}
        assert set(shares) == {"dev@example.com", "boss@example.com"}
        # then the answer shows nothing of either account, and both wait
        assert all("user_uid" not in s and s["status"] == "pending" for s in shares.values())
        assert dev.uid not in r.text
        assert shares["dev@example.com"]["stacks"] == {api_key: [developer]}
        assert shares["boss@example.com"]["org_roles"] == ["admin"]
        # and the existing user from elsewhere is not in the organization before accepting
        roles = {
            role["uid"]: role for role in c.get(f"/v3/organizations/{owner.org_uid}/roles").json()["roles"]
        }
        assert set(roles) == {"admin", "member"}
        assert roles["member"]["users"] == [] and len(roles["admin"]["users"]) == 1
    with live.client(authtoken=dev.authtoken) as c:
        assert c.get("/v3/organizations").json()["organizations"] == []
    # when they accept the mailed invitation
    assert accept_invitation(live, dev) == {
        "uid": shares["dev@example.com"]["uid"],
        "org_uid": owner.org_uid,
        "org_roles": ["member"],
        "stacks": [api_key],
    }
    with live.client(authtoken=owner.authtoken) as c:
        roles = {
            role["uid"]: role for role in c.get(f"/v3/organizations/{owner.org_uid}/roles").json()["roles"]
        }
        assert roles["member"]["users"] == [dev.uid]
    # then the existing user sees the organization and exactly the shared stack
    with live.client(authtoken=dev.authtoken) as c:
        assert [o["uid"] for o in c.get("/v3/organizations").json()["organizations"]] == [owner.org_uid]
        stacks = c.get(f"/v3/organizations/{owner.org_uid}/stacks").json()["stacks"]
        assert [s["api_key"] for s in stacks] == [api_key]
        assert c.get("/v3/stacks", headers={"api_key": api_key}).status_code == 200
        # and, being a member, may not invite or read the organization's logs
        r = share(c, owner.org_uid, {"users": {"friend@example.com": ["admin"]}})
        assert r.status_code == 403
        assert c.get(f"/v3/organizations/{owner.org_uid}/logs").status_code == 403
    # the existing user got an invitation, the new one an activation token
    assert mailed_token(live.db, "boss@example.com", "act")
    with live.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) AS n FROM outbox WHERE to_addr = 'dev@example.com'") == 1


def test_member_without_stack_roles_sees_no_stacks(live: Live, owner: User, api_key: str) -> None:
    member = make_user(live, "member@example.com", org=False)
    with live.client(authtoken=owner.authtoken) as c:
        assert share(c, owner.org_uid, {"users": {member.email: []}}).status_code == 200
    accept_invitation(live, member)
    with live.client(authtoken=owner.authtoken) as c:
        assert [
            s["api_key"] for s in c.get(f"/v3/organizations/{owner.org_uid}/stacks").json()["stacks"]
        ] == [api_key]
    with live.client(authtoken=member.authtoken) as c:
        assert c.get(f"/v3/organizations/{owner.org_uid}/stacks").json() == {"stacks": []}
        assert c.get("/v3/stacks", headers={"api_key": api_key}).status_code == 412


def test_share_validates_everything_before_writing(live: Live, owner: User, api_key: str) -> None:
    other = make_user(live, "other@example.com")
    with live.client(authtoken=other.authtoken) as c:
        foreign = c.post("/v3/stacks", json={"stack": {"name": "Foreign"}}).json()["stack"]["api_key"]
    developer = role_uid(live, api_key, "developer")
    bad_bodies: list[dict[str, Any]] = [
        {"users": {"ok@example.com": ["member"], "bad@example.com": ["owner"]}},
        {"users": {"ok@example.com": "admin"}},
        {"users": {"ok@example.com": [["admin"]]}},
        {"users": {"not-an-email": ["member"]}},
        {"users": ["ok@example.com"]},
        {"users": {}},
        {"users": {"ok@example.com": ["member"]}, "stacks": {"ok@example.com": {foreign: [developer]}}},
        {"users": {"ok@example.com": ["member"]}, "stacks": {"ok@example.com": {"bltnope": [developer]}}},
        {"users": {"ok@example.com": ["member"]}, "stacks": {"ok@example.com": {api_key: ["no-such-role"]}}},
        {"users": {"ok@example.com": ["member"]}, "stacks": {"ok@example.com": [api_key]}},
        {"users": {"ok@example.com": ["member"]}, "message": 42},
    ]
    with live.client(authtoken=owner.authtoken) as c:
        for body in bad_bodies:
            r = share(c, owner.org_uid, body)
            assert r.status_code == 422, (body, r.text)
            assert set(r.json()) >= {"error_message", "error_code", "errors"}
        r = c.post(f"/v3/organizations/{owner.org_uid}/share", json={"share": "everyone"})
        assert r.status_code == 422
    with live.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) AS n FROM users WHERE email LIKE 'ok@%'") == 0
        assert tx.scalar("SELECT COUNT(*) AS n FROM invitations") == 0
        assert tx.scalar("SELECT COUNT(*) AS n FROM outbox") == 0


def test_transfer_ownership(live: Live, owner: User) -> None:
    heir = make_user(live, "heir@example.com", org=False)
    outsider = make_user(live, "outsider@example.com", org=False)
    with live.client(authtoken=owner.authtoken) as c:
        share(c, owner.org_uid, {"users": {heir.email: ["member"], "pending@example.com": ["member"]}})
        accept_invitation(live, heir)
        path = f"/v3/organizations/{owner.org_uid}/transfer-ownership"
        # refused: no target, a non-member, an invited user who has not activated, the owner themself
        assert c.post(path, json={}).status_code == 422
        assert c.post(path, json={"transfer_to": outsider.email}).status_code == 422
        assert c.post(path, json={"transfer_to": "pending@example.com"}).status_code == 422
        assert c.post(path, json={"transfer_to": owner.email}).status_code == 422
        assert c.post(path, json={"transfer_to": 7}).status_code == 422
        # when transferred to a member
        r = c.post(path, json={"transfer_to": "HEIR@example.com"})
        assert r.status_code == 200, r.text
        assert r.json() == {"notice": "Organization ownership has been transferred successfully."}
        org = c.get(f"/v3/organizations/{owner.org_uid}").json()["organization"]
        assert org["owner_uid"] == heir.uid
        # then the old owner is an admin and cannot transfer again
        assert c.post(path, json={"transfer_to": owner.email}).status_code == 403
        roles = {
            role["uid"]: role["users"]
            for role in c.get(f"/v3/organizations/{owner.org_uid}/roles").json()["roles"]
        }
        assert owner.uid in roles["admin"]
    with live.client(authtoken=heir.authtoken) as c:
        me = c.get("/v3/user").json()["user"]
        assert me["org_uid"] == [owner.org_uid]


def test_logs_record_sharing_without_secrets(live: Live, owner: User) -> None:
    with live.client(authtoken=owner.authtoken) as c:
        share(c, owner.org_uid, {"users": {"newbie@example.com": ["member"]}, "message": "hi"})
        r = c.get(f"/v3/organizations/{owner.org_uid}/logs", params={"include_count": "true"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] == 1
        entry = body["logs"][0]
        assert (entry["module"], entry["event_type"], entry["created_by"]) == (
            "organization",
            "share",
            owner.uid,
        )
        assert entry["metadata"]["email"] == "newbie@example.com"
        token = mailed_token(live.db, "newbie@example.com", "act")
        assert token not in r.text and owner.authtoken not in r.text
        assert c.get(f"/v3/organizations/{owner.org_uid}/logs", params={"limit": 0}).status_code == 400
