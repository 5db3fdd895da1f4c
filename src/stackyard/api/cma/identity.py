"""CMA routes for the user session, the user profile and organizations (catalogue §2.1)."""

from __future__ import annotations

from typing import Any

from stackyard.access.caller import Caller
from stackyard.api.routing import Req, Router
from stackyard.core.readonly import writable
from stackyard.errors import invalid
from stackyard.identity import accounts, organizations, sessions, users
from stackyard.stacks import members as stack_members
from stackyard.stacks import stacks

router = Router()


@router.post("/v3/user-session")
def login(r: Req) -> Any:
    r.throttle_account_call()
    data = r.envelope("user")
    attempt = sessions.login(r.db, data, r.settings)
    if attempt.error is not None:
        raise attempt.error  # only now, once the failed attempt has been counted and committed
    with r.db.read() as tx:
        return {
            "notice": "Login Successful.",
            "user": users.render(tx, users.get_row(tx, attempt.user_uid), authtoken=attempt.authtoken),
        }


@router.delete("/v3/user-session")
def logout(r: Req) -> Any:
    with r.db.write() as tx:
        r.user(tx)
        sessions.logout(tx, r.caller(tx))
    return {"notice": "You've logged out successfully!"}


@router.get("/v3/user")
def fetch_user(r: Req) -> Any:
    with r.db.read() as tx:
        user_uid = r.user(tx)
        return {"user": users.render(tx, users.get_row(tx, user_uid))}


@router.post("/v3/user")
def sign_up(r: Req) -> Any:
    """Self-service sign-up (a Stackyard addition, off unless `--allow-signup`): an inactive account
    and an activation mail; activating it opens the user's own organization."""
    r.throttle_account_call()
    accounts.require_signup(r.settings)  # before the body is read: off means off
    data = r.envelope("user")
    with r.db.write() as tx:
        accounts.sign_up(tx, data, r.settings)
    return {"notice": accounts.SIGNUP_NOTICE}


@router.put("/v3/user")
def update_user(r: Req) -> Any:
    data = writable("user", r.envelope("user"))
    with r.db.write() as tx:
        user_uid = r.user(tx)
        users.update(tx, user_uid, data)
        return {
            "notice": "Profile updated successfully.",
            "user": users.render(tx, users.get_row(tx, user_uid)),
        }


@router.post("/v3/user/activate/{token}")
def activate(r: Req) -> Any:
    r.throttle_account_call()
    data = r.envelope("user")
    accounts.activate(r.db, r.path["token"], data, r.settings)
    return {"notice": "Your account has been activated."}


@router.post("/v3/user/forgot_password")
def forgot_password(r: Req) -> Any:
    r.throttle_account_call()
    data = r.envelope("user")
    with r.db.write() as tx:
        users.forgot_password(
            tx, data.get("email"), r.settings.reset_token_ttl_seconds, r.settings.public_url
        )
    return {
        "notice": "If this email address exists, we will send you an email with instructions for resetting your password."
    }


@router.post("/v3/user/reset_password")
def reset_password(r: Req) -> Any:
    r.throttle_account_call()
    data = r.envelope("user")
    users.reset_password(r.db, data, r.settings, Caller("anonymous", r.request_id, r.remote_addr))
    return {"notice": "Your password has been reset successfully."}


@router.post("/v3/user/two_factor")
def tfa_setup(r: Req) -> Any:
    """Start two-factor enrolment (a Stackyard addition): answers the TOTP secret once."""
    with r.db.write() as tx:
        user_uid = r.user(tx)
        return {
            "notice": "Confirm with a code from your authenticator.",
            "tfa": sessions.tfa_setup(tx, user_uid, str(r.caller(tx).email)),
        }


@router.post("/v3/user/two_factor/enable")
def tfa_enable(r: Req) -> Any:
    data = r.envelope("user")
    with r.db.write() as tx:
        sessions.tfa_confirm(tx, r.user(tx), data.get("tfa_token"), enable=True)
    return {"notice": "Two-factor authentication is on."}


@router.post("/v3/user/two_factor/disable")
def tfa_disable(r: Req) -> Any:
    data = r.envelope("user")
    with r.db.write() as tx:
        sessions.tfa_confirm(tx, r.user(tx), data.get("tfa_token"), enable=False)
    return {"notice": "Two-factor authentication is off."}


@router.get("/v3/organizations")
def find_organizations(r: Req) -> Any:
    with r.db.read() as tx:
        return {"organizations": organizations.find(tx, r.user(tx))}


@router.get("/v3/organizations/{org_uid}")
def fetch_organization(r: Req) -> Any:
    with r.db.read() as tx:
        return {"organization": organizations.fetch(tx, r.user(tx), r.path["org_uid"])}


@router.get("/v3/organizations/{org_uid}/roles")
def organization_roles(r: Req) -> Any:
    with r.db.read() as tx:
        return {"roles": organizations.roles(tx, r.user(tx), r.path["org_uid"])}


@router.get("/v3/organizations/{org_uid}/stacks")
def organization_stacks(r: Req) -> Any:
    with r.db.read() as tx:
        rows = organizations.stacks(tx, r.user(tx), r.path["org_uid"])
        return {"stacks": [stacks.render(tx, row) for row in rows]}


@router.post("/v3/organizations/{org_uid}/share")
def organization_share(r: Req) -> Any:
    data = r.json()
    with r.db.write() as tx:
        r.user(tx)
        shares = organizations.share(
            tx,
            r.caller(tx),
            r.path["org_uid"],
            data,
            stacks.grant_in_organization,
            public_url=r.settings.public_url,
            ttl_seconds=r.settings.invitation_ttl_seconds,
        )
    return {"notice": "The invitation has been sent successfully.", "shares": shares}


@router.post("/v3/user/invitations/{token}/accept")
def accept_invitation(r: Req) -> Any:
    """The invited user, logged in, accepts with the mailed token (POST only: a link opened by a
    mail scanner must not join anyone)."""
    with r.db.write() as tx:
        r.user(tx)
        accepted = stack_members.accept_invitation(tx, r.caller(tx), r.path["token"])
    return {"notice": "The invitation has been accepted.", "invitation": accepted}


@router.post("/v3/organizations/{org_uid}/transfer-ownership")
def organization_transfer(r: Req) -> Any:
    data = r.json()
    if "transfer_to" not in data:
        raise invalid({"transfer_to": ["is required."]})
    with r.db.write() as tx:
        r.user(tx)
        organizations.transfer_ownership(tx, r.caller(tx), r.path["org_uid"], data["transfer_to"])
    return {"notice": "Organization ownership has been transferred successfully."}


@router.get("/v3/organizations/{org_uid}/logs")
def organization_logs(r: Req) -> Any:
    with r.db.read() as tx:
        skip, limit = r.page()
        logs, count = organizations.logs(tx, r.user(tx), r.path["org_uid"], skip, limit)
        out: dict[str, Any] = {"logs": logs}
        if r.flag("include_count"):
            out["count"] = count
        return out
