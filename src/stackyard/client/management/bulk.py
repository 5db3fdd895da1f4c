"""Bulk operations (catalogue §2.7): `bulk/...`; the server answers `{notice, job_id}` and works later.

Extra headers (`bulk_version: 2.0`) apply to that one call; the official SDK keeps them for good.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from .._path import segment
from ._resource import Resource, body

R = TypeVar("R")
It = TypeVar("It")


class BulkOperation(Resource[R, It]):
    """`stack.bulk_operation()`: publish, unpublish, delete, workflow update, release items, job status.

    >>> client.stack("blt1").bulk_operation().publish({"entries": [...], "environments": ["prod"], "locales": ["en-us"]})  # doctest: +SKIP
    """

    def publish(self, data: dict[str, Any]) -> R:
        """Publish many entries and assets at once.

        >>> client.stack("blt1").bulk_operation().publish({"entries": [{"uid": "e", "content_type": "blog", "locale": "en-us"}], "environments": ["prod"], "locales": ["en-us"]})  # doctest: +SKIP
        """
        return self._call("POST", "bulk/publish", json=body(data))

    def unpublish(self, data: dict[str, Any]) -> R:
        """Unpublish many entries and assets at once.

        >>> client.stack("blt1").bulk_operation().unpublish({"entries": [...], "environments": ["prod"], "locales": ["en-us"]})  # doctest: +SKIP
        """
        return self._call("POST", "bulk/unpublish", json=body(data))

    def delete(self, data: dict[str, Any]) -> R:
        """Delete many entries and assets at once.

        >>> client.stack("blt1").bulk_operation().delete({"entries": [{"uid": "e", "content_type": "blog", "locale": "en-us"}]})  # doctest: +SKIP
        """
        return self._call("POST", "bulk/delete", json=body(data))

    def update(self, data: dict[str, Any]) -> R:
        """Move many entries to a workflow stage.

        >>> client.stack("blt1").bulk_operation().update({"entries": [...], "workflow": {"workflow_stage": {"uid": "s"}}})  # doctest: +SKIP
        """
        return self._call("POST", "bulk/workflow", json=body(data))

    def add_items(self, data: dict[str, Any], headers: Mapping[str, str] | None = None) -> R:
        """Add many items to a release.

        >>> client.stack("blt1").bulk_operation().add_items({"release": "r", "items": [...]}, {"bulk_version": "2.0"})  # doctest: +SKIP
        """
        return self._call("POST", "bulk/release/items", json=body(data), headers=headers)

    def update_items(self, data: dict[str, Any], headers: Mapping[str, str] | None = None) -> R:
        """Move a release's items to their latest versions.

        >>> client.stack("blt1").bulk_operation().update_items({"release": "r", "items": ["$all"]})  # doctest: +SKIP
        """
        return self._call("PUT", "bulk/release/update_items", json=body(data), headers=headers)

    def job_status(self, job_uid: str, headers: Mapping[str, str] | None = None) -> R:
        """Where a bulk job stands.

        >>> client.stack("blt1").bulk_operation().job_status("job1").json()["status"]  # doctest: +SKIP
        """
        return self._call("GET", f"bulk/jobs/{segment(job_uid, 'job uid')}", headers=headers)
