"""Resource managers: `client.rules.get_all()`, `client.keys.update(KeyValuePair(...))`...

Each manager builds the request and hands it to its client's `_call(method, url, params, json,
parse)`. The sync client answers the parsed value; the async client answers an awaitable of it, so
one set of managers serves both (`Client`, `AsyncClient`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from . import models
from .errors import NotFound

Parse = Callable[[int, Any], Any]


def _seg(value: Any) -> str:
    text = str(value or "")
    if not text.strip():
        raise ValueError("an id, ref or name must not be empty")
    return quote(text, safe="")


def _params(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        k: ("True" if v is True else "False" if v is False else v) for k, v in kwargs.items() if v is not None
    }


class Manager:
    """get_all, query, get_by_name, get_by_id (also a ref), get_by_ref_or_id, create, update, delete."""

    def __init__(self, client: Any, model: type[models.Resource]) -> None:
        """`client`: a Client or AsyncClient (anything with `_call` and `api_url`)."""
        self.client = client
        self.model = model

    @property
    def url(self) -> str:
        return f"{self.client.api_url}/{self.model.path}"

    def _many(self, status: int, data: Any) -> list[Any]:
        return [] if status == 404 else [self.model.from_dict(d) for d in data]

    def _one(self, status: int, data: Any) -> Any:
        return None if status == 404 else self.model.from_dict(data)

    def get_all(self, **params: Any) -> Any:
        """Every object (the server's default page); keyword arguments are filters.

        >>> client.rules.get_all(pack="examples")  # doctest: +SKIP
        """
        return self.client._call("GET", self.url, _params(params), None, self._many)

    def query(self, **params: Any) -> Any:
        """Objects matching the filters, e.g. `client.executions.query(action="core.echo", limit=5)`."""
        if not params:
            raise ValueError("Query parameter is not provided.")
        return self.client._call("GET", self.url + "/", _params(params), None, self._many, allow_404=True)

    def get_by_id(self, id: str, **params: Any) -> Any:
        """One object by id (or ref), None when there is none: `client.actions.get_by_id("core.echo")`."""
        return self.client._call(
            "GET", f"{self.url}/{_seg(id)}", _params(params), None, self._one, allow_404=True
        )

    get_by_ref_or_id = get_by_id

    def get_by_name(self, name: str, **params: Any) -> Any:
        """One object by name, None when there is none: `client.rules.get_by_name("my_rule")`."""

        def first(status: int, data: Any) -> Any:
            found = self._many(status, data)
            return found[0] if found else None

        return self.client._call(
            "GET", self.url + "/", _params({"name": name, **params}), None, first, allow_404=True
        )

    def create(self, instance: models.Resource, **params: Any) -> Any:
        """Create the object: `client.rules.create(models.Rule(name=..., trigger=..., action=...))`."""
        return self.client._call("POST", self.url, _params(params), instance.to_dict(), self._one)

    def update(self, instance: models.Resource, **params: Any) -> Any:
        """Replace the object with this one (matched by its id)."""
        return self.client._call(
            "PUT", f"{self.url}/{_seg(instance.id)}", _params(params), instance.to_dict(), self._one
        )

    def delete(self, instance: models.Resource, **params: Any) -> Any:
        """Delete the object; True once it is gone (also when it was already)."""
        return self.delete_by_id(instance.id, **params)

    def delete_by_id(self, id: str, **params: Any) -> Any:
        return self.client._call(
            "DELETE", f"{self.url}/{_seg(id)}", _params(params), None, lambda s, d: True, allow_404=True
        )


class KeyManager(Manager):
    """Keys are addressed by name; `update` creates or replaces (`PUT /keys/{name}`)."""

    def get_by_name(self, name: str, **params: Any) -> Any:
        return self.client._call(
            "GET", f"{self.url}/{_seg(name)}", _params(params), None, self._one, allow_404=True
        )

    def update(self, instance: models.Resource, **params: Any) -> Any:
        """`client.keys.update(models.KeyValuePair(name="k1", value="v1"))` sets k1."""
        return self.client._call(
            "PUT", f"{self.url}/{_seg(instance.name)}", _params(params), instance.to_dict(), self._one
        )

    create = update

    def delete(self, instance: models.Resource, **params: Any) -> Any:
        scope = getattr(instance, "scope", None)
        return self.delete_by_id(instance.name, **({"scope": scope} if scope else {}), **params)


class ExecutionManager(Manager):
    """Executions: run an action, cancel, re-run, read output and children."""

    def run(self, action: str, parameters: dict[str, Any] | None = None, **options: Any) -> Any:
        """Start `action` and answer the execution (short actions come back finished).

        >>> client.executions.run("core.echo", {"message": "hi"}).result["stdout"]  # doctest: +SKIP
        'hi'
        """
        body = {"action": action, "parameters": parameters or {}, "user": None, **options}
        return self.client._call("POST", self.url, None, body, self._one)

    def cancel(self, id: str) -> Any:
        """Cancel (a finished execution answers its faultstring instead)."""
        return self.client._call("DELETE", f"{self.url}/{_seg(id)}", None, None, lambda s, d: d)

    def re_run(self, id: str, parameters: dict[str, Any] | None = None, delay: int = 0) -> Any:
        body = {"parameters": parameters or {}, "tasks": [], "reset": [], "delay": delay}
        return self.client._call("POST", f"{self.url}/{_seg(id)}/re_run", None, body, self._one)

    def get_output(self, id: str, output_type: str | None = None) -> Any:
        params = {"output_type": output_type} if output_type else None
        return self.client._call("GET", f"{self.url}/{_seg(id)}/output", params, None, lambda s, d: d)

    def get_children(self, id: str, depth: int = -1) -> Any:
        return self.client._call("GET", f"{self.url}/{_seg(id)}/children", {"depth": depth}, None, self._many)


class WebhookManager(Manager):
    def post_generic_webhook(
        self, trigger: str, payload: dict[str, Any] | None = None, trace_tag: str | None = None
    ) -> Any:
        """`POST /webhooks/st2`: emit `trigger` with `payload`."""
        return self.client._call(
            "POST", f"{self.url}/st2", None, {"trigger": trigger, "payload": payload or {}}, lambda s, d: d
        )

    def post(self, url: str, body: Any) -> Any:
        """POST a body to the custom webhook `url` (a rule's `core.st2.webhook` parameter)."""
        return self.client._call("POST", f"{self.url}/{quote(url.strip('/'))}", None, body, lambda s, d: d)


__all__ = ["ExecutionManager", "KeyManager", "Manager", "NotFound", "WebhookManager"]
