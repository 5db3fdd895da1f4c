"""A multipart/form-data body read in a stream: file parts go to temporary files, chunk by chunk,
hashed (SHA-256) on the way, so an upload of any size costs a few megabytes of memory.

    with read_form(r.upload, spool_dir, max_field_bytes=64 * 1024) as form:
        form.fields["asset[title]"]       # small text fields
        form.files["asset[upload]"]       # a Received file: path, size, sha256, head, filename

The boundary comes from the Content-Type header or, when the client sent none (the management SDK
drops it, catalogue §1.4), from the body's first line. The temporary files are deleted when the
`with` block ends unless a service took them (`Received.take`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.multipart import MultipartParser, parse_options_header

from stackyard.api.body import Upload
from stackyard.errors import BadRequest, PayloadTooLarge

HEAD_BYTES = 4096
MAX_FILES = 4
MAX_FIELDS = 64


@dataclass
class Received:
    """One uploaded file, spooled to `path` (deleted at the end of the form unless taken)."""

    filename: str
    path: Path
    size: int = 0
    sha256: str = ""
    head: bytes = b""
    taken: bool = False

    def take(self) -> Path:
        """Hand the file over (a storage backend moves or deletes it)."""
        self.taken = True
        return self.path


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Received] = field(default_factory=dict)


def _boundary(upload: Upload) -> bytes:
    content_type = upload.content_type or ""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if boundary:
        return bytes(boundary)
    f = upload.file
    f.seek(0)
    first = f.readline(1024).rstrip(b"\r\n")
    if not first.startswith(b"--") or len(first) < 3:
        raise BadRequest("Expected a multipart/form-data body with a file.", error_code=114)
    return first[2:]


@contextmanager
def read_form(upload: Upload, spool_dir: Path, *, max_field_bytes: int = 64 * 1024) -> Iterator[Form]:
    form = Form()
    spool_dir.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {"headers": {}, "name": b"", "value": b""}
    current: dict[str, Any] = {}

    def on_part_begin() -> None:
        state["headers"] = {}
        current.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["name"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["name"].decode("latin-1").lower()] = state["value"]
        state["name"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, options = parse_options_header(state["headers"].get("content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        current["name"] = name
        if filename is not None:
            if len(form.files) >= MAX_FILES:
                raise BadRequest(f"At most {MAX_FILES} files per request.", error_code=114)
            fd, path = tempfile.mkstemp(dir=str(spool_dir), prefix="upload-")
            received = Received(filename=_clean_name(filename.decode("utf-8", "replace")), path=Path(path))
            form.files[name] = received
            current["file"] = os.fdopen(fd, "wb")
            current["received"] = received
            current["hash"] = hashlib.sha256()
            current["head"] = bytearray()
        else:
            if len(form.fields) >= MAX_FIELDS:
                raise BadRequest(f"At most {MAX_FIELDS} form fields per request.", error_code=114)
            current["text"] = bytearray()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if "file" in current:
            out: IO[bytes] = current["file"]
            out.write(chunk)
            current["hash"].update(chunk)
            current["received"].size += len(chunk)
            head: bytearray = current["head"]
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
        elif "text" in current:
            current["text"] += chunk
            if len(current["text"]) > max_field_bytes:
                raise PayloadTooLarge(f"A form field is larger than {max_field_bytes} bytes.")

    def on_part_end() -> None:
        if "file" in current:
            current["file"].close()
            received: Received = current["received"]
            received.sha256 = current["hash"].hexdigest()
            received.head = bytes(current["head"])
        elif "text" in current:
            form.fields[current["name"]] = bytes(current["text"]).decode("utf-8", "replace")
        current.clear()

    callbacks: Any = {
        "on_part_begin": on_part_begin,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
    }
    try:
        parser = MultipartParser(_boundary(upload), callbacks)
        for chunk in upload.chunks():
            parser.write(chunk)
        parser.finalize()
    except (BadRequest, PayloadTooLarge):
        _cleanup(form, current)
        raise
    except Exception as e:
        _cleanup(form, current)
        raise BadRequest(f"The multipart body could not be read: {e}", error_code=114) from e
    try:
        yield form
    finally:
        _cleanup(form, current)


def _cleanup(form: Form, current: dict[str, Any]) -> None:
    if "file" in current:
        current["file"].close()
    for received in form.files.values():
        if not received.taken:
            received.path.unlink(missing_ok=True)


def _clean_name(name: str) -> str:
    """The last path segment of a client's file name, without control characters (kept as text only)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"\x7f')
    return name.strip()[:255] or "file"
