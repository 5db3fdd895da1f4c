"""Objects of the edge SDK: each holds its session and its API path, like pystackpath's, so a
fetched object's methods act on it (`stack.cdnsites().get(id).disable()`).

Every call goes through `session.request(..., parse=...)`: with a `Session` a method answers its
value, with an `AsyncSession` an awaitable of it (`await (await stack.cdnsites().get(id)).disable()`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from stackyard.client.edge._transport import AsyncSession, Session

AnySession = Session | AsyncSession

GRANULARITIES = ("AUTO", "PT5M", "PT1H", "P1D", "P1M")


def _id(value: object, what: str = "id") -> str:
    """A path segment, checked before any I/O and quoted."""
    if not isinstance(value, str) or not value or "/" in value:
        raise ValueError(f"{what} must be a non-empty string without '/', got {value!r}")
    return quote(value, safe="")


@dataclass
class PageInfo:
    totalCount: str = ""
    hasPreviousPage: bool = False
    hasNextPage: bool = False
    startCursor: str = ""
    endCursor: str = ""


class Obj:
    """A JSON object with attribute access (`stack.name`); `to_dict()` gives the data back."""

    def __init__(self, session: AnySession, base: str, data: dict[str, Any]) -> None:
        self._session, self._base = session, base
        self._data = dict(data)
        for k, v in data.items():
            if not hasattr(type(self), k):
                setattr(self, k, v)

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def _itself(self, _body: Any) -> Any:
        return self

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._data.get('id', '')}>"


def _page(
    session: AnySession,
    path: str,
    cls: type[Obj],
    base: str,
    first: str,
    after: str,
    filter: str,
    sort_by: str,
) -> Any:
    params = {
        k: v
        for k, v in {
            "page_request.first": first,
            "page_request.after": after,
            "page_request.filter": filter,
            "page_request.sort_by": sort_by,
        }.items()
        if v
    }
    return session.request(
        "GET",
        path,
        params=params,
        parse=lambda body: {
            "results": [cls(session, base, r) for r in body["results"]],
            "pageinfo": PageInfo(**body["pageInfo"]),
        },
    )


class Stacks:
    def __init__(self, session: AnySession) -> None:
        self._session = session

    def index(self, first: str = "", after: str = "", filter: str = "", sort_by: str = "") -> Any:
        """`{"results": [Stack], "pageinfo": PageInfo}`; `filter` like `name='x' and status='ACTIVE'`."""
        return _page(self._session, "/stack/v1/stacks", Stack, "", first, after, filter, sort_by)

    def get(self, stack_id: str) -> Any:
        """A stack by id or slug."""
        return self._session.request(
            "GET", f"/stack/v1/stacks/{_id(stack_id)}", parse=lambda body: Stack(self._session, "", body)
        )

    def create(self, accountid: str, name: str) -> Any:
        """A new stack in the account (an organization uid); its slug is generated."""
        return self._session.request(
            "POST",
            "/stack/v1/stacks",
            json={"accountId": accountid, "name": str(name)},
            parse=lambda body: Stack(self._session, "", body["stack"]),
        )


class Stack(Obj):
    @property
    def _cdn(self) -> str:
        return f"/cdn/v1/stacks/{_id(self._data['id'])}"

    def cdnsites(self) -> CdnSites:
        return CdnSites(self._session, self._cdn)

    def certificates(self) -> Certificates:
        return Certificates(self._session, self._cdn)

    def metrics(self) -> Metrics:
        return Metrics(self._session, self._cdn)

    def purge(self, items: list[dict[str, Any]]) -> Any:
        """Purge cached content of the stack's sites; answers the purge id.

        >>> stack.purge([{"url": "https://cdn.example.com/", "recursive": True}])  # doctest: +SKIP
        """
        return self._session.request(
            "POST", f"{self._cdn}/purge", json={"items": items}, parse=lambda body: str(body["id"])
        )

    def purge_status(self, purge_id: str) -> Any:
        """How far the purge is, 0.0 to 1.0 (1.0: every live node applied it)."""
        return self._session.request(
            "GET", f"{self._cdn}/purge/{_id(purge_id)}", parse=lambda body: float(body["progress"])
        )

    def add_subscriptions(self, subscriptions: list[str]) -> Any:
        return self._session.request(
            "POST",
            f"/billing/v1/stacks/{_id(self._data['id'])}/subscriptions",
            json={"productIds": subscriptions},
            parse=self._itself,
        )

    def cancel(self, reason_slug: str, reason_text: str = "") -> Any:
        return self._session.request(
            "POST",
            f"/billing/v1/stacks/{_id(self._data['id'])}/cancel",
            json={"reasonSlug": reason_slug, "reasonText": reason_text},
            parse=self._itself,
        )


class CdnSites:
    def __init__(self, session: AnySession, base: str) -> None:
        self._session, self._base = session, base

    def index(self, first: str = "", after: str = "", filter: str = "", sort_by: str = "") -> Any:
        return _page(self._session, f"{self._base}/sites", CdnSite, self._base, first, after, filter, sort_by)

    def get(self, site_id: str) -> Any:
        return self._session.request(
            "GET",
            f"{self._base}/sites/{_id(site_id)}",
            parse=lambda b: CdnSite(self._session, self._base, b["site"]),
        )

    def create(self, **payload: Any) -> Any:
        """A new site: `domain`, `origin` ({hostname, port, securePort, path}), `type` or `features`."""
        return self._session.request(
            "POST",
            f"{self._base}/sites",
            json=payload,
            parse=lambda b: CdnSite(self._session, self._base, b["site"]),
        )


class CdnSite(Obj):
    @property
    def _path(self) -> str:
        return f"{self._base}/sites/{_id(self._data['id'])}"

    def delete(self) -> Any:
        return self._session.request("DELETE", self._path, parse=self._itself)

    def enable(self) -> Any:
        return self._session.request("POST", f"{self._path}/enable", parse=self._itself)

    def disable(self) -> Any:
        return self._session.request("POST", f"{self._path}/disable", parse=self._itself)

    def targets(self) -> Any:
        """The DNS names to point the site's domain at (a list of strings)."""
        return self._session.request("GET", f"{self._path}/dns/targets", parse=lambda b: list(b["addresses"]))

    def assign_certificate(self, certificate: Certificate) -> Any:
        return self._session.request(
            "PUT",
            f"{self._path}/certificates/{_id(certificate['id'])}",
            parse=lambda b: Certificate(self._session, self._base, b["siteCertificate"]["certificate"]),
        )

    def scopes(self) -> Any:
        """The site's scopes (a list of `Obj`)."""
        return self._session.request(
            "GET",
            f"{self._path}/scopes",
            parse=lambda b: [Obj(self._session, self._path, s) for s in b["results"]],
        )


