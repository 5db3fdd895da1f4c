"""Locales (catalogue §2.8): `locales`, `locales/{code}`; fallback is just a locale field."""

from __future__ import annotations

from typing import Any, TypeVar

from ._resource import Collection, body

R = TypeVar("R")
It = TypeVar("It")


class Locale(Collection[R, It]):
    """`stack.locale(code)`: find/iterate/fetch/create/update/delete, set_fallback/update_fallback.

    >>> client.stack("blt1").locale("fr-fr").fetch().json()["locale"]["fallback_locale"]  # doctest: +SKIP
    """

    base = "locales"
    envelope = "locales"
    what = "locale code"

    def set_fallback(self, data: dict[str, Any]) -> R:
        """Add a locale together with its fallback (the same call as `create`).

        >>> client.stack("blt1").locale().set_fallback({"locale": {"code": "fr-ca", "fallback_locale": "fr-fr"}})  # doctest: +SKIP
        """
        return self._call("POST", self.base, json=body(data))

    def update_fallback(self, data: dict[str, Any]) -> R:
        """Change this locale's fallback (the same call as `update`).

        >>> client.stack("blt1").locale("fr-ca").update_fallback({"locale": {"fallback_locale": "en-us"}})  # doctest: +SKIP
        """
        return self._call("PUT", self._one(), json=body(data))
