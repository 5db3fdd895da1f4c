"""`login`, `logout`, `whoami` and `user activate/forgot-password/reset-password`.

`login` keeps the authtoken and the server URL in the session file (see `stackyard.cli.config`) so
later commands need no credentials; `logout` ends the session on the server and removes the file.
Passwords are read with `getpass` unless given with `--password`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from stackyard.cli import config
from stackyard.cli.context import Ctx
from stackyard.cli.errors import CLIError, UsageError
from stackyard.cli.resources import Verb, add_verb, arg, nonempty
from stackyard.errors import Unauthorized, UnprocessableEntity

TFA_REQUIRED = 294
USER_ATTRS = ("uid", "email", "username", "first_name", "last_name", "org_uid", "tfa_status")


def _password(given: str | None, prompt: str = "Password: ", *, confirm: bool = False) -> str:
    if given:
        return given
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat it: ") != first:
        raise UsageError("the passwords do not match")
    if not first:
        raise UsageError("a password is required")
    return first


def _public(user: dict[str, Any]) -> dict[str, Any]:
    """The user object without its session token: tokens are for the session file, not the screen."""
    return {k: v for k, v in user.items() if k != "authtoken"}


def login(ctx: Ctx, args: argparse.Namespace) -> Any:
    password = _password(args.password)
    # a fresh session: send no token this invocation might otherwise have picked up
    ctx.credentials = replace(ctx.credentials, authtoken=None, management_token=None)
    client = ctx.client()
    try:
        answer = client.login(args.email, password, tfa_token=args.tfa_token)
    except UnprocessableEntity as e:
        if e.error_code != TFA_REQUIRED or args.tfa_token or not sys.stdin.isatty():
            raise
        ctx.err.write("Two-factor code: ")  # prompts go to stderr so -j output stays clean
        ctx.err.flush()
        answer = client.login(args.email, password, tfa_token=sys.stdin.readline().strip())
    user = answer.json()["user"]
    path = config.save_session(
        {
            "url": ctx.credentials.url,
            "authtoken": user["authtoken"],
            "email": user.get("email", args.email),
            "user_uid": user.get("uid"),
            "logged_in_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    ctx.err.write(
        f"Logged in to {ctx.credentials.url} as {user.get('email', args.email)} (session in {path}).\n"
    )
    return _public(user)


def logout(ctx: Ctx, args: argparse.Namespace) -> Any:
    session = config.load_session()
    if not ctx.credentials.authtoken:
        raise CLIError(f"not logged in to {ctx.credentials.url}")
    try:
        answer = ctx.client().logout().json()
    except Unauthorized:
        answer = {"notice": "The session had already ended."}
    if session.get("url") == ctx.credentials.url and session.get("authtoken") == ctx.credentials.authtoken:
        config.remove_session()
    return answer


def whoami(ctx: Ctx, args: argparse.Namespace) -> Any:
    if not (ctx.credentials.authtoken or ctx.credentials.management_token):
        raise CLIError(f"not logged in to {ctx.credentials.url}: run `stackyard login --email ...`")
    return _public(ctx.client().user().fetch().json()["user"])


def activate(ctx: Ctx, args: argparse.Namespace) -> Any:
    user: dict[str, Any] = {}
    if args.first_name:
        user["first_name"] = args.first_name
    if args.last_name:
        user["last_name"] = args.last_name
    password = _password(args.password, "New password: ", confirm=not args.password)
    user.update(password=password, password_confirmation=password)
    return ctx.client().user().activate(args.token, {"user": user})


def forgot_password(ctx: Ctx, args: argparse.Namespace) -> Any:
    return ctx.client().user().forgot_password({"user": {"email": args.email}})


def reset_password(ctx: Ctx, args: argparse.Namespace) -> Any:
    password = _password(args.password, "New password: ", confirm=not args.password)
    body = {
        "user": {"reset_password_token": args.token, "password": password, "password_confirmation": password}
    }
    return ctx.client().user().reset_password(body)


PASSWORD_HELP = "The password (default: prompt for it; a flag shows up in shell history)."

LOGIN = Verb(
    "login",
    "Log in and keep the session for later commands.",
    login,
    show="raw",
    takes_id=False,
    columns=USER_ATTRS,
    args=(
        arg("--email", required=True, help="Your account's e-mail address."),
        arg("--password", default=None, help=PASSWORD_HELP),
        arg("--tfa-token", dest="tfa_token", default=None, help="Two-factor code, if your account uses 2FA."),
    ),
)
LOGOUT = Verb(
    "logout", "End the session on the server and forget it here.", logout, show="notice", takes_id=False
)
WHOAMI = Verb(
    "whoami", "Show the user you are logged in as.", whoami, show="raw", takes_id=False, columns=USER_ATTRS
)

USER_VERBS = (
    Verb(
        "activate",
        "Activate an invited account with the token from its e-mail.",
        activate,
        show="notice",
        takes_id=False,
        args=(
            arg("token", type=nonempty, help="The activation token from the e-mail."),
            arg("--first-name", dest="first_name", default=None, help="Your first name."),
            arg("--last-name", dest="last_name", default=None, help="Your last name."),
            arg("--password", default=None, help=PASSWORD_HELP),
        ),
    ),
    Verb(
        "forgot-password",
        "Ask for a password-reset e-mail.",
        forgot_password,
        show="notice",
        takes_id=False,
        args=(arg("email", type=nonempty, help="The account's e-mail address."),),
    ),
    Verb(
        "reset-password",
        "Set a new password with the token from the reset e-mail.",
        reset_password,
        show="notice",
        takes_id=False,
        args=(
            arg("token", type=nonempty, help="The reset token from the e-mail."),
            arg("--password", default=None, help=PASSWORD_HELP),
        ),
    ),
)


def register(sub: Any) -> None:
    for verb in (LOGIN, LOGOUT, WHOAMI):
        add_verb(sub, verb)
    p = sub.add_parser(
        "user",
        help="Account activation and password reset.",
        description="Account activation and password reset.",
    )
    verbs = p.add_subparsers(dest="verb", required=True, metavar="verb")
    for verb in USER_VERBS:
        add_verb(verbs, verb)
