"""Branches and branch aliases (catalogue §2.6): `stacks/branches`, `stacks/branch_aliases`.

Creating and deleting a branch is asynchronous on the server: the answer says the work started.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ._resource import Collection, body

R = TypeVar("R")
It = TypeVar("It")


class Branch(Collection[R, It]):
    """`stack.branch(uid)`: find/iterate/fetch/create/delete.

    >>> client.stack("blt1").branch().create({"branch": {"uid": "dev", "source": "main"}})  # doctest: +SKIP
    """

    base = "stacks/branches"
    envelope = "branches"
    what = "branch uid"


class BranchAlias(Collection[R, It]):
    """`stack.branch_alias(uid)`: find/iterate/fetch/assign/delete.

    >>> client.stack("blt1").branch_alias("live").assign({"branch_alias": {"target_branch": "main"}})  # doctest: +SKIP
    """

    base = "stacks/branch_aliases"
    envelope = "branch_aliases"
    what = "branch alias uid"

    def assign(self, data: dict[str, Any]) -> R:
        """Point this alias at a branch (creating the alias if needed).

        >>> client.stack("blt1").branch_alias("live").assign({"branch_alias": {"target_branch": "dev"}})  # doctest: +SKIP
        """
        return self._call("PUT", self._one(), json=body(data))
