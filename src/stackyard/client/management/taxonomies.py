"""Taxonomies and terms (catalogue §2.12): `taxonomies[/{uid}]`, `taxonomies/{uid}/terms[/{term}]`.

As in the seed, fetch/update/delete also take the uid at the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from .._http import Transport
from ._resource import Collection, body

R = TypeVar("R")
It = TypeVar("It")


class Taxonomy(Collection[R, It]):
    """`stack.taxonomy(uid)`: find/iterate/fetch/create/update/delete, terms().

    >>> client.stack("blt1").taxonomy().create({"taxonomy": {"uid": "regions", "name": "Regions"}})  # doctest: +SKIP
    """

    base = "taxonomies"
    envelope = "taxonomies"
    what = "taxonomy uid"

    def fetch(self, taxonomy_uid: str | None = None) -> R:
        """This taxonomy (or the one named here).

        >>> client.stack("blt1").taxonomy("regions").fetch().json()["taxonomy"]  # doctest: +SKIP
        """
        return Collection.fetch(self._named(taxonomy_uid))

    def update(self, data: dict[str, Any], taxonomy_uid: str | None = None) -> R:
        """Rename or describe this taxonomy.

        >>> client.stack("blt1").taxonomy("regions").update({"taxonomy": {"name": "Areas"}})  # doctest: +SKIP
        """
        return Collection.update(self._named(taxonomy_uid), data)

    def delete(self, taxonomy_uid: str | None = None) -> R:
        """Delete this taxonomy.

        >>> client.stack("blt1").taxonomy("regions").delete()  # doctest: +SKIP
        """
        return Collection.delete(self._named(taxonomy_uid))

    def terms(self, terms_uid: str | None = None) -> Term[R, It]:
        """The terms of this taxonomy, or one of them.

        >>> client.stack("blt1").taxonomy("regions").terms("europe").fetch()  # doctest: +SKIP
        """
        return Term(self._t, self._one().removeprefix(self.base + "/"), terms_uid, self._headers)


class Term(Collection[R, It]):
    """`stack.taxonomy(t).terms(uid)`: find/iterate/fetch/create/update/delete, search, move, ancestors, descendants.

    >>> client.stack("blt1").taxonomy("regions").terms().search("eur").json()["terms"]  # doctest: +SKIP
    """

    envelope = "terms"
    what = "term uid"

    def __init__(
        self,
        transport: Transport[R, It],
        taxonomy_segment: str,
        uid: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(transport, uid, headers)
        self.base = f"taxonomies/{taxonomy_segment}/terms"

    def fetch(self, terms_uid: str | None = None) -> R:
        """This term (or the one named here).

        >>> client.stack("blt1").taxonomy("regions").terms("europe").fetch().json()["term"]  # doctest: +SKIP
        """
        return Collection.fetch(self._named(terms_uid))

    def update(self, data: dict[str, Any], terms_uid: str | None = None) -> R:
        """Rename this term.

        >>> client.stack("blt1").taxonomy("regions").terms("europe").update({"term": {"name": "Europe"}})  # doctest: +SKIP
        """
        return Collection.update(self._named(terms_uid), data)

    def delete(self, terms_uid: str | None = None) -> R:
        """Delete this term.

        >>> client.stack("blt1").taxonomy("regions").terms("europe").delete()  # doctest: +SKIP
        """
        return Collection.delete(self._named(terms_uid))

    def search(self, term_string: str) -> R:
        """Terms whose name matches.

        >>> client.stack("blt1").taxonomy("regions").terms().search("eur").json()["terms"]  # doctest: +SKIP
        """
        if not isinstance(term_string, str) or not term_string.strip():
            raise ValueError("term_string must be a non-empty string")
        return self._call("GET", self.base, params={"term": term_string})

    def move(self, data: dict[str, Any], terms_uid: str | None = None) -> R:
        """Move this term under another parent: `{"term": {"parent_uid": ...}}` (sent as the SDK does).

        >>> client.stack("blt1").taxonomy("regions").terms("france").move({"term": {"parent_uid": "europe"}})  # doctest: +SKIP
        """
        named = self._named(terms_uid)
        return named._call("PUT", named._one(), json=body(data))

    def ancestors(self, terms_uid: str | None = None) -> R:
        """The terms above this one.

        >>> client.stack("blt1").taxonomy("regions").terms("france").ancestors().json()["terms"]  # doctest: +SKIP
        """
        named = self._named(terms_uid)
        return named._call("GET", named._one("ancestors"))

    def descendants(self, terms_uid: str | None = None) -> R:
        """The terms below this one.

        >>> client.stack("blt1").taxonomy("regions").terms("europe").descendants().json()["terms"]  # doctest: +SKIP
        """
        named = self._named(terms_uid)
        return named._call("GET", named._one("descendants"))
