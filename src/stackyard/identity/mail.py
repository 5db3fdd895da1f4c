"""Outgoing mail: kept in the outbox (read with `stackyard mail outbox`), and sent by SMTP when configured.

Mail carries one-time tokens (activation, password reset, stack ownership) in plain text, so no
message keeps its text for ever: the body is replaced by a notice (`redact`) once its token
expires (`expires_at`, removed by the purge job, `stackyard.identity.purge`), once the token is
used (`spent`), and once the message was handed to the SMTP server. Without SMTP the outbox is
how an operator reads the mail, so an unsent message stays readable until its token expires.
The row itself (address, subject, times) stays as a record of what was sent.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlparse

from stackyard.ids import now, parse_time, uid
from stackyard.settings import Settings
from stackyard.store.engine import Row, Tx

log = logging.getLogger("stackyard.mail")

# A message queued without an expiry keeps its text this long: the default lifetime of the
# longest-lived mailed token (activation), so a caller that forgets `expires_at` leaks nothing for ever.
DEFAULT_BODY_SECONDS = Settings().activation_token_ttl_seconds
EXPIRED = "(removed: the token in this message has expired)"
USED = "(removed: the token in this message was used)"
SENT = "(removed: this message was sent)"


def later(seconds: int) -> str:
    """The time `seconds` from now, as the token tables store expiries."""
    return (parse_time(now()) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def queue(tx: Tx, to_addr: str, subject: str, body: str, *, expires_at: str | None = None) -> str:
    """Put a message in the outbox, in the caller's transaction.

    `expires_at`: when its text is removed, the expiry of the token it carries (default
    `DEFAULT_BODY_SECONDS` from now).
    """
    mail_uid = uid()
    tx.run(
        "INSERT INTO outbox (uid, to_addr, subject, body, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        mail_uid,
        to_addr,
        subject,
        body,
        now(),
        expires_at or later(DEFAULT_BODY_SECONDS),
    )
    return mail_uid


def redact(tx: Tx, where: str, *params: Any, notice: str = EXPIRED) -> int:
    """Replace the text of the messages matching `where` (not yet redacted) by `notice`; answers how many."""
    return tx.run(
        f"UPDATE outbox SET body = ?, redacted_at = ? WHERE redacted_at IS NULL AND ({where})",
        notice,
        now(),
        *params,
    )


def spent(tx: Tx, to_addr: str, token: str) -> int:
    """A token mailed to `to_addr` was used: remove the text of the messages that carry it.

    Tokens are `ids.secret` values (a prefix and hex digits), so they hold no LIKE wildcards."""
    return redact(tx, "to_addr = ? AND body LIKE ?", to_addr, f"%{token}%", notice=USED)


def purge_expired(tx: Tx) -> int:
    """Remove the text of every message whose token has expired; answers how many."""
    return redact(tx, "expires_at <= ?", now())


def outbox(tx: Tx, to_addr: str | None = None, limit: int = 50) -> list[Row]:
    """Newest messages first, optionally only those to one address."""
    if to_addr:
        return tx.all(
            "SELECT * FROM outbox WHERE to_addr = ? ORDER BY seq DESC LIMIT ?", to_addr.lower(), limit
        )
    return tx.all("SELECT * FROM outbox ORDER BY seq DESC LIMIT ?", limit)


def deliver_pending(db: Any, settings: Settings) -> int:
    """Send unsent outbox messages over SMTP; answers how many were sent. No-op without --smtp-url."""
    if not settings.smtp_url:
        return 0
    with db.read() as tx:
        # A message whose token expired before it could be sent is not worth sending.
        pending = tx.all(
            "SELECT * FROM outbox WHERE sent_at IS NULL AND redacted_at IS NULL ORDER BY seq LIMIT 100"
        )
    sent = 0
    url = urlparse(settings.smtp_url)
    for row in pending:
        msg = EmailMessage()
        msg["From"] = settings.mail_from
        msg["To"] = row["to_addr"]
        msg["Subject"] = row["subject"]
        msg.set_content(row["body"])
        try:
            with smtplib.SMTP(url.hostname or "localhost", url.port or 25, timeout=10) as smtp:
                if url.scheme == "smtps" or url.query == "starttls":
                    smtp.starttls()
                if url.username:
                    smtp.login(unquote(url.username), unquote(url.password or ""))
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as e:
            log.warning("could not send mail %s: %s", row["uid"], e)
            break
        with db.write() as tx:
            # Handed to the SMTP server: the outbox keeps no copy of the token.
            tx.run(
                "UPDATE outbox SET sent_at = ?, body = ?, redacted_at = ? WHERE uid = ?",
                now(),
                SENT,
                now(),
                row["uid"],
            )
        sent += 1
    return sent