class Certificates:
    def __init__(self, session: AnySession, base: str) -> None:
        self._session, self._base = session, base

    def index(self, first: str = "", after: str = "", filter: str = "", sort_by: str = "") -> Any:
        return _page(
            self._session,
            f"{self._base}/certificates",
            Certificate,
            self._base,
            first,
            after,
            filter,
            sort_by,
        )

    def _certificate(self, body: Any) -> Certificate:
        return Certificate(self._session, self._base, body["certificate"])

    def get(self, certificate_id: str) -> Any:
        return self._session.request(
            "GET", f"{self._base}/certificates/{_id(certificate_id)}", parse=self._certificate
        )

    def add(self, certificate_string: str, key_string: str, ca_bundle_string: str | None = None) -> Any:
        data = {"certificate": certificate_string, "key": key_string, "caBundle": ca_bundle_string}
        return self._session.request("POST", f"{self._base}/certificates", json=data, parse=self._certificate)

    def pk(self, value: str) -> Certificate:
        return Certificate(self._session, self._base, {"id": value})


class Certificate(Obj):
    @property
    def _path(self) -> str:
        return f"{self._base}/certificates/{_id(self._data['id'])}"

    def update(
        self,
        certificate_string: str | None = None,
        key_string: str | None = None,
        ca_bundle_string: str | None = None,
    ) -> Any:
        data = {"certificate": certificate_string, "key": key_string, "caBundle": ca_bundle_string}
        return self._session.request(
            "PUT",
            self._path,
            json=data,
            parse=lambda b: Certificate(self._session, self._base, b["certificate"]),
        )

    def delete(self) -> Any:
        return self._session.request("DELETE", self._path, parse=self._itself)

    def renew(self) -> Any:
        return self._session.request("POST", f"{self._path}/renew", parse=self._itself)


