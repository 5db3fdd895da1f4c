"""The signed-in user (catalogue §2.1): `user`, `user/activate/{token}`, password reset."""

from __future__ import annotations

from typing import Any, TypeVar

from .._path import segment
from ._resource import Resource, body

R = TypeVar("R")
It = TypeVar("It")


class User(Resource[R, It]):
    """`client.user()`: the account the authtoken belongs to.

    >>> client.user().fetch().json()["user"]["email"]  # doctest: +SKIP
    """

    def fetch(self) -> R:
        """The signed-in user's profile.

        >>> client.user().fetch().json()["user"]  # doctest: +SKIP
        """
        return self._call("GET", "user")

    def update(self, data: dict[str, Any]) -> R:
        """Change profile fields.

        >>> client.user().update({"user": {"first_name": "Ada"}})  # doctest: +SKIP
        """
        return self._call("PUT", "user", json=body(data))

    def activate(self, activation_token: str, data: dict[str, Any]) -> R:
        """Activate an invited account with the token from its e-mail.

        >>> client.user().activate("tok", {"user": {"password": "pw", "password_confirmation": "pw"}})  # doctest: +SKIP
        """
        return self._call(
            "POST", f"user/activate/{segment(activation_token, 'activation token')}", json=body(data)
        )

    def forgot_password(self, data: dict[str, Any]) -> R:
        """Ask for a password-reset e-mail.

        >>> client.user().forgot_password({"user": {"email": "ada@example.com"}})  # doctest: +SKIP
        """
        return self._call("POST", "user/forgot_password", json=body(data))

    def request_password(self, data: dict[str, Any]) -> R:
        """Same as `forgot_password` (the name the seed reference uses).

        >>> client.user().request_password({"user": {"email": "ada@example.com"}}).json()  # doctest: +SKIP
        """
        return self.forgot_password(data)

    def reset_password(self, data: dict[str, Any]) -> R:
        """Set a new password with the token from the reset e-mail.

        >>> client.user().reset_password({"user": {"reset_password_token": "t", "password": "p", "password_confirmation": "p"}})  # doctest: +SKIP
        """
        return self._call("POST", "user/reset_password", json=body(data))

    # -- two-factor login (a Stackyard addition to the API) -------------------------------------

    def two_factor_setup(self) -> R:
        """Start two-factor enrolment; the answer holds the TOTP `secret` (shown once).

        >>> client.user().two_factor_setup().json()["tfa"]["secret"]  # doctest: +SKIP
        """
        return self._call("POST", "user/two_factor")

    def two_factor_enable(self, tfa_token: str) -> R:
        """Turn two-factor login on, confirming with a current code.

        >>> client.user().two_factor_enable("123456")  # doctest: +SKIP
        """
        return self._call("POST", "user/two_factor/enable", json={"user": {"tfa_token": str(tfa_token)}})

    def two_factor_disable(self, tfa_token: str) -> R:
        """Turn two-factor login off, confirming with a current code.

        >>> client.user().two_factor_disable("123456")  # doctest: +SKIP
        """
        return self._call("POST", "user/two_factor/disable", json={"user": {"tfa_token": str(tfa_token)}})
