"""Assets and asset folders (catalogue §2.5): `assets[/{uid}]`, `assets/folders/{uid}`, versions.

Uploads send `asset[upload]` (replace sends `asset`, as the official SDK does), streaming files over
4 MB from disk; no Content-Type is left behind on anything else. `create_folder` sends JSON, where the
official SDK sends a form body by mistake.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from .._http import Transport
from .._path import segment
from ._files import upload_part
from ._resource import Collection, body

R = TypeVar("R")
It = TypeVar("It")

FOLDERS = "assets/folders"


class Asset(Collection[R, It]):
    """`stack.assets(uid)`: files, their versions and publishing, and folders.

    >>> client.stack("blt1").assets().upload("logo.png").json()["asset"]["url"]  # doctest: +SKIP
    """

    base = "assets"
    envelope = "assets"
    what = "asset uid"

    def __init__(
        self,
        transport: Transport[R, It],
        uid: Any = None,
        headers: Mapping[str, str] | None = None,
        branch: str | None = None,
    ) -> None:
        super().__init__(transport, uid, headers)
        if branch is not None:
            self._headers["branch"] = str(branch)

    def fetch(self, asset_uid: str | None = None) -> R:
        """This asset (or the one named here).

        >>> client.stack("blt1").assets("blt2").fetch().json()["asset"]  # doctest: +SKIP
        """
        return Collection.fetch(self._named(asset_uid))

    def delete(self, asset_uid: str | None = None, folder_uid: str | None = None) -> R:
        """Delete this asset (or the one named here); with `folder_uid`, that folder instead.

        >>> client.stack("blt1").assets("blt2").delete()  # doctest: +SKIP
        """
        if folder_uid is not None:
            return self.delete_folder(folder_uid)
        return Collection.delete(self._named(asset_uid))

    def upload(self, file_path: str, **fields: Any) -> R:
        """Upload a file as a new asset; `title=`, `description=`, `parent_uid=`, `tags=` are optional.

        >>> client.stack("blt1").assets().upload("logo.png", title="Logo").json()["asset"]  # doctest: +SKIP
        """
        data = {
            f"asset[{k}]": v if isinstance(v, str) else json.dumps(v)
            for k, v in fields.items()
            if v is not None
        }
        return self._call("POST", self.base, files={"asset[upload]": upload_part(file_path)}, data=data)

    def replace(self, file_path: str) -> R:
        """Replace this asset's file, keeping its uid (a new version).

        >>> client.stack("blt1").assets("blt2").replace("logo-v2.png")  # doctest: +SKIP
        """
        return self._call("PUT", self._one(), files={"asset": upload_part(file_path)})

    def update(self, data: dict[str, Any]) -> R:
        """Change this asset's title, description or tags: `{"asset": {...}}`.

        >>> client.stack("blt1").assets("blt2").update({"asset": {"title": "Logo"}})  # doctest: +SKIP
        """
        return self._call("PUT", self._one(), json=body(data))

    generate = update  # {"asset": {"permanent_url": ...}}
    update_asset_revision = update  # {"asset": {...}, "version": n}

    def download(self) -> R:
        """The file's bytes (`.content`), from `assets/{api_key}/{uid}`.

        >>> open("logo.png", "wb").write(client.stack("blt1").assets("blt2").download().content)  # doctest: +SKIP
        """
        asset = self._one().removeprefix(self.base + "/")
        return self._call("GET", f"{self.base}/{segment(self._headers.get('api_key'), 'api_key')}/{asset}")

    def rte(self) -> R:
        """Images for the rich-text editor's picker.

        >>> client.stack("blt1").assets().rte().json()  # doctest: +SKIP
        """
        return self._call("GET", f"{self.base}/rt")

    def specific_asset_type(self, asset_type: str) -> R:
        """Assets of one kind: `images` or `videos`.

        >>> client.stack("blt1").assets().specific_asset_type("images").json()["assets"]  # doctest: +SKIP
        """
        return self._call("GET", f"{self.base}/{segment(asset_type, 'asset type')}")

    def specific_folder(self, folder_uid: str) -> R:
        """The assets inside one folder.

        >>> client.stack("blt1").assets().specific_folder("blt_folder").json()["assets"]  # doctest: +SKIP
        """
        return self._call("GET", self.base, params={"folder": segment(folder_uid, "folder uid")})

    def subfolders(self, folder_uid: str) -> R:
        """The assets and folders inside one folder.

        >>> client.stack("blt1").assets().subfolders("blt_folder").json()["assets"]  # doctest: +SKIP
        """
        return self._call(
            "GET", self.base, params={"include_folders": True, "folder": segment(folder_uid, "folder uid")}
        )

    def get_subfolders(self, folder_uid: str, query: dict[str, Any] | None = None) -> R:
        """Only the folders inside one folder.

        >>> client.stack("blt1").assets().get_subfolders("blt_folder").json()["assets"]  # doctest: +SKIP
        """
        params = {
            "include_folders": True,
            "folder": segment(folder_uid, "folder uid"),
            "query": query or {"is_dir": True},
        }
        return self._call("GET", self.base, params=params)

    def folder(self, folder_uid: str) -> R:
        """One folder.

        >>> client.stack("blt1").assets().folder("blt_folder").json()["asset"]["name"]  # doctest: +SKIP
        """
        return self._call("GET", f"{FOLDERS}/{segment(folder_uid, 'folder uid')}")

    def folder_by_name(self, name: str) -> R:
        """Folders with this name.

        >>> client.stack("blt1").assets().folder_by_name("Logos").json()["assets"]  # doctest: +SKIP
        """
        return self._call("GET", self.base, params={"query": {"is_dir": True, "name": name}})

    def folder_collection(self, folder_uid: str | None = None, query: dict[str, Any] | None = None) -> R:
        """The seed's one-name folder lookup: a folder by uid, or folders matching `query` (inside `folder_uid`).

        >>> client.stack("blt1").assets().folder_collection(query={"is_dir": True, "name": "Logos"})  # doctest: +SKIP
        """
        if query is None and folder_uid is not None:
            return self.folder(folder_uid)
        params: dict[str, Any] = {"include_folders": True, "query": query or {"is_dir": True}}
        if folder_uid is not None:
            params["folder"] = segment(folder_uid, "folder uid")
        return self._call("GET", self.base, params=params)

    def create_folder(self, data: dict[str, Any]) -> R:
        """Create a folder: `{"asset": {"name": ..., "parent_uid": ...}}`.

        >>> client.stack("blt1").assets().create_folder({"asset": {"name": "Logos"}})  # doctest: +SKIP
        """
        return self._call("POST", FOLDERS, json=body(data))

    def update_or_move(self, folder_uid: str, data: dict[str, Any]) -> R:
        """Rename a folder or move it under another: `{"asset": {"name", "parent_uid"}}`.

        >>> client.stack("blt1").assets().update_or_move("blt_folder", {"asset": {"name": "Brand"}})  # doctest: +SKIP
        """
        return self._call("PUT", f"{FOLDERS}/{segment(folder_uid, 'folder uid')}", json=body(data))

    def delete_folder(self, folder_uid: str) -> R:
        """Delete a folder and what it holds.

        >>> client.stack("blt1").assets().delete_folder("blt_folder")  # doctest: +SKIP
        """
        return self._call("DELETE", f"{FOLDERS}/{segment(folder_uid, 'folder uid')}")

    def version(self) -> R:
        """This asset's versions.

        >>> client.stack("blt1").assets("blt2").version().json()["versions"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("versions"))

    versions = version

    def version_naming(self, version_number: int | str, data: dict[str, Any]) -> R:
        """Name a version: `{"upload": {"_version_name": "..."}}`.

        >>> client.stack("blt1").assets("blt2").version_naming(1, {"upload": {"_version_name": "first"}})  # doctest: +SKIP
        """
        return self._call(
            "POST", self._one("versions", segment(version_number, "version number"), "name"), json=body(data)
        )

    def version_delete(self, version_number: int | str) -> R:
        """Remove a version's name (answers 204).

        >>> client.stack("blt1").assets("blt2").version_delete(1).status_code  # doctest: +SKIP
        """
        return self._call("DELETE", self._one("versions", segment(version_number, "version number"), "name"))

    def references(self) -> R:
        """The entries that use this asset.

        >>> client.stack("blt1").assets("blt2").references().json()["references"]  # doctest: +SKIP
        """
        return self._call("GET", self._one("references"))

    def publish(self, data: dict[str, Any]) -> R:
        """Publish this asset: `{"asset": {"environments": [...], "locales": [...]}}`.

        >>> client.stack("blt1").assets("blt2").publish({"asset": {"environments": ["prod"], "locales": ["en-us"]}})  # doctest: +SKIP
        """
        return self._call("POST", self._one("publish"), json=body(data))

    def unpublish(self, data: dict[str, Any]) -> R:
        """Withdraw this asset from environments.

        >>> client.stack("blt1").assets("blt2").unpublish({"asset": {"environments": ["prod"], "locales": ["en-us"]}})  # doctest: +SKIP
        """
        return self._call("POST", self._one("unpublish"), json=body(data))
