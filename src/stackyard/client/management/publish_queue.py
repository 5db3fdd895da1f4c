"""The publish queue (catalogue §2.9): `publish-queue[/{uid}]`; one item comes back under `entry`."""

from __future__ import annotations

from typing import TypeVar

from ._resource import Collection

R = TypeVar("R")
It = TypeVar("It")


class PublishQueue(Collection[R, It]):
    """`stack.publish_queue(uid)`: find/iterate/fetch, cancel a scheduled action.

    >>> client.stack("blt1").publish_queue().find().json()["queue"]  # doctest: +SKIP
    """

    base = "publish-queue"
    envelope = "queue"
    what = "publish queue uid"

    def cancel(self) -> R:
        """Cancel this scheduled publish, unpublish or release deployment (a GET, as the API has it).

        >>> client.stack("blt1").publish_queue("blt2").cancel().json()["notice"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("unschedule"))
