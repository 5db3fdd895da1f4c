"""Entry and asset metadata (catalogue §2.8): `metadata[/{uid}]`, publish/unpublish.

The same key `metadata` wraps both the list and a single object.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ._resource import Collection, body

R = TypeVar("R")
It = TypeVar("It")


class Metadata(Collection[R, It]):
    """`stack.metadata(uid)`: find/iterate/fetch/create/update/delete, publish/unpublish.

    >>> client.stack("blt1").metadata("blt2").fetch().json()["metadata"]["entity_uid"]  # doctest: +SKIP
    """

    base = "metadata"
    envelope = "metadata"
    what = "metadata uid"

    def publish(self, data: dict[str, Any]) -> R:
        """Publish this metadata: `{"metadata": {"environments": [...], "locales": [...]}}`.

        >>> client.stack("blt1").metadata("blt2").publish({"metadata": {"environments": ["prod"], "locales": ["en-us"]}})  # doctest: +SKIP
        """
        return self._call("POST", self._one("publish"), json=body(data))

    def unpublish(self, data: dict[str, Any]) -> R:
        """Withdraw this metadata from environments.

        >>> client.stack("blt1").metadata("blt2").unpublish({"metadata": {"environments": ["prod"], "locales": ["en-us"]}})  # doctest: +SKIP
        """
        return self._call("POST", self._one("unpublish"), json=body(data))
