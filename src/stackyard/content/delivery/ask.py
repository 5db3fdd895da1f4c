"""What a delivery read asks for, as the route parsed it from the query string (catalogue §3.2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stackyard.store.query import Limits


@dataclass
class Ask:
    locale: str | None = None
    include_fallback: bool = False
    version: int | None = None
    query: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    typeahead: str | None = None
    skip: int = 0
    limit: int = 100
    asc: str | None = None
    desc: str | None = None
    count: bool = False
    # `only[BASE][]=title` -> {"BASE": ["title"]}; `only[author][]=name` -> {"author": ["name"]}
    only: dict[str, list[str]] = field(default_factory=dict)
    excepts: dict[str, list[str]] = field(default_factory=dict)
    include: list[str] = field(default_factory=list)
    include_content_type: bool = False
    include_global_field_schema: bool = False
    include_reference_content_type_uid: bool = False
    include_metadata: bool = False
    include_branch: bool = False
    include_embedded_items: bool = False  # `include_embedded_items[]=BASE`
    base_url: str = ""  # where the URLs of embedded assets point ("" with relative_urls)
    include_depth: int = 3
    max_includes: int = 100
    limits: Limits = field(default_factory=Limits)

    @property
    def plain(self) -> bool:
        """Nothing asks for the documents to be changed: they can be sent as stored."""
        return not (self.include or self._reshaped)

    @property
    def only_includes(self) -> bool:
        """`include[]` is all that changes the documents (`splice` may answer the read)."""
        return bool(self.include) and self.include_depth > 0 and not self._reshaped

    @property
    def _reshaped(self) -> bool:
        """Does anything but `include[]` change the documents?"""
        return bool(
            self.only
            or self.excepts
            or self.include_metadata
            or self.include_branch
            or self.include_embedded_items
        )
