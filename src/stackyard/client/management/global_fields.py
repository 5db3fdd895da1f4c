"""Global fields (catalogue §2.3): `global_fields[/{uid}]`, export, import.

`options={"api_version": 3.2}` (nested global fields) becomes the `api_version` header on this
object only; the official SDK adds it to the shared client headers and removes it afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from .._http import Transport
from ._files import file_part
from ._resource import Collection

R = TypeVar("R")
It = TypeVar("It")


class GlobalField(Collection[R, It]):
    """`stack.global_fields(uid)`: find/iterate/fetch/create/update/delete, export, imports.

    >>> client.stack("blt1").global_fields("seo").fetch().json()["global_field"]  # doctest: +SKIP
    """

    base = "global_fields"
    envelope = "global_fields"
    what = "global field uid"

    def __init__(
        self,
        transport: Transport[R, It],
        uid: Any = None,
        headers: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
        branch: str | None = None,
    ) -> None:
        super().__init__(transport, uid, headers)
        for key, value in (options or {}).items():
            self._headers[key] = str(value)
        if branch is not None:
            self._headers["branch"] = str(branch)

    def export(self) -> R:
        """This global field as a bare JSON object (no envelope).

        >>> client.stack("blt1").global_fields("seo").export().json()["uid"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("export"))

    def imports(self, file_path: str) -> R:
        """Create a global field from an exported JSON file.

        >>> client.stack("blt1").global_fields().imports("seo.json").json()["global_field"]  # doctest: +SKIP
        """
        return self._call("POST", f"{self.base}/import", files={"global_field": file_part(file_path)})
