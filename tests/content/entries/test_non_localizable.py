"""Non-localizable fields over HTTP: every copy of an entry shows the master locale's values for
them, a save of the master reaches the other copies, and writes to them elsewhere are ignored."""

from __future__ import annotations

import httpx
import pytest

from tests.content.entries.test_entries import E, create
from tests.content.model.test_content_types import ct, text

PRODUCT = ct(
    "product",
    text("description"),
    {"display_name": "SKU", "uid": "sku", "data_type": "text", "non_localizable": True},
    {"display_name": "Price", "uid": "price", "data_type": "number", "non_localizable": True},
)


@pytest.fixture
def shop(cma: httpx.Client) -> httpx.Client:
    """A stack with fr-fr and de-de (falling back to en-us) and a product content type."""
    for code in ("fr-fr", "de-de"):
        assert cma.post("/v3/locales", json={"locale": {"code": code}}).status_code == 201
    r = cma.post("/v3/content_types", json=PRODUCT)
    assert r.status_code == 201, r.text
    return cma


def test_a_localized_copy_shows_the_masters_non_localizable_values(shop: httpx.Client) -> None:
    # given a product in the master locale
    made = create(shop, "product", {"title": "Chair", "description": "A chair", "sku": "CH-1", "price": 10})
    one = E.format("product") + "/" + made["uid"]
    # when it is localized into French with other values for the non-localizable fields
    r = shop.put(
        one,
        params={"locale": "fr-fr"},
        json={"entry": {"title": "Chaise", "description": "Une chaise", "sku": "FR-9", "price": 99}},
    )
    # then the French copy keeps its own text, and the master's sku and price
    assert r.status_code == 200, r.text
    fr = r.json()["entry"]
    assert (fr["title"], fr["description"], fr["sku"], fr["price"]) == ("Chaise", "Une chaise", "CH-1", 10)
    assert shop.get(one, params={"locale": "fr-fr"}).json()["entry"]["sku"] == "CH-1"


def test_a_save_of_the_master_reaches_every_copy(shop: httpx.Client) -> None:
    # given a product localized into French and German
    made = create(shop, "product", {"title": "Chair", "sku": "CH-1", "price": 10})
    one = E.format("product") + "/" + made["uid"]
    for code, title in (("fr-fr", "Chaise"), ("de-de", "Stuhl")):
        r = shop.put(one, params={"locale": code}, json={"entry": {"title": title}})
        assert r.status_code == 200, r.text
    fr_version = shop.get(one, params={"locale": "fr-fr"}).json()["entry"]["_version"]
    # when the master's price changes and its sku is cleared
    r = shop.put(one, json={"entry": {"price": 12, "sku": None}})
    assert r.status_code == 200, r.text
    # then each copy shows the new values and keeps its own title, as a new version
    for code, title in (("fr-fr", "Chaise"), ("de-de", "Stuhl")):
        copy = shop.get(one, params={"locale": code}).json()["entry"]
        assert (copy["title"], copy["price"], copy.get("sku")) == (title, 12, None), copy
    assert shop.get(one, params={"locale": "fr-fr"}).json()["entry"]["_version"] == fr_version + 1
    # and a list in French (and a query on the shared field) sees them too
    listed = shop.get(E.format("product"), params={"locale": "fr-fr", "query": '{"price": 12}'}).json()
    assert [e["title"] for e in listed["entries"]] == ["Chaise"]
    # a save of the master that leaves the shared fields alone makes no new French version
    assert shop.put(one, json={"entry": {"title": "Armchair"}}).status_code == 200
    assert shop.get(one, params={"locale": "fr-fr"}).json()["entry"]["_version"] == fr_version + 1


def test_writes_to_non_localizable_fields_outside_the_master_are_ignored(shop: httpx.Client) -> None:
    # given a localized product
    made = create(shop, "product", {"title": "Chair", "sku": "CH-1", "price": 10})
    one = E.format("product") + "/" + made["uid"]
    assert shop.put(one, params={"locale": "fr-fr"}, json={"entry": {"title": "Chaise"}}).status_code == 200
    # when the French copy is saved with another price (and sent back whole, as fetched)
    fetched = shop.get(one, params={"locale": "fr-fr"}).json()["entry"]
    r = shop.put(one, params={"locale": "fr-fr"}, json={"entry": {**fetched, "price": 1, "title": "Siège"}})
    # then the save succeeds, its own field changes, and the price stays the master's everywhere
    assert r.status_code == 200, r.text
    assert (r.json()["entry"]["title"], r.json()["entry"]["price"]) == ("Siège", 10)
    assert shop.get(one).json()["entry"]["price"] == 10
    # and an import into the French copy cannot change it either
    files = {"entry": ("e.json", b'{"title": "Fauteuil", "sku": "X", "price": 3}', "application/json")}
    r = shop.post(one + "/import", params={"locale": "fr-fr"}, files=files)
    assert r.status_code == 200, r.text
    fr = shop.get(one, params={"locale": "fr-fr"}).json()["entry"]
    assert (fr["title"], fr["sku"], fr["price"]) == ("Fauteuil", "CH-1", 10)


def test_without_a_master_copy_a_copy_keeps_its_own_values(shop: httpx.Client) -> None:
    # given a product created in French only: there is no master copy to follow
    made = create(shop, "product", {"title": "Chaise", "sku": "FR-1", "price": 5}, locale="fr-fr")
    one = E.format("product") + "/" + made["uid"]
    r = shop.put(one, params={"locale": "fr-fr"}, json={"entry": {"price": 6}})
    assert r.status_code == 200 and r.json()["entry"]["price"] == 6
    # when the master copy is made, its values reach the French copy
    r = shop.put(one, json={"entry": {"title": "Chair", "price": 7}})
    assert r.status_code == 200 and r.json()["notice"] == "Entry localized successfully."
    fr = shop.get(one, params={"locale": "fr-fr"}).json()["entry"]
    assert (fr["title"], fr["sku"], fr["price"]) == ("Chaise", "FR-1", 7)
