"""Identity test helpers: tokens read from the mail outbox (`serve` lives in tests/conftest.py)."""

from __future__ import annotations

import re

from stackyard.identity import mail
from stackyard.store.engine import Database


def mailed_token(db: Database, email: str, prefix: str) -> str:
    """The newest token starting with `prefix` ('act' activation, 'rst' reset) mailed to `email`."""
    with db.read() as tx:
        messages = mail.outbox(tx, email)
    for message in messages:
        found = re.search(rf"\b({prefix}[0-9a-f]{{32}})\b", message["body"])
        if found:
            return found.group(1)
    raise AssertionError(f"no {prefix} token mailed to {email}: {[m['subject'] for m in messages]}")
