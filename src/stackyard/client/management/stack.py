"""A stack (catalogue §2.2) and the door to everything inside it.

The stack is named by the `api_key` header, never the path; `client.stack(k)` puts that header on
this object only, and every resource made from it starts from a copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from .._http import Transport
from .._path import segment
from ._resource import PAGE_SIZE, Resource, body
from .assets import Asset
from .auditlog import Auditlog
from .branches import Branch, BranchAlias
from .bulk import BulkOperation
from .content_types import ContentType
from .environments import Environment
from .extensions import Extension
from .global_fields import GlobalField
from .labels import Label
from .locales import Locale
from .metadata import Metadata
from .publish_queue import PublishQueue
from .releases import Release
from .roles import Role
from .taxonomies import Taxonomy
from .tokens import DeliveryToken, ManagementToken
from .webhooks import Webhook
from .workflows import Workflow

R = TypeVar("R")
It = TypeVar("It")


class Stack(Resource[R, It]):
    """`client.stack(api_key)`: the stack itself plus factories for its resources.

    >>> client.stack("blt1").fetch().json()["stack"]["name"]  # doctest: +SKIP
    """

    def __init__(
        self,
        transport: Transport[R, It],
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(transport, headers)
        self.api_key = api_key
        if api_key is not None:
            segment(api_key, "api_key")
            self._headers["api_key"] = api_key

    def _keyed(self) -> None:
        if self.api_key is None:
            raise ValueError("this call needs the stack's api_key: client.stack('api_key')")

    # -- the stack itself -----------------------------------------------------------------------

    def fetch(self) -> R:
        """This stack.

        >>> client.stack("blt1").fetch().json()["stack"]  # doctest: +SKIP
        """
        self._keyed()
        return self._call("GET", "stacks")

    def find(self) -> R:
        """All stacks the caller can see (sent without an api_key, whatever this object holds).

        >>> client.stack().find().json()["stacks"]  # doctest: +SKIP
        """
        return self._call("GET", "stacks", omit=("api_key",))

    def iterate(self, page_size: int = PAGE_SIZE) -> It:
        """Every stack the caller can see, page by page.

        >>> [s["name"] for s in client.stack().iterate()]  # doctest: +SKIP
        """
        return self._iterate("stacks", "stacks", page_size, omit=("api_key",))

    def create(self, organization_uid: str | None, data: dict[str, Any]) -> R:
        """Create a stack in an organization (sent as the `organization_uid` header, which the official SDK drops).

        >>> client.stack().create("org_uid", {"stack": {"name": "Blog", "master_locale": "en-us"}})  # doctest: +SKIP
        """
        headers = (
            {"organization_uid": segment(organization_uid, "organization uid")} if organization_uid else {}
        )
        return self._call("POST", "stacks", json=body(data), headers=headers)

    def update(self, data: dict[str, Any]) -> R:
        """Rename or describe this stack.

        >>> client.stack("blt1").update({"stack": {"name": "Blog 2"}}).json()  # doctest: +SKIP
        """
        self._keyed()
        return self._call("PUT", "stacks", json=body(data))

    def delete(self) -> R:
        """Delete this stack and everything in it.

        >>> client.stack("blt1").delete()  # doctest: +SKIP
        """
        self._keyed()
        return self._call("DELETE", "stacks")

    def users(self) -> R:
        """The users this stack is shared with.

        >>> client.stack("blt1").users().json()  # doctest: +SKIP
        """
        self._keyed()
        return self._call("GET", "stacks/users")

    def update_user_role(self, data: dict[str, Any]) -> R:
        """Set users' stack roles: `{"users": {user_uid: [role_uid, ...]}}`.

        >>> client.stack("blt1").update_user_role({"users": {"blt_user": ["blt_role"]}})  # doctest: +SKIP
        """
        self._keyed()
        return self._call("PUT", "stacks/users/roles", json=body(data))

    def transfer_ownership(self, data: dict[str, Any]) -> R:
        """Offer this stack to another user: `{"transfer_to": email}`.

        >>> client.stack("blt1").transfer_ownership({"transfer_to": "a@b.c"})  # doctest: +SKIP
        """
        self._keyed()
        return self._call("POST", "stacks/transfer_ownership", json=body(data))

    def accept_ownership(self, user_id: str, ownership_token: str) -> R:
        """Accept a stack offered to you, with the token from the e-mail.

        >>> client.stack("blt1").accept_ownership("user_uid", "token")  # doctest: +SKIP
        """
        self._keyed()
        path = f"stacks/accept_ownership/{segment(ownership_token, 'ownership token')}"
        return self._call("GET", path, params={"api_key": self.api_key, "uid": segment(user_id, "user uid")})

    def settings(self) -> R:
        """This stack's settings.

        >>> client.stack("blt1").settings().json()["stack_settings"]  # doctest: +SKIP
        """
        self._keyed()
        return self._call("GET", "stacks/settings")

    def create_settings(self, data: dict[str, Any]) -> R:
        """Add or change stack settings.

        >>> client.stack("blt1").create_settings({"stack_settings": {"stack_variables": {}}})  # doctest: +SKIP
        """
        self._keyed()
        return self._call("POST", "stacks/settings", json=body(data))

    create_stack_settings = create_settings

    def reset_settings(self, data: dict[str, Any] | None = None) -> R:
        """Put the stack settings back to their defaults.

        >>> client.stack("blt1").reset_settings({"stack_settings": {}})  # doctest: +SKIP
        """
        self._keyed()
        return self._call(
            "POST", "stacks/settings/reset", json=body(data if data is not None else {"stack_settings": {}})
        )

    reset_stack_settings = reset_settings

    def share(self, data: dict[str, Any]) -> R:
        """Invite users to this stack: `{"emails": [...], "roles": {email: [role_uid]}}`.

        >>> client.stack("blt1").share({"emails": ["a@b.c"], "roles": {"a@b.c": ["blt_role"]}})  # doctest: +SKIP
        """
        self._keyed()
        return self._call("POST", "stacks/share", json=body(data))

    share_stack = share

    def unshare(self, data: dict[str, Any]) -> R:
        """Remove a user from this stack: `{"email": ...}`.

        >>> client.stack("blt1").unshare({"email": "a@b.c"})  # doctest: +SKIP
        """
        self._keyed()
        return self._call("POST", "stacks/unshare", json=body(data))

    # -- resources inside the stack -------------------------------------------------------------

    def environments(self, environment_name: str | None = None) -> Environment[R, It]:
        """Environments, or one by name.

        >>> client.stack("blt1").environments("production").fetch()  # doctest: +SKIP
        """
        return Environment(self._t, environment_name, self._headers)

    environment = environments

    def locale(self, locale_code: str | None = None) -> Locale[R, It]:
        """Locales, or one by code.

        >>> client.stack("blt1").locale("fr-fr").fetch()  # doctest: +SKIP
        """
        return Locale(self._t, locale_code, self._headers)

    locales = locale

    def auditlog(self, log_uid: str | None = None) -> Auditlog[R, It]:
        """The audit log, or one entry of it.

        >>> client.stack("blt1").auditlog().find().json()["logs"]  # doctest: +SKIP
        """
        return Auditlog(self._t, log_uid, self._headers)

    def content_types(
        self, content_type_uid: str | None = None, branch: str | None = None
    ) -> ContentType[R, It]:
        """Content types, or one by uid; `branch` sends the `branch` header.

        >>> client.stack("blt1").content_types("blog", branch="main").fetch()  # doctest: +SKIP
        """
        return ContentType(self._t, content_type_uid, self._headers, branch)

    content_type = content_types

    def global_fields(
        self,
        global_field_uid: str | None = None,
        options: dict[str, Any] | None = None,
        branch: str | None = None,
    ) -> GlobalField[R, It]:
        """Global fields, or one by uid; `options={"api_version": 3.2}` becomes a header.

        >>> client.stack("blt1").global_fields("seo").fetch()  # doctest: +SKIP
        """
        return GlobalField(self._t, global_field_uid, self._headers, options, branch)

    global_field = global_fields

    def roles(self, role_uid: str | None = None) -> Role[R, It]:
        """Stack roles, or one by uid.

        >>> client.stack("blt1").roles().find().json()["roles"]  # doctest: +SKIP
        """
        return Role(self._t, role_uid, self._headers)

    def delivery_token(self, delivery_token_uid: str | None = None) -> DeliveryToken[R, It]:
        """Delivery tokens, or one by uid.

        >>> client.stack("blt1").delivery_token().find().json()["tokens"]  # doctest: +SKIP
        """
        return DeliveryToken(self._t, delivery_token_uid, self._headers)

    def management_token(self, management_token_uid: str | None = None) -> ManagementToken[R, It]:
        """Management tokens, or one by uid.

        >>> client.stack("blt1").management_token().find().json()["tokens"]  # doctest: +SKIP
        """
        return ManagementToken(self._t, management_token_uid, self._headers)

    def label(self, label_uid: str | None = None) -> Label[R, It]:
        """Labels, or one by uid.

        >>> client.stack("blt1").label().find().json()["labels"]  # doctest: +SKIP
        """
        return Label(self._t, label_uid, self._headers)

    labels = label

    def extension(self, extension_uid: str | None = None) -> Extension[R, It]:
        """Extensions, or one by uid.

        >>> client.stack("blt1").extension().find().json()["extensions"]  # doctest: +SKIP
        """
        return Extension(self._t, extension_uid, self._headers)

    extensions = extension

    def metadata(self, metadata_uid: str | None = None) -> Metadata[R, It]:
        """Entry/asset metadata, or one by uid.

        >>> client.stack("blt1").metadata().find().json()["metadata"]  # doctest: +SKIP
        """
        return Metadata(self._t, metadata_uid, self._headers)

    def assets(self, asset_uid: str | None = None, branch: str | None = None) -> Asset[R, It]:
        """Assets and folders, or one asset by uid; `branch` sends the `branch` header.

        >>> client.stack("blt1").assets("blt2").fetch().json()["asset"]  # doctest: +SKIP
        """
        return Asset(self._t, asset_uid, self._headers, branch)

    def branch(self, branch_uid: str | None = None) -> Branch[R, It]:
        """Branches, or one by uid.

        >>> client.stack("blt1").branch().find().json()["branches"]  # doctest: +SKIP
        """
        return Branch(self._t, branch_uid, self._headers)

    branches = branch

    def branch_alias(self, alias_uid: str | None = None) -> BranchAlias[R, It]:
        """Branch aliases, or one by uid.

        >>> client.stack("blt1").branch_alias().find().json()["branch_aliases"]  # doctest: +SKIP
        """
        return BranchAlias(self._t, alias_uid, self._headers)

    alias = branch_alias

    def bulk_operation(self) -> BulkOperation[R, It]:
        """Bulk publish, unpublish, delete and workflow updates.

        >>> client.stack("blt1").bulk_operation().job_status("job1")  # doctest: +SKIP
        """
        return BulkOperation(self._t, self._headers)

    def publish_queue(self, publish_queue_uid: str | None = None) -> PublishQueue[R, It]:
        """The publish queue, or one item of it.

        >>> client.stack("blt1").publish_queue().find().json()["queue"]  # doctest: +SKIP
        """
        return PublishQueue(self._t, publish_queue_uid, self._headers)

    def releases(
        self, release_uid: str | None = None, headers: dict[str, str] | None = None
    ) -> Release[R, It]:
        """Releases, or one by uid; `headers` apply to this object's calls only.

        >>> client.stack("blt1").releases().find().json()["releases"]  # doctest: +SKIP
        """
        return Release(self._t, release_uid, {**self._headers, **(headers or {})})

    def webhooks(self, webhook_uid: str | None = None) -> Webhook[R, It]:
        """Webhooks, or one by uid.

        >>> client.stack("blt1").webhooks().find().json()["webhooks"]  # doctest: +SKIP
        """
        return Webhook(self._t, webhook_uid, self._headers)

    def workflows(self, workflow_uid: str | None = None) -> Workflow[R, It]:
        """Workflows and publish rules, or one workflow by uid.

        >>> client.stack("blt1").workflows().find().json()["workflows"]  # doctest: +SKIP
        """
        return Workflow(self._t, workflow_uid, self._headers)

    def taxonomy(self, taxonomy_uid: str | None = None) -> Taxonomy[R, It]:
        """Taxonomies, or one by uid.

        >>> client.stack("blt1").taxonomy().find().json()["taxonomies"]  # doctest: +SKIP
        """
        return Taxonomy(self._t, taxonomy_uid, self._headers)

    taxonomies = taxonomy
