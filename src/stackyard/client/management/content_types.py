"""Content types (catalogue §2.3): `content_types[/{uid}]`, references, export, import.

`content_types(uid, branch="dev")` sends the `branch` header on this object's calls and on the
entries made from it; the defaults the official SDK sends (`include_global_field_schema=true`...)
are sent too, and any `add_param` of the same name wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from .._http import Transport
from ._files import file_part
from ._resource import Collection
from .entries import Entry

R = TypeVar("R")
It = TypeVar("It")

FIND_DEFAULTS = {"include_count": False, "include_global_field_schema": True, "include_branch": False}
FETCH_DEFAULTS = {"include_global_field_schema": True, "include_branch": False}


class ContentType(Collection[R, It]):
    """`stack.content_types(uid)`: find/iterate/fetch/create/update/delete, references, export, imports.

    >>> client.stack("blt1").content_types("blog").fetch().json()["content_type"]["schema"]  # doctest: +SKIP
    """

    base = "content_types"
    envelope = "content_types"
    what = "content type uid"

    def __init__(
        self,
        transport: Transport[R, It],
        uid: Any = None,
        headers: Mapping[str, str] | None = None,
        branch: str | None = None,
    ) -> None:
        super().__init__(transport, uid, headers)
        if branch is not None:
            self._headers["branch"] = str(branch)

    def find(self, params: Mapping[str, Any] | None = None) -> R:
        """One page of content types.

        >>> client.stack("blt1").content_types().find().json()["content_types"]  # doctest: +SKIP
        """
        return self._call("GET", self.base, params=params, defaults=FIND_DEFAULTS)

    def iterate(self, page_size: int = 100) -> It:
        """Every content type, page by page.

        >>> [ct["uid"] for ct in client.stack("blt1").content_types().iterate()]  # doctest: +SKIP
        """
        return self._iterate(self.base, self.envelope, page_size, defaults=FIND_DEFAULTS)

    def fetch(self) -> R:
        """This content type, global field schemas included.

        >>> client.stack("blt1").content_types("blog").fetch().json()["content_type"]  # doctest: +SKIP
        """
        return self._call("GET", self._one(), defaults=FETCH_DEFAULTS)

    def set_field_visibility_rules(self, data: dict[str, Any]) -> R:
        """Save the content type with its `field_rules` (the same call as `update`).

        >>> client.stack("blt1").content_types("blog").set_field_visibility_rules({"content_type": {...}})  # doctest: +SKIP
        """
        return self.update(data)

    def delete(self) -> R:
        """Delete this content type (with `force=true`, as the official SDK sends).

        >>> client.stack("blt1").content_types("blog").delete()  # doctest: +SKIP
        """
        return self._call("DELETE", self._one(), defaults={"force": True})

    def references(self) -> R:
        """The content types and global fields that refer to this one.

        >>> client.stack("blt1").content_types("author").references().json()["references"]  # doctest: +SKIP
        """
        return self._call(
            "GET", self._one("references"), defaults={"include_global_fields": True, "include_branch": False}
        )

    def export(self) -> R:
        """This content type as a bare JSON object (no envelope), ready for `imports`.

        >>> client.stack("blt1").content_types("blog").export().json()["uid"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("export"))

    def imports(self, file_path: str) -> R:
        """Create or replace a content type from an exported JSON file.

        >>> client.stack("blt1").content_types().imports("blog.json")  # doctest: +SKIP
        """
        return self._call("POST", f"{self.base}/import", files={"content_type": file_part(file_path)})

    def entry(self, entry_uid: str | None = None) -> Entry[R, It]:
        """Entries of this content type, or one by uid.

        >>> client.stack("blt1").content_types("blog").entry("blt2").fetch()  # doctest: +SKIP
        """
        if self.uid is None:
            raise ValueError("entries need a content type uid: stack.content_types('uid').entry()")
        return Entry(self._t, self.uid, entry_uid, self._headers)

    entries = entry
