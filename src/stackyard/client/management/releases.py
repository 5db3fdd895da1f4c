"""Releases and their items (catalogue §2.9): `releases[/{uid}]`, deploy, clone, `releases/{uid}/item(s)`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from .._http import Transport
from ._resource import PAGE_SIZE, Collection, Resource, body

R = TypeVar("R")
It = TypeVar("It")


class Release(Collection[R, It]):
    """`stack.releases(uid)`: find/iterate/fetch/create/update/delete, deploy, clone, item().

    >>> client.stack("blt1").releases("blt2").deploy({"release": {"environments": ["prod"], "locales": ["en-us"]}})  # doctest: +SKIP
    """

    base = "releases"
    envelope = "releases"
    what = "release uid"

    def deploy(self, data: dict[str, Any]) -> R:
        """Publish (or unpublish) everything in this release to environments.

        >>> client.stack("blt1").releases("blt2").deploy({"release": {"environments": ["prod"]}})  # doctest: +SKIP
        """
        return self._call("POST", self._one("deploy"), json=body(data))

    def clone(self, data: dict[str, Any]) -> R:
        """Copy this release under a new name.

        >>> client.stack("blt1").releases("blt2").clone({"release": {"name": "Copy"}})  # doctest: +SKIP
        """
        return self._call("POST", self._one("clone"), json=body(data))

    def item(self, headers: Mapping[str, str] | None = None) -> ReleaseItem[R, It]:
        """The items of this release.

        >>> client.stack("blt1").releases("blt2").item().find().json()["items"]  # doctest: +SKIP
        """
        return ReleaseItem(self._t, self._one(), {**self._headers, **(headers or {})})

    items = item


class ReleaseItem(Resource[R, It]):
    """`stack.releases(uid).item()`: find/iterate, create (one), create_multiple, update, delete, move.

    >>> client.stack("blt1").releases("blt2").item().create({"item": {"uid": "e", "version": 1, "content_type_uid": "blog", "action": "publish", "locale": "en-us"}})  # doctest: +SKIP
    """

    def __init__(
        self, transport: Transport[R, It], release_path: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(transport, headers)
        self._path = release_path

    def find(self) -> R:
        """One page of this release's items.

        >>> client.stack("blt1").releases("blt2").item().find().json()["items"]  # doctest: +SKIP
        """
        return self._call("GET", f"{self._path}/items")

    def iterate(self, page_size: int = PAGE_SIZE) -> It:
        """Every item of this release, page by page.

        >>> [i["uid"] for i in client.stack("blt1").releases("blt2").item().iterate()]  # doctest: +SKIP
        """
        return self._iterate(f"{self._path}/items", "items", page_size)

    def create(self, data: dict[str, Any]) -> R:
        """Add one item: `{"item": {"uid", "version", "content_type_uid", "action", "locale"}}`.

        >>> client.stack("blt1").releases("blt2").item().create({"item": {...}})  # doctest: +SKIP
        """
        return self._call("POST", f"{self._path}/item", json=body(data))

    def create_multiple(self, data: dict[str, Any]) -> R:
        """Add several items: `{"items": [...]}`.

        >>> client.stack("blt1").releases("blt2").item().create_multiple({"items": [...]})  # doctest: +SKIP
        """
        return self._call("POST", f"{self._path}/items", json=body(data))

    def update(self, data: dict[str, Any]) -> R:
        """Move items to their latest versions: `{"items": ["$all"]}` or a list.

        >>> client.stack("blt1").releases("blt2").item().update({"items": ["$all"]})  # doctest: +SKIP
        """
        return self._call("PUT", f"{self._path}/update_items", json=body(data))

    def delete(self, data: dict[str, Any]) -> R:
        """Remove the listed items (a DELETE with a JSON body, as the API wants).

        >>> client.stack("blt1").releases("blt2").item().delete({"items": [{"uid": "e", "locale": "en-us", "version": 1, "content_type_uid": "blog", "action": "publish"}]})  # doctest: +SKIP
        """
        return self._call("DELETE", f"{self._path}/items", json=body(data))

    def delete_multiple(self, data: dict[str, Any]) -> R:
        """Remove items with `all=true`.

        >>> client.stack("blt1").releases("blt2").item().delete_multiple({"items": [...]})  # doctest: +SKIP
        """
        return self._call("DELETE", f"{self._path}/items", json=body(data), params={"all": True})

    def move(self, data: dict[str, Any]) -> R:
        """Move items to another release: `{"release_uid": target, "item": [...]}`.

        >>> client.stack("blt1").releases("blt2").item().move({"release_uid": "blt3", "item": [{"uid": "e", "locale": "en-us"}]})  # doctest: +SKIP
        """
        return self._call("POST", f"{self._path}/items/move", json=body(data))
