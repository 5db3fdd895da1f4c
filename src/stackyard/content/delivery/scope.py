"""Who a delivery request reads as: a delivery token of one stack, one environment, one branch.

    found = lookup(tx, api_key, environment)   # the stack, the environment and the event clock
    scope = resolve(tx, caller, api_key, environment, branch, found)

The token must belong to the stack the `api_key` names (otherwise 412, as for an unknown stack:
a token never tells which stacks exist), the environment (its name, or uid) must be one of the
token's scope (422, error_code 141, `errors.environment`), and the branch one of its branches.
Only content published to that environment is visible through the scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackyard.access.caller import Caller
from stackyard.errors import NotFound, PreconditionFailed, Unauthorized, not_found
from stackyard.store.engine import Row, Tx

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
    clock: int = 0  # the event position the read saw (`content.delivery.cache.clock`)


def _bad_stack() -> PreconditionFailed:
    return PreconditionFailed(error_code=109, errors={"api_key": ["is not valid."]})


# One row whatever the api_key and environment: the event clock comes with it either way.
_LOOKUP = (
    "SELECT (SELECT c.gseq FROM event_clock c WHERE c.id = 1) AS clock, s.org_uid, s.master_locale, "
    "e.uid AS env_uid, e.name AS env_name FROM (SELECT 1 AS one) AS one "
    "LEFT JOIN stacks s ON s.api_key = ? "
    "LEFT JOIN environments e ON e.api_key = s.api_key AND (e.name = ? OR e.uid = ?)"
)


def lookup(tx: Tx, api_key: str | None, environment: str | None) -> Row:
    """The event clock, and the stack `api_key` with its environment named (or uid) `environment`
    (their columns None when there is no such stack or environment): one statement, the first of
    a delivery read, so the clock is read before any content (what the caches check against)."""
    name = (environment or "").strip()
    row = tx.one(_LOOKUP, api_key or "", name, name)
    assert row is not None
    row["clock"] = int(row["clock"] or 0)
    return row


def resolve(
    tx: Tx, caller: Caller, api_key: str | None, environment: str | None, branch: str | None, found: Row
) -> Scope:
    """The scope of `caller` reading the stack and environment `lookup` found."""
    if caller.kind != "delivery_token":
        raise Unauthorized("The access token is not valid.", error_code=105)
    if not api_key or caller.token_api_key != api_key:
        raise _bad_stack()
    name = (environment or "").strip()
    stack = found
    if stack["org_uid"] is None:
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
        clock=int(stack["clock"]),
    )
