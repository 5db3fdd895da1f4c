"""Environments (catalogue §2.8): `environments`, `environments/{name}`; the path key is the name."""

from __future__ import annotations

from typing import TypeVar

from ._resource import Collection

R = TypeVar("R")
It = TypeVar("It")


class Environment(Collection[R, It]):
    """`stack.environments(name)`: find/iterate/fetch/create/update/delete.

    >>> client.stack("blt1").environments("production").fetch().json()["environment"]  # doctest: +SKIP
    """

    base = "environments"
    envelope = "environments"
    what = "environment name"
