"""Self-service sign-up (`POST /v3/user`, off unless `--allow-signup`) and the lifetime of
activation tokens (`activation_token_ttl_seconds`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stackyard.identity import mail
from stackyard.ids import parse_time
from tests.conftest import Live, ServeFactory, User, make_user
from tests.identity.conftest import mailed_token
from tests.identity.test_sessions import login
from tests.identity.test_users import invite

PASSWORD = {"password": "signed up at last", "password_confirmation": "signed up at last"}


def sign_up(live: Live, **user: str) -> tuple[int, dict]:
    with live.client() as c:
        r = c.post("/v3/user", json={"user": user})
    return r.status_code, r.json()


def test_sign_up_is_off_by_default(live: Live) -> None:
    status, body = sign_up(live, email="someone@example.com")
    assert status == 403 and body["error_code"] == 161 and "Sign-up is turned off" in body["error_message"]
    with live.client() as c:  # off means off, whatever the body
        assert c.post("/v3/user", content=b"not json").status_code == 403
    with live.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) AS n FROM users") == 0
        assert tx.scalar("SELECT COUNT(*) AS n FROM outbox") == 0


def test_a_sign_up_activates_into_an_organization_of_its_own(serve: ServeFactory) -> None:
    live = serve(allow_signup=True)
    # when someone signs up
    status, body = sign_up(live, email="New@Example.com", first_name="Nia", company="Nia's Bakery")
    assert status == 200 and body["notice"].startswith("If this address can sign up")
    # then the account is inactive and owns nothing yet
    assert login(live, "new@example.com", PASSWORD["password"])[0] == 422
    with live.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) AS n FROM organizations") == 0
    # when they activate with the mailed token
    token = mailed_token(live.db, "new@example.com", "act")
    with live.client() as c:
        assert c.post(f"/v3/user/activate/{token}", json={"user": PASSWORD}).status_code == 200
    status, body = login(live, "new@example.com", PASSWORD["password"])
    assert status == 200, body
    user = body["user"]
    # then they own an organization named after their company, and can make a stack in it
    assert user["first_name"] == "Nia" and len(user["org_uid"]) == 1
    assert [o["name"] for o in user["organizations"]] == ["Nia's Bakery"]
    with live.client(authtoken=user["authtoken"]) as c:
        r = c.post("/v3/stacks", json={"stack": {"name": "Shop", "master_locale": "en-us"}})
        assert r.status_code == 201, r.text
        assert r.json()["stack"]["org_uid"] == user["org_uid"][0]


def test_sign_up_reveals_and_changes_no_existing_account(serve: ServeFactory) -> None:
    live = serve(allow_signup=True)
    member = make_user(live, "member@example.com")
    # given an active user and a pending sign-up
    assert sign_up(live, email="pending@example.com")[0] == 200
    first = mailed_token(live.db, "pending@example.com", "act")
    # when both addresses sign up (again)
    answers = [
        sign_up(live, email=e) for e in ("member@example.com", "pending@example.com", "fresh@example.com")
    ]
    # then every answer is the same, the active user is untouched, and the pending one gets a fresh token
    assert len({(s, b["notice"]) for s, b in answers}) == 1
    with live.db.read() as tx:
        assert mail.outbox(tx, "member@example.com") == []
    second = mailed_token(live.db, "pending@example.com", "act")
    assert first != second
    assert login(live, member.email, member.password)[0] == 200
    # and a bad field is refused the same way for known and unknown addresses
    bad = [
        sign_up(live, email=e, first_name="x" * 201)[0] for e in ("member@example.com", "nobody@example.com")
    ]
    assert bad == [422, 422]


def test_sign_up_is_throttled_like_other_account_calls(serve: ServeFactory) -> None:
    live = serve(allow_signup=True, auth_attempts_per_minute=2)
    statuses = [sign_up(live, email=f"n{i}@example.com")[0] for i in range(3)]
    assert statuses == [200, 200, 429]


def test_an_expired_activation_token_is_as_unknown_as_a_wrong_one(live: Live, owner: User) -> None:
    invite(live, owner, "slow@example.com")
    token = mailed_token(live.db, "slow@example.com", "act")
    with live.db.write() as tx:
        tx.run(
            "UPDATE users SET activation_expires_at = ? WHERE email = 'slow@example.com'",
            "2000-01-01T00:00:00.000Z",
        )
    with live.client() as c:
        expired = c.post(f"/v3/user/activate/{token}", json={"user": PASSWORD})
        unknown = c.post("/v3/user/activate/act" + "0" * 32, json={"user": PASSWORD})
    assert expired.status_code == unknown.status_code == 422
    assert expired.json() == unknown.json() and expired.json()["error_code"] == 111
    assert login(live, "slow@example.com", PASSWORD["password"])[0] == 422


def test_activation_tokens_live_as_long_as_the_setting_says(serve: ServeFactory) -> None:
    live = serve(allow_signup=True, activation_token_ttl_seconds=600)
    sign_up(live, email="ttl@example.com")
    with live.db.read() as tx:
        expires = tx.scalar("SELECT activation_expires_at FROM users WHERE email = 'ttl@example.com'")
        [message] = mail.outbox(tx, "ttl@example.com")
    left = parse_time(str(expires)) - datetime.now(UTC)
    assert timedelta(seconds=590) < left <= timedelta(seconds=600)
    # the mail's text expires with its token
    assert message["expires_at"] == expires and str(expires) in message["body"]
