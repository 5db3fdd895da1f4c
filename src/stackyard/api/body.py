"""Reading request bodies the way Contentstack's clients send them.

The management SDK shares one mutable header dict between calls, so JSON bodies arrive with no
Content-Type, or with `multipart/form-data` and no boundary (catalogue §1.4). We therefore sniff:
JSON first, then multipart with the boundary from the header or from the body's first line.

Bodies are read within a limit (`read_within`), refused with 413 as soon as the declared length or
the bytes received pass it. A route that streams (uploads) gets its body spooled instead
(`spool`): kept in memory up to `SPOOL_BYTES`, then written in batches to an unnamed temporary file
under the data dir, so a 1 GiB upload never sits in memory. Spooling first, on the event loop,
rather than handing the handler thread a live stream means the whole body has arrived and passed
the limit before the handler runs: a refused upload is never half-written anywhere, and no worker
thread waits on a slow client. The data dir, not /tmp, because /tmp is often a RAM-backed tmpfs.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterable, Iterator
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import IO, Any

from stackyard.core import json_input
from stackyard.errors import BadRequest, PayloadTooLarge
from stackyard.settings import Settings

# A spooled body stays in memory up to this size; beyond it, it is written to disk in batches of
# `CHUNK_BYTES` (from a worker thread: the event loop never waits on the disk), and read back in
# chunks of the same size.
SPOOL_BYTES = 1024 * 1024
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def parse_json(
    raw: bytes | str, *, max_depth: int = Settings.max_json_depth, what: str = "body", error_code: int = 101
) -> Any:
    """`raw` (a body, or the query parameter named `what`) as JSON, by the rules of
    `core.json_input`: bounded depth, finite 64-bit numbers, no NUL or unpaired surrogates. An empty
    text is an empty object; anything else is a 400 with `error_code` whose `errors` name `what`."""
    if not raw.strip():
        return {}
    try:
        return json_input.loads(raw, max_depth=max_depth)
    except (ValueError, UnicodeDecodeError) as e:
        label = "The request body" if what == "body" else f"The '{what}' parameter"
        message = f"{label} is not valid JSON."
        if isinstance(e, json_input.Refused):
            message = f"{label} holds JSON this server does not take: {e}."
        raise BadRequest(message, error_code=error_code, errors={what: [str(e)]}) from e


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


def _refuse_declared(declared: str | None, limit: int) -> None:
    """413 before reading anything when the Content-Length already says the body is too large."""
    if declared is None:
        return
    try:
        too_large = int(declared) > limit
    except ValueError:
        return  # the server's HTTP parser refuses malformed lengths; nothing to add here
    if too_large:
        raise PayloadTooLarge()


async def read_within(chunks: AsyncIterable[bytes], declared: str | None, limit: int) -> bytes:
    """The whole body, or 413 as soon as its declared length or the bytes received pass `limit`."""
    _refuse_declared(declared, limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge()
        parts.append(chunk)
    return b"".join(parts)


class Upload:
    """A streamed request body, spooled (see the module docstring); the handler reads it in chunks.

        @router.post("/v3/assets", stream=True)
        def upload(r: Req) -> Any:
            with open(destination, "wb") as out:
                r.upload.copy_to(out)

    It is closed (and its temporary file deleted) once the handler returns.
    """

    def __init__(self, file: IO[bytes], size: int, content_type: str) -> None:
        self._file = file
        self.size = size
        self.content_type = content_type

    @property
    def file(self) -> IO[bytes]:
        """The spooled body as a binary file, for parsers that read one (e.g. streaming multipart)."""
        return self._file

    def chunks(self, size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The body from its start, `size` bytes at a time."""
        self._file.seek(0)
        while chunk := self._file.read(size):
            yield chunk

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def copy_to(self, destination: IO[bytes]) -> int:
        """Write the whole body to `destination` in chunks; answers the number of bytes."""
        self._file.seek(0)
        shutil.copyfileobj(self._file, destination, CHUNK_BYTES)
        return self.size

    def close(self) -> None:
        self._file.close()


def _write_batch(file: IO[bytes], directory: Path, batch: bytearray) -> None:
    directory.mkdir(parents=True, exist_ok=True)  # the spool rolls over to a file in it
    file.write(batch)


async def spool(
    chunks: AsyncIterable[bytes], declared: str | None, limit: int, directory: Path, content_type: str = ""
) -> Upload:
    """The body as an `Upload`, or 413 as soon as its declared length or the bytes received pass
    `limit` (nothing is kept of a refused body)."""
    _refuse_declared(declared, limit)
    loop = asyncio.get_running_loop()
    file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, dir=str(directory))  # noqa: SIM115
    pending = bytearray()
    size = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge()
            pending += chunk
            if len(pending) >= CHUNK_BYTES:
                batch, pending = pending, bytearray()
                await loop.run_in_executor(None, _write_batch, file, directory, batch)
        if size <= SPOOL_BYTES:
            file.write(pending)  # stays in memory: no disk, no thread
        elif pending:
            await loop.run_in_executor(None, _write_batch, file, directory, pending)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return Upload(file, size, content_type)
