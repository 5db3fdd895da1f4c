"""Stack roles (catalogue §2.10): `roles[/{uid}]`, built-in and custom, with their rules."""

from __future__ import annotations

from typing import TypeVar

from ._resource import Collection

R = TypeVar("R")
It = TypeVar("It")


class Role(Collection[R, It]):
    """`stack.roles(uid)`: find/iterate/fetch/create/update/delete.

    >>> client.stack("blt1").roles().find().json()["roles"]  # doctest: +SKIP
    """

    base = "roles"
    envelope = "roles"
    what = "role uid"
