"""Reading files for multipart uploads: the bytes are read once, up front, so a retry resends them."""

from __future__ import annotations

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
