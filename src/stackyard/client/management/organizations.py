"""Organizations (catalogue §2.1): `organizations`, `organizations/{uid}` and its sub-resources.

Each call has the short name the catalogue uses and the longer name the seed reference shows
(`roles` and `get_organization_roles`, ...); both send the same request.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ._resource import Collection, body

R = TypeVar("R")
It = TypeVar("It")


class Organization(Collection[R, It]):
    """`client.organizations(uid)`: find/iterate/fetch, roles, users, ownership, stacks, logs.

    >>> client.organizations("blt1").fetch().json()["organization"]["name"]  # doctest: +SKIP
    """

    base = "organizations"
    envelope = "organizations"
    what = "organization uid"

    def roles(self) -> R:
        """The organization's roles.

        >>> client.organizations("blt1").roles().json()["roles"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("roles"))

    get_organization_roles = roles

    def add_users(self, data: dict[str, Any]) -> R:
        """Invite users to the organization (and optionally its stacks).

        >>> client.organizations("blt1").add_users({"share": {"users": {"a@b.c": ["role_uid"]}}})  # doctest: +SKIP
        """
        return self._call("POST", self._one("share"), json=body(data))

    organization_add_users = add_users

    def transfer_ownership(self, data: dict[str, Any]) -> R:
        """Hand the organization to another member.

        >>> client.organizations("blt1").transfer_ownership({"transfer_to": "a@b.c"})  # doctest: +SKIP
        """
        return self._call("POST", self._one("transfer-ownership"), json=body(data))

    transfer_organizations_ownership = transfer_ownership

    def stacks(self) -> R:
        """The organization's stacks.

        >>> client.organizations("blt1").stacks().json()["stacks"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("stacks"))

    organization_stacks = stacks

    def logs(self) -> R:
        """The organization's audit log.

        >>> client.organizations("blt1").logs().json()  # doctest: +SKIP
        """
        return self._call("GET", self._one("logs"))

    organization_logs = logs
