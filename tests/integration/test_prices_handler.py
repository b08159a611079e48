"""The prices function against moto server: it stores the catalogue read from the Price List (a
Stubber, in GetProducts' documented shape), keeps it when the answer is unusable, never lets an
older catalogue replace a newer one; and the functions' reader picks the newer of stored and shipped."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.support.lambda_context import FakeLambdaContext
from tests.support.price_list import catalogue, pages, price, product_json
from tracker.data.price_catalogue import CatalogueSource, CatalogueStore, shipped_catalogue
from tracker.data.price_list_api import PriceListApi
from tracker.logic.catalogue import Family
from tracker.prices.service import UnusableCatalogue

pytestmark = pytest.mark.integration

PRICES = [
    price(Family.TASK, "us-east-1", "0.30", "Forte-1"),
    price(Family.SHOT, "us-east-1", "0.07", "Forte-1"),
    price(Family.SIMULATOR, "us-east-1", "0.075", "SV1"),
]
SCHEDULED = {
    "version": "0",
    "id": "1f5e7c3a-0000-4000-8000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-06T04:17:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/prices"],
    "detail": {},
}


@pytest.fixture(scope="module")
def prices_module(table_names: dict[str, str]) -> ModuleType:
    os.environ["PRICES_TABLE_NAME"] = table_names["catalogue"]
    return importlib.import_module("tracker.prices.handler")


@pytest.fixture
def price_list(prices_module: ModuleType) -> Iterator[Stubber]:
    client = boto3.client(
        "pricing", region_name="us-east-1", endpoint_url="https://api.pricing.us-east-1.amazonaws.com"
    )
    original = prices_module.price_list
    prices_module.price_list = PriceListApi("us-east-1", client)
    with Stubber(client) as stubber:
        yield stubber
    prices_module.price_list = original


@pytest.fixture
def store(dynamodb: Any, table_names: dict[str, str]) -> Iterator[CatalogueStore]:
    yield CatalogueStore(table_names["catalogue"], dynamodb)
    for item in dynamodb.scan(TableName=table_names["catalogue"])["Items"]:
        dynamodb.delete_item(TableName=table_names["catalogue"], Key={"catalogue": item["catalogue"]})


def answer(stubber: Stubber, products: list[str]) -> None:
    for page in pages(products):
        stubber.add_response("get_products", page)


def test_a_scheduled_run_stores_the_catalogue_read_from_the_price_list(
    prices_module: ModuleType, price_list: Stubber, store: CatalogueStore, dynamodb: Any, table_names: dict[str, str]
) -> None:
    answer(price_list, [product_json(p) for p in PRICES] + ['{"product": {}}'])
    summary = prices_module.lambda_handler(SCHEDULED, FakeLambdaContext(function_name="price-refresher"))
    stored = store.load()
    assert stored is not None and {(p.key, p.usd) for p in stored.prices} == {(p.key, p.usd) for p in PRICES}
    assert summary == {
        "products": 4,
        "prices": 3,
        "refused": 1,
        "version": stored.version,
        "takenAt": stored.taken_at,
        "stored": True,
        "previousVersion": None,
        "changed": True,
    }
    items = {item["catalogue"]["S"]: item for item in dynamodb.scan(TableName=table_names["catalogue"])["Items"]}
    assert set(items) == {"current", f"version#{stored.version}"}
    assert items["current"]["priceCount"] == {"N": "3"} and items["current"]["takenAt"] == {"S": stored.taken_at}

    # A second run a moment later reads the same prices: stored again, nothing changed.
    answer(price_list, [product_json(p) for p in reversed(PRICES)])
    again = prices_module.lambda_handler({}, FakeLambdaContext(function_name="price-refresher"))
    assert (again["stored"], again["previousVersion"], again["changed"]) == (True, stored.version, False)
    assert len(dynamodb.scan(TableName=table_names["catalogue"])["Items"]) == 2


def test_an_unusable_answer_fails_the_run_and_keeps_the_catalogue_in_use(
    prices_module: ModuleType, price_list: Stubber, store: CatalogueStore
) -> None:
    kept = catalogue(PRICES, taken_at="2026-12-01T00:00:00Z")
    store.save(kept)
    answer(price_list, [product_json(PRICES[0])])
    with pytest.raises(UnusableCatalogue, match="no QPU has both"):
        prices_module.lambda_handler(SCHEDULED, FakeLambdaContext(function_name="price-refresher"))
    loaded = store.load()
    assert loaded is not None and (loaded.version, loaded.taken_at) == (kept.version, kept.taken_at)


def test_an_invocation_by_hand_takes_an_empty_object_only(prices_module: ModuleType) -> None:
    for event in ({"source": "me"}, [], "refresh"):
        with pytest.raises(prices_module.InvalidInput):
            prices_module.lambda_handler(event, FakeLambdaContext(function_name="price-refresher"))


def test_an_older_catalogue_never_replaces_a_newer_one(store: CatalogueStore) -> None:
    newer = catalogue(PRICES, taken_at="2026-12-06T04:17:03Z")
    older = catalogue(
        [*PRICES[:2], price(Family.SIMULATOR, "us-east-1", "0.09", "SV1")], taken_at="2026-12-06T04:17:02Z"
    )
    assert store.save(newer).stored
    saved = store.save(older)  # a slower, concurrent run that read the Price List earlier
    assert (saved.stored, saved.previous_version) == (False, None)
    loaded = store.load()
    assert loaded is not None and loaded.version == newer.version


def test_the_reader_prices_with_the_newer_of_the_stored_and_the_shipped_catalogue(
    store: CatalogueStore, dynamodb: Any, table_names: dict[str, str]
) -> None:
    shipped = shipped_catalogue()
    reads: list[str] = []
    dynamodb.meta.events.register("before-send.dynamodb.GetItem", lambda **_: reads.append("GetItem"))
    clock = [0.0]
    source = CatalogueSource(store, shipped, max_age=300, clock=lambda: clock[0])
    assert source.current() is shipped  # nothing stored yet

    store.save(catalogue(PRICES, taken_at="2026-01-01T00:00:00Z"))  # older than the shipped one
    clock[0] = 301
    assert source.current() is shipped

    fresh = catalogue(PRICES, taken_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    store.save(fresh)
    assert source.current() is shipped  # read again only after max_age
    clock[0] = 602
    assert source.current().version == fresh.version and source.last_error is None
    assert reads == ["GetItem"] * 3

    dynamodb.put_item(TableName=table_names["catalogue"], Item={"catalogue": {"S": "current"}, "document": {"S": "{"}})
    clock[0] = 903
    assert source.current().version == fresh.version  # the last good one
    assert source.last_error is not None and "not JSON" in source.last_error
