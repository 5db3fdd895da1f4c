"""Labels (catalogue §2.8): `labels[/{uid}]`. As in the seed, fetch/update/delete also take the uid."""

from __future__ import annotations

from typing import Any, TypeVar

from ._resource import Collection

R = TypeVar("R")
It = TypeVar("It")


class Label(Collection[R, It]):
    """`stack.label(uid)`: find/iterate/fetch/create/update/delete.

    >>> client.stack("blt1").label().create({"label": {"name": "News", "content_types": ["blog"]}})  # doctest: +SKIP
    """

    base = "labels"
    envelope = "labels"
    what = "label uid"

    def fetch(self, label_uid: str | None = None) -> R:
        """This label (or the one named here).

        >>> client.stack("blt1").label("blt2").fetch().json()["label"]  # doctest: +SKIP
        """
        return Collection.fetch(self._named(label_uid))

    def update(self, data: dict[str, Any], label_uid: str | None = None) -> R:
        """Change this label (or the one named here).

        >>> client.stack("blt1").label("blt2").update({"label": {"name": "Updates"}})  # doctest: +SKIP
        """
        return Collection.update(self._named(label_uid), data)

    def delete(self, label_uid: str | None = None) -> R:
        """Delete this label (or the one named here).

        >>> client.stack("blt1").label("blt2").delete()  # doctest: +SKIP
        """
        return Collection.delete(self._named(label_uid))
