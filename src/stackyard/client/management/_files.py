"""Reading files for multipart uploads: small files are read once, up front, so a retry resends
them; large asset uploads stream from disk (`upload_part`)."""

from __future__ import annotations

import io
import mimetypes
import os
from typing import Any


def file_part(file_path: Any, content_type: str | None = None) -> tuple[str, bytes, str]:
    """`(filename, bytes, mime type)` for httpx's `files=`; a missing file is a ValueError before any I/O.

    >>> file_part("schema.json")  # doctest: +SKIP
    ('schema.json', b'{...}', 'application/json')
    """
    if not isinstance(file_path, str | os.PathLike) or not str(file_path):
        raise ValueError(f"file_path must be a path to a file, got {file_path!r}")
    path = os.fspath(file_path)
    if not os.path.isfile(path):
        raise ValueError(f"no such file: {path}")
    with open(path, "rb") as fh:
        data = fh.read()
    mime = content_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
    return os.path.basename(path), data, mime


# Files up to this size are read up front; larger ones are streamed from disk (asset uploads).
STREAM_BYTES = 4 * 1024 * 1024


class StreamedFile(io.RawIOBase):
    """A file read from disk only while a request is being sent, so an upload of any size costs
    a chunk of memory. httpx rewinds it (`seek(0)`) before each send, so a retry sends it whole
    again; it is opened on the first read and closed at its end."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.size = os.path.getsize(path)
        self._fh: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def _open(self) -> Any:
        if self._fh is None:
            self._fh = open(self.path, "rb")  # noqa: SIM115 - closed at EOF or by close()
        return self._fh

    def readinto(self, buffer: Any) -> int:
        n = int(self._open().readinto(buffer))
        if n == 0:
            self._release()
        return n

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self._open().seek(offset, whence))

    def tell(self) -> int:
        return int(self._fh.tell()) if self._fh is not None else 0

    def fileno(self) -> int:
        return int(self._open().fileno())

    def _release(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def close(self) -> None:
        self._release()
        super().close()


def upload_part(file_path: Any, content_type: str | None = None) -> tuple[str, Any, str]:
    """`file_part`, streamed from disk when the file is larger than `STREAM_BYTES`."""
    if isinstance(file_path, str | os.PathLike) and os.path.isfile(file_path):
        path = os.fspath(file_path)
        if os.path.getsize(path) > STREAM_BYTES:
            mime = content_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
            return os.path.basename(path), StreamedFile(path), mime
    return file_part(file_path, content_type)
