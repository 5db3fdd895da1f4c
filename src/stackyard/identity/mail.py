"""Outgoing mail: kept in the outbox (read with `stackyard mail outbox`), and sent by SMTP when configured."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlparse

from stackyard.ids import now, uid
from stackyard.settings import Settings
from stackyard.store.engine import Row, Tx

log = logging.getLogger("stackyard.mail")


def queue(tx: Tx, to_addr: str, subject: str, body: str) -> str:
    """Put a message in the outbox, in the caller's transaction."""
    mail_uid = uid()
    tx.run(
        "INSERT INTO outbox (uid, to_addr, subject, body, created_at) VALUES (?, ?, ?, ?, ?)",
        mail_uid,
        to_addr,
        subject,
        body,
        now(),
    )
    return mail_uid


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
        pending = tx.all("SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT 100")
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
            tx.run("UPDATE outbox SET sent_at = ? WHERE uid = ?", now(), row["uid"])
        sent += 1
    return sent