class Metrics:
    def __init__(self, session: AnySession, base: str) -> None:
        self._session, self._base = session, base

    def get(
        self,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        granularity: str = "AUTO",
        platforms: list[str] | None = None,
        pops: list[str] | None = None,
        billing_regions: list[str] | None = None,
        sites: list[str] | None = None,
        group_by: str = "NONE",
        site_type_filter: str = "ALL",
    ) -> Any:
        """Traffic series (`.series`); by default the last 24 hours of CDE traffic."""
        if granularity not in GRANULARITIES:
            raise ValueError(f"{granularity} is not a valid granularity: {GRANULARITIES}")
        end = end_date or datetime.now(UTC).replace(tzinfo=None)
        start = start_date or end - timedelta(days=1)
        if start > end:
            raise ValueError("start_date is after end_date")
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        params = {
            "start_date": start.strftime(fmt),
            "end_date": end.strftime(fmt),
            "granularity": granularity,
            "platforms": ",".join(platforms or ["CDE"]),
            "pops": ",".join(pops or []),
            "billing_regions": ",".join(billing_regions or []),
            "sites": ",".join(sites or []),
            "group_by": group_by,
            "site_type_filter": site_type_filter,
        }
        return self._session.request(
            "GET", f"{self._base}/metrics", params=params, parse=lambda b: Obj(self._session, self._base, b)
        )


class Credentials:
    """An organization's edge API credentials, managed by its owner or an admin (a user authtoken).

    >>> Credentials("http://127.0.0.1:8080", authtoken).create(org_uid, "ci")["client_secret"]  # doctest: +SKIP
    """

    def __init__(self, base_url: str, authtoken: str, **options: Any) -> None:
        self._session: AnySession = Session(base_url, authtoken=authtoken, **options)

    def _path(self, organization: str) -> str:
        return f"/identity/v1/accounts/{_id(organization)}/credentials"

    def create(self, organization: str, name: str) -> Any:
        """A new credential (a dict); its `client_secret` is shown this once."""
        return self._session.request(
            "POST", self._path(organization), json={"name": name}, parse=lambda b: dict(b["credential"])
        )

    def list(self, organization: str) -> Any:
        """The organization's credentials (a list of dicts, without secrets)."""
        return self._session.request("GET", self._path(organization), parse=lambda b: list(b["results"]))

    def revoke(self, organization: str, client_id: str) -> Any:
        return self._session.request(
            "DELETE", f"{self._path(organization)}/{_id(client_id)}", parse=lambda _: None
        )

    def close(self) -> None:
        assert isinstance(self._session, Session)
        self._session.close()


class AsyncCredentials(Credentials):
    """`Credentials` for asyncio: each call is awaited; `await creds.aclose()` at the end."""

    def __init__(self, base_url: str, authtoken: str, **options: Any) -> None:
        self._session = AsyncSession(base_url, authtoken=authtoken, **options)

    async def aclose(self) -> None:
        assert isinstance(self._session, AsyncSession)
        await self._session.aclose()

    async def __aenter__(self) -> AsyncCredentials:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
