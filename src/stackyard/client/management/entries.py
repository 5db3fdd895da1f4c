"""Entries (catalogue §2.4): `content_types/{ct}/entries[/{uid}]` and their sub-resources.

Writes name the locale explicitly (`locale=en-us` unless told otherwise), as the official SDK does.
Publishing answers `{notice}` only; the entry itself is not returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from .._http import Transport
from .._path import segment
from ._files import file_part
from ._resource import Collection, body

R = TypeVar("R")
It = TypeVar("It")

MASTER = "en-us"


class Entry(Collection[R, It]):
    """`stack.content_types(ct).entry(uid)`: CRUD, versions, references, locales, import/export, publishing.

    >>> client.stack("blt1").content_types("blog").entry("blt2").fetch().json()["entry"]["title"]  # doctest: +SKIP
    """

    envelope = "entries"
    what = "entry uid"

    def __init__(
        self,
        transport: Transport[R, It],
        content_type_uid: Any,
        uid: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(transport, uid, headers)
        self.content_type_uid = content_type_uid
        self.base = f"content_types/{segment(content_type_uid, 'content type uid')}/entries"

    def create(self, data: dict[str, Any], locale: str = MASTER) -> R:
        """Create an entry in `locale` (the master locale unless told otherwise).

        >>> client.stack("blt1").content_types("blog").entry().create({"entry": {"title": "Hi"}})  # doctest: +SKIP
        """
        return self._call("POST", self.base, json=body(data), params={"locale": segment(locale, "locale")})

    def update(self, data: dict[str, Any], locale: str = MASTER) -> R:
        """Save a new version of this entry in `locale`.

        >>> client.stack("blt1").content_types("blog").entry("blt2").update({"entry": {"title": "Hey"}})  # doctest: +SKIP
        """
        return self._call("PUT", self._one(), json=body(data), params={"locale": segment(locale, "locale")})

    def delete(self, locale: str | None = None, delete_all_localized: bool | None = None) -> R:
        """Delete this entry (`force=true`); with `locale`, only that localization.

        >>> client.stack("blt1").content_types("blog").entry("blt2").delete().json()["notice"]  # doctest: +SKIP
        """
        params = {"force": True, "locale": locale, "delete_all_localized": delete_all_localized}
        return self._call("DELETE", self._one(), params=params)

    def version_naming(self, version_number: int | str, data: dict[str, Any]) -> R:
        """Name a version: `{"entry": {"_version_name": "v1", "locale": "en-us", "force": true}}`.

        >>> client.stack("blt1").content_types("blog").entry("blt2").version_naming(1, {"entry": {"_version_name": "v1"}})  # doctest: +SKIP
        """
        if isinstance(version_number, dict):
            raise ValueError("version_naming(version_number, data): the version number comes first")
        path = self._one("versions", segment(version_number, "version number"), "name")
        return self._call("POST", path, json=body(data))

    def versions(self, locale: str | None = None) -> R:
        """This entry's versions (with their names) in `locale`.

        >>> client.stack("blt1").content_types("blog").entry("blt2").versions().json()["versions"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("versions"), params={"locale": locale})

    def delete_version_name(self, version_number: int | str, locale: str | None = None) -> R:
        """Remove the name of a version (the version itself stays).

        >>> client.stack("blt1").content_types("blog").entry("blt2").delete_version_name(1)  # doctest: +SKIP
        """
        path = self._one("versions", segment(version_number, "version number"), "name")
        return self._call("DELETE", path, params={"locale": locale})

    def references(self) -> R:
        """The entries that refer to this one.

        >>> client.stack("blt1").content_types("author").entry("blt2").references().json()["references"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("references"))

    def languages(self) -> R:
        """The locales this entry exists in, and whether each is localized.

        >>> client.stack("blt1").content_types("blog").entry("blt2").languages().json()["locales"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("locales"))

    def localize(self, data: dict[str, Any], locale: str = MASTER) -> R:
        """Give this entry its own content in `locale` (it stops following the fallback).

        >>> client.stack("blt1").content_types("blog").entry("blt2").localize({"entry": {"title": "Salut"}}, "fr-fr")  # doctest: +SKIP
        """
        return self._call("PUT", self._one(), json=body(data), params={"locale": segment(locale, "locale")})

    def unlocalize(self, locale: str = MASTER) -> R:
        """Drop this entry's content in `locale`, so it follows the fallback again.

        >>> client.stack("blt1").content_types("blog").entry("blt2").unlocalize("fr-fr")  # doctest: +SKIP
        """
        return self._call("POST", self._one("unlocalize"), params={"locale": segment(locale, "locale")})

    def export(self) -> R:
        """This entry as a bare JSON object (no envelope), ready for `imports`.

        >>> client.stack("blt1").content_types("blog").entry("blt2").export().json()["uid"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("export"))

    def imports(self, file_path: str, locale: str = MASTER, overwrite: bool | None = None) -> R:
        """Import an exported entry JSON file: a new entry, or, on `entry(uid)`, a new version of that one.

        >>> client.stack("blt1").content_types("blog").entry().imports("entry.json")  # doctest: +SKIP
        """
        params = {"locale": segment(locale, "locale"), "overwrite": overwrite}
        path = self._one("import") if self.uid is not None else f"{self.base}/import"
        return self._call("POST", path, params=params, files={"entry": file_part(file_path)})

    def publish(self, data: dict[str, Any]) -> R:
        """Publish this entry: `{"entry": {"environments": [...], "locales": [...]}, "locale", "version"}`.

        >>> client.stack("blt1").content_types("blog").entry("blt2").publish({"entry": {"environments": ["prod"], "locales": ["en-us"]}})  # doctest: +SKIP
        """
        return self._call("POST", self._one("publish"), json=body(data))

    def unpublish(self, data: dict[str, Any] | None = None) -> R:
        """Withdraw this entry from environments (same body shape as `publish`).

        >>> client.stack("blt1").content_types("blog").entry("blt2").unpublish({"entry": {"environments": ["prod"], "locales": ["en-us"]}})  # doctest: +SKIP
        """
        return self._call("POST", self._one("unpublish"), json=body(data if data is not None else {}))
