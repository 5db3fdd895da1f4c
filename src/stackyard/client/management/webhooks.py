"""Webhooks (catalogue §2.10): `webhooks[/{uid}]`, export/import, executions, retry, logs.

`imports` sends the file in the multipart field `entry`, as the official SDK does (servers accept it).
"""

from __future__ import annotations

from typing import TypeVar

from .._path import segment
from ._files import file_part
from ._resource import Collection

R = TypeVar("R")
It = TypeVar("It")


class Webhook(Collection[R, It]):
    """`stack.webhooks(uid)`: find/iterate/fetch/create/update/delete, export, imports, executions, retry, logs.

    >>> client.stack("blt1").webhooks("blt2").executions().json()["webhooks"]  # doctest: +SKIP
    """

    base = "webhooks"
    envelope = "webhooks"
    what = "webhook uid"

    def export(self) -> R:
        """This webhook as a bare JSON object.

        >>> client.stack("blt1").webhooks("blt2").export().json()["name"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("export"))

    def imports(self, file_path: str) -> R:
        """Create a webhook from an exported JSON file.

        >>> client.stack("blt1").webhooks().imports("hook.json")  # doctest: +SKIP
        """
        return self._call("POST", f"{self.base}/import", files={"entry": file_part(file_path)})

    def executions(self) -> R:
        """This webhook's deliveries.

        >>> client.stack("blt1").webhooks("blt2").executions().json()["webhooks"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("executions"))

    def retry(self, execution_uid: str) -> R:
        """Deliver one execution again.

        >>> client.stack("blt1").webhooks().retry("blt_exec").json()["notice"]  # doctest: +SKIP
        """
        return self._call("POST", f"{self.base}/{segment(execution_uid, 'execution uid')}/retry")

    def logs(self, execution_uid: str) -> R:
        """The request and response of one execution.

        >>> client.stack("blt1").webhooks().logs("blt_exec").json()["webhook"]  # doctest: +SKIP
        """
        return self._call("GET", f"{self.base}/{segment(execution_uid, 'execution uid')}/logs")
