"""Reading request bodies the way Contentstack's clients send them.

The management SDK shares one mutable header dict between calls, so JSON bodies arrive with no
Content-Type, or with `multipart/form-data` and no boundary (catalogue §1.4). We therefore sniff:
JSON first, then multipart with the boundary from the header or from the body's first line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from stackyard.errors import BadRequest


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def parse_json(body: bytes) -> Any:
    """The body as JSON; an empty body is an empty object."""
    if not body.strip():
        return {}
    try:
        data = json.loads(body, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest(
            "The request body is not valid JSON.", error_code=101, errors={"body": [str(e)]}
        ) from e
    if (b"\\u0000" in body or b"\x00" in body) and _has_nul(data):
        # Valid JSON, but PostgreSQL cannot store it; refuse on both engines alike.
        raise BadRequest(
            "The request body contains a NUL character (\\u0000).",
            error_code=101,
            errors={"body": ["must not contain NUL characters."]},
        )
    return data


def _no_constants(name: str) -> Any:
    """NaN and Infinity are not JSON (Python reads them anyway) and no database stores them."""
    raise ValueError(f"{name} is not a valid JSON value")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def looks_multipart(body: bytes) -> bool:
    return body.startswith(b"--") and b"\r\n" in body[:200]


def parse_multipart(body: bytes, content_type: str | None) -> list[Part]:
    """The parts of a multipart/form-data body, with or without a boundary in the header."""
    boundary = None
    if content_type and "boundary=" in content_type:
        boundary = content_type.split("boundary=", 1)[1].split(";", 1)[0].strip().strip('"')
    if not boundary:
        first = body.split(b"\r\n", 1)[0]
        if not first.startswith(b"--") or len(first) < 3:
            raise BadRequest("The multipart body has no boundary.", error_code=114)
        boundary = first[2:].decode("latin-1")
    head = f'Content-Type: multipart/form-data; boundary="{boundary}"\r\n\r\n'.encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise BadRequest("The multipart body could not be read.", error_code=114)
    parts: list[Part] = []
    for sub in message.iter_parts():
        name = sub.get_param("name", header="content-disposition")
        if not name:
            continue
        filename = sub.get_filename()
        payload = sub.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        parts.append(Part(str(name), filename, sub.get_content_type(), data))
    return parts
