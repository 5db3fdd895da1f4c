"""Extensions (catalogue §2.8): `extensions[/{uid}]`, plus `upload` of a hosted HTML file (multipart).

`upload` sends the fields the official SDK sends (`extension[upload]`, `extension[title]`, ...),
with values written the same way (`str()`, so `False`/`{}`), because servers parse that shape.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ._files import file_part
from ._resource import Collection, body

R = TypeVar("R")
It = TypeVar("It")

UPLOAD_FIELDS = ("title", "data_type", "type", "tags", "multiple")


class Extension(Collection[R, It]):
    """`stack.extension(uid)`: find/iterate/fetch/create/update/delete, upload.

    >>> client.stack("blt1").extension().find().json()["extensions"]  # doctest: +SKIP
    """

    base = "extensions"
    envelope = "extensions"
    what = "extension uid"

    def upload(self, data: dict[str, Any]) -> R:
        """Create an extension from a local HTML file: `{"file_path", "title", "data_type", "type", ...}`.

        >>> client.stack("blt1").extension().upload({"file_path": "ext.html", "title": "Color", "data_type": "text", "type": "field"})  # doctest: +SKIP
        """
        body(data)
        name, content, _ = file_part(data.get("file_path"))
        files = {"extension[upload]": (str(data.get("file_name") or name), content, "text/html")}
        fields = {f"extension[{k}]": str(data[k]) for k in UPLOAD_FIELDS if k in data}
        return self._call("POST", self.base, files=files, data=fields)
