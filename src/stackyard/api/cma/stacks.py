"""CMA routes for stacks (catalogue §2.2). The stack is named by the `api_key` header, never the path
(accept_ownership also takes it as a query parameter, as the SDK sends it)."""

from __future__ import annotations

from typing import Any

from stackyard.api.routing import Req, Router
from stackyard.core.readonly import writable
from stackyard.stacks import members as stack_members
from stackyard.stacks import stacks

router = Router()


@router.get("/v3/stacks")
def fetch_or_list(r: Req) -> Any:
    """With an api_key header: that stack. Without: every stack the user can open."""
    with r.db.read() as tx:
        if r.headers.get("api_key"):
            access = r.access(tx)
            stack = stacks.fetch(tx, access)
            if r.flag("include_collaborators"):
                # What the JavaScript SDK's stack.users() reads.
                stack["collaborators"] = stack_members.members(tx, access)
            return {"stack": stack}
        skip, limit = r.page()
        found = stacks.find(tx, r.user(tx))
    out: dict[str, Any] = {"stacks": found[skip : skip + limit]}
    if r.flag("include_count"):
        out["count"] = len(found)
    return out


@router.post("/v3/stacks")
def create(r: Req) -> Any:
    data = r.envelope("stack")
    with r.db.write() as tx:
        r.user(tx)
        api_key = stacks.create(tx, r.caller(tx), data, r.headers.get("organization_uid"))
        return 201, {
            "notice": "Stack created successfully.",
            "stack": stacks.render(tx, stacks.row(tx, api_key)),
        }


@router.put("/v3/stacks")
def update(r: Req) -> Any:
    data = writable("stack", r.envelope("stack"))
    with r.db.write() as tx:
        access = r.access(tx)
        stacks.update(tx, access, data)
        return {
            "notice": "Stack updated successfully.",
            "stack": stacks.render(tx, stacks.row(tx, access.api_key)),
        }


@router.delete("/v3/stacks")
def delete(r: Req) -> Any:
    with r.db.write() as tx:
        stacks.delete(tx, r.access(tx))
    return {"notice": "Stack deleted successfully!"}


# -- settings, members and ownership (services in stacks/members.py) ---------------------
@router.get("/v3/stacks/settings")
def settings(r: Req) -> Any:
    with r.db.read() as tx:
        return {"stack_settings": stack_members.settings(tx, r.access(tx))}


@router.post("/v3/stacks/settings")
def update_settings(r: Req) -> Any:
    data = r.envelope("stack_settings")
    with r.db.write() as tx:
        value = stack_members.update_settings(tx, r.access(tx), data)
    return 201, {"notice": "Stack settings updated successfully.", "stack_settings": value}


@router.post("/v3/stacks/settings/reset")
def reset_settings(r: Req) -> Any:
    r.envelope("stack_settings", required=False)
    with r.db.write() as tx:
        value = stack_members.reset_settings(tx, r.access(tx))
    return 201, {"notice": "Stack settings reset successfully.", "stack_settings": value}


@router.post("/v3/stacks/share")
def share(r: Req) -> Any:
    data = r.json()
    with r.db.write() as tx:
        shares = stack_members.share(
            tx,
            r.access(tx),
            data,
            public_url=r.settings.public_url,
            ttl_seconds=r.settings.invitation_ttl_seconds,
        )
    return {"notice": "The invitation has been sent successfully.", "shares": shares}


@router.post("/v3/stacks/unshare")
def unshare(r: Req) -> Any:
    data = r.json()
    with r.db.write() as tx:
        stack_members.unshare(tx, r.access(tx), data.get("email"))
    return {"notice": "The stack has been successfully unshared."}


@router.get("/v3/stacks/users")
def users(r: Req) -> Any:
    """Envelope `users` (Contentstack's is undocumented): each user with `roles` (role uids) and `is_owner`."""
    with r.db.read() as tx:
        return {"users": stack_members.members(tx, r.access(tx))}


def update_user_roles(r: Req) -> Any:
    data = r.json()
    with r.db.write() as tx:
        access = r.access(tx)
        stack_members.update_user_roles(tx, access, data)
        members = stack_members.members(tx, access)
    return {"notice": "Roles updated successfully", "users": members}


# The Python SDK sends PUT, the JavaScript SDK POST.
router.put("/v3/stacks/users/roles")(update_user_roles)
router.post("/v3/stacks/users/roles")(update_user_roles)


@router.post("/v3/stacks/transfer_ownership")
def transfer_ownership(r: Req) -> Any:
    data = r.json()
    with r.db.write() as tx:
        stack_members.transfer_ownership(
            tx,
            r.access(tx),
            data.get("transfer_to"),
            r.settings.public_url,
            r.settings.ownership_token_ttl_seconds,
        )
    return {"notice": "Email has been successfully sent to the user."}


@router.get("/v3/stacks/accept_ownership/{token}")
def accept_ownership(r: Req) -> Any:
    """The mailed token is the credential; `api_key` and `uid` come as query parameters (SDK)."""
    r.throttle_account_call()
    api_key = r.param("api_key") or r.headers.get("api_key")
    with r.db.write() as tx:
        stack_members.accept_ownership(tx, r.caller(tx), r.path["token"], api_key, r.param("uid"))
    return {"notice": "Stack ownership accepted successfully."}
