"""Delivery and management tokens (catalogue §2.8): `stacks/delivery_tokens`, `stacks/management_tokens`.

Both list under the key `tokens` and answer one under `token`; the secret is shown once, at creation.
"""

from __future__ import annotations

from typing import TypeVar

from ._resource import Collection

R = TypeVar("R")
It = TypeVar("It")


class DeliveryToken(Collection[R, It]):
    """`stack.delivery_token(uid)`: find/iterate/fetch/create/update/delete, and its preview token.

    >>> client.stack("blt1").delivery_token().create({"token": {"name": "web", "scope": [...]}}).json()["token"]["token"]  # doctest: +SKIP
    """

    base = "stacks/delivery_tokens"
    envelope = "tokens"
    what = "delivery token uid"

    def create_preview_token(self) -> R:
        """Give this delivery token a preview token (live preview), replacing any it had; the
        answer's `token.preview_token` is the only time it is shown.

        >>> client.stack("blt1").delivery_token("blt2").create_preview_token().json()["token"]["preview_token"]  # doctest: +SKIP
        """
        return self._call("POST", self._one("preview_token"))

    def delete_preview_token(self) -> R:
        """Remove this delivery token's preview token: previews with it are refused from now on.

        >>> client.stack("blt1").delivery_token("blt2").delete_preview_token()  # doctest: +SKIP
        """
        return self._call("DELETE", self._one("preview_token"))


class ManagementToken(Collection[R, It]):
    """`stack.management_token(uid)`: find/iterate/fetch/create/update/delete.

    >>> client.stack("blt1").management_token("blt2").fetch().json()["token"]["scope"]  # doctest: +SKIP
    """

    base = "stacks/management_tokens"
    envelope = "tokens"
    what = "management token uid"
