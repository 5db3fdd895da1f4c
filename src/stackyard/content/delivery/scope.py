"""Who a delivery request reads as: a delivery token of one stack, one environment, one branch.

    scope = resolve(tx, caller, api_key, environment, branch)

The token must belong to the stack the `api_key` names (otherwise 412, as for an unknown stack:
a token never tells which stacks exist), the environment (its name, or uid) must be one of the
token's scope (422, error_code 141, `errors.environment`), and the branch one of its branches.
Only content published to that environment is visible through the scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackyard.access.caller import Caller
from stackyard.errors import NotFound, PreconditionFailed, Unauthorized, not_found
from stackyard.store.engine import Tx

ALL_BRANCHES = "$all"


@dataclass(frozen=True)
class Scope:
    api_key: str
    org_uid: str
    branch: str
    environment: str  # the environment's uid (what `published.environment` holds)
    environment_name: str
    master_locale: str
    token_uid: str


def _bad_stack() -> PreconditionFailed:
    return PreconditionFailed(error_code=109, errors={"api_key": ["is not valid."]})


def resolve(
    tx: Tx, caller: Caller, api_key: str | None, environment: str | None, branch: str | None
) -> Scope:
    if caller.kind != "delivery_token":
        raise Unauthorized("The access token is not valid.", error_code=105)
    if not api_key or caller.token_api_key != api_key:
        raise _bad_stack()
    name = (environment or "").strip()
    stack = tx.one(
        "SELECT s.org_uid, s.master_locale, e.uid AS env_uid, e.name AS env_name FROM stacks s "
        "LEFT JOIN environments e ON e.api_key = s.api_key AND (e.name = ? OR e.uid = ?) WHERE s.api_key = ?",
        name,
        name,
        api_key,
    )
    if stack is None:
        raise _bad_stack()
    envs: list[str] = []
    branches: list[str] = []
    for rule in caller.token_scope:
        if rule.get("module") == "environment":
            envs += [str(e) for e in rule.get("environments") or []]
        elif rule.get("module") == "branch":
            branches += [str(b) for b in rule.get("branches") or []]
    if not name or stack["env_uid"] is None or stack["env_uid"] not in envs:
        raise NotFound(
            f"The environment '{name}' was not found, or this delivery token cannot read it.",
            error_code=141,
            errors={"environment": ["is not valid."]},
        )
    chosen = branch or "main"
    if chosen != "main":
        # Branches other than main arrive with the branch API; until then they do not exist.
        raise not_found("branch", 141)
    if chosen not in branches and ALL_BRANCHES not in branches and branches:
        raise NotFound(
            f"This delivery token cannot read the branch '{chosen}'.",
            error_code=141,
            errors={"branch": ["is not valid."]},
        )
    return Scope(
        api_key=api_key,
        org_uid=str(stack["org_uid"]),
        branch=chosen,
        environment=str(stack["env_uid"]),
        environment_name=str(stack["env_name"]),
        master_locale=str(stack["master_locale"]),
        token_uid=str(caller.token_uid),
    )
