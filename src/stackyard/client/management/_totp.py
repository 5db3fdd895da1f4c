"""RFC 6238 one-time codes from a base32 secret, so `login(mfa_secret=...)` needs no extra package."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time


def totp(secret: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """The 6-digit code for `secret` at time `at` (now by default), as authenticator apps show it.

    >>> totp("JBSWY3DPEHPK3PXPJBSWY3DP", at=0)
    '781680'
    """
    key = base64.b32decode(secret.replace(" ", "").upper() + "=" * (-len(secret.replace(" ", "")) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(code).zfill(digits)
