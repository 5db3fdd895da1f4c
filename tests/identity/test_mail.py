"""The outbox keeps no token for ever: a message loses its text once its token expires, is used, or
the message was handed to the SMTP server; unsent, it stays readable until then."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest

from stackyard.identity import mail, purge
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import Live, User
from tests.identity.conftest import mailed_token
from tests.identity.test_users import invite

PAST = "2000-01-01T00:00:00.000Z"


def bodies(db: Database, email: str) -> list[str]:
    with db.read() as tx:
        return [str(m["body"]) for m in mail.outbox(tx, email)]


def expire_outbox(db: Database, email: str) -> None:
    with db.write() as tx:
        tx.run("UPDATE outbox SET expires_at = ? WHERE to_addr = ?", PAST, email)


def test_an_unsent_message_is_readable_until_its_token_expires(live: Live, owner: User) -> None:
    # given an activation mail that no SMTP server took (the operator reads the outbox)
    invite(live, owner, "new@example.com")
    token = mailed_token(live.db, "new@example.com", "act")
    with live.db.write() as tx:
        assert mail.purge_expired(tx) == 0
    assert token in bodies(live.db, "new@example.com")[0]
    # when its token has expired and the purge runs
    expire_outbox(live.db, "new@example.com")
    with live.db.write() as tx:
        assert mail.purge_expired(tx) == 1
    # then the text is gone, the record of the message stays
    with live.db.read() as tx:
        [message] = mail.outbox(tx, "new@example.com")
    assert token not in message["body"] and message["body"] == mail.EXPIRED
    assert message["subject"].startswith("You have been invited") and message["redacted_at"]


def test_every_message_gets_an_expiry(db: Database) -> None:
    with db.write() as tx:
        mail.queue(tx, "a@example.com", "no token", "hello")
        mail.queue(tx, "b@example.com", "a token", "act123", expires_at=PAST)
    with db.read() as tx:
        rows = {r["to_addr"]: r for r in mail.outbox(tx)}
    assert rows["b@example.com"]["expires_at"] == PAST
    # without one: the default lifetime of an activation token, not for ever
    assert rows["a@example.com"]["expires_at"][:10] == mail.later(mail.DEFAULT_BODY_SECONDS)[:10]


def test_a_used_activation_token_leaves_the_outbox(live: Live, owner: User) -> None:
    invite(live, owner, "used@example.com")
    token = mailed_token(live.db, "used@example.com", "act")
    with live.client() as c:
        r = c.post(
            f"/v3/user/activate/{token}",
            json={"user": {"password": "the new password", "password_confirmation": "the new password"}},
        )
        assert r.status_code == 200, r.text
    assert all(token not in body for body in bodies(live.db, "used@example.com"))
    assert mail.USED in bodies(live.db, "used@example.com")
    with live.db.read() as tx:
        assert tx.scalar("SELECT activation_token_hash FROM users WHERE email = 'used@example.com'") is None


def test_a_used_reset_token_leaves_the_outbox(live: Live, owner: User) -> None:
    with live.client() as c:
        c.post("/v3/user/forgot_password", json={"user": {"email": owner.email}})
        token = mailed_token(live.db, owner.email, "rst")
        payload = {
            "reset_password_token": token,
            "password": "brand new pass",
            "password_confirmation": "brand new pass",
        }
        assert c.post("/v3/user/reset_password", json={"user": payload}).status_code == 200
    assert all(token not in body for body in bodies(live.db, owner.email))
    with live.db.read() as tx:
        row = tx.one("SELECT reset_token_hash, reset_expires_at FROM users WHERE uid = ?", owner.uid)
    assert row is not None and row["reset_token_hash"] is None and row["reset_expires_at"] is None


class FakeSMTP:
    sent: list[EmailMessage] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        pass

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def send_message(self, msg: EmailMessage) -> None:
        self.sent.append(msg)


def test_a_message_sent_over_smtp_keeps_no_copy(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    with db.write() as tx:
        mail.queue(
            tx,
            "a@example.com",
            "Your token",
            "use act0123456789abcdef0123456789abcdef",
            expires_at=mail.later(3600),
        )
        mail.queue(tx, "b@example.com", "Too late", "use act" + "f" * 32, expires_at=PAST)
        purge.purge(tx)
    # when the mailer runs with SMTP configured
    assert mail.deliver_pending(db, Settings(smtp_url="smtp://127.0.0.1:2525")) == 1
    # then the recipient got the token, the outbox no longer has it, and an expired one was not sent
    [msg] = FakeSMTP.sent
    assert msg["To"] == "a@example.com" and "act0123456789abcdef" in str(msg.get_content())
    with db.read() as tx:
        rows: dict[str, Any] = {r["to_addr"]: r for r in mail.outbox(tx)}
    assert rows["a@example.com"]["sent_at"] and rows["a@example.com"]["body"] == mail.SENT
    assert rows["b@example.com"]["sent_at"] is None and rows["b@example.com"]["body"] == mail.EXPIRED
