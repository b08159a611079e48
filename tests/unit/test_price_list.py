"""The Price List boundary: every product becomes a price or a refusal with its reason, never a crash."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.price_list import (
    documented_example,
    price,
    price_entries,
    product,
    product_json,
    unique_prices,
)
from tracker.logic.catalogue import Family, Price, Unit
from tracker.logic.price_list import Refusal, missing_prices, read_product, read_products

FORTE_SHOT = price(Family.SHOT, "us-east-1", "0.08", "Forte-1", sku="ABCDEF1234567890")


def _shape(value: Any, depth: int = 0) -> Any:
    """The keys of a product, level by level, with the generated keys (SKUs, rate codes) masked."""
    if not isinstance(value, dict):
        return type(value).__name__
    if depth in (2, 4) and len(value) == 1:  # terms.OnDemand.<sku.term>, priceDimensions.<rate code>
        return {"*": _shape(next(iter(value.values())), depth + 1)}
    return {key: _shape(item, depth + 1) for key, item in value.items() if key != "attributes"}


def test_products_are_built_in_the_documented_shape() -> None:
    documented = documented_example()
    built = product(FORTE_SHOT)
    assert _shape(built) == _shape(documented)
    assert set(documented["product"]) == set(built["product"])


def test_the_documented_example_is_refused_for_not_being_braket() -> None:
    refusal = read_product(json.dumps(documented_example()))
    assert isinstance(refusal, Refusal)
    assert refusal.sku == "WQGC34PB2AWS8R4U" and "serviceCode is 'AmazonEC2'" in refusal.reason


@pytest.mark.parametrize(
    "entry",
    [
        price(Family.TASK, "us-east-1", "0.30", "Forte-1"),
        price(Family.SHOT, "eu-north-1", "0.00145", "Garnet"),
        price(Family.JOB_TASK, "us-west-1", "0.30", "Cepheus-1-108Q"),
        price(Family.JOB_SHOT, "eu-north-1", "0.0235", "IBEX-Q1"),
        price(Family.SIMULATOR, "us-west-2", "0.075", "SV1"),
        price(Family.SIMULATOR, "us-east-1", "0.275", "TN1", operation="FailedTask"),
        price(Family.JOB_SIMULATOR, "eu-west-2", "0.075", "DM1"),
        price(Family.JOB_INSTANCE, "us-east-1", "0.23", instance_type="ml.m5.xlarge"),
        price(Family.JOB_INSTANCE, "us-east-1", "0.0038333", instance_type="ml.m5.large", unit=Unit.MINUTE),
        price(Family.JOB_VOLUME, "us-east-1", "0.10"),
        price(Family.RESERVATION, "us-east-1", "7000", "Forte-1"),
    ],
    ids=lambda entry: f"{entry.family.value}-{entry.device or entry.instance_type or ''}",
)
def test_each_family_reads_into_its_price(entry: Price) -> None:
    outcome = read_product(product_json(entry, sku="SKU1"))
    assert not isinstance(outcome, Refusal), outcome
    read, published = outcome
    assert (read.family, read.region, read.device, read.instance_type, read.operation, read.unit) == (
        entry.family,
        entry.region,
        entry.device,
        entry.instance_type,
        entry.operation,
        entry.unit,
    )
    assert read.usd == entry.usd and read.sku == "SKU1" and read.source == "price-list-api"
    assert read.effective_date == "2026-08-01T00:00:00Z" and published == "2026-09-11T12:44:10Z"


def _mutated(change: Any) -> str:
    document = product(FORTE_SHOT)
    change(document)
    return json.dumps(document)


def _dimension(document: dict[str, Any]) -> dict[str, Any]:
    term = next(iter(document["terms"]["OnDemand"].values()))
    return dict(next(iter(term["priceDimensions"].values())))


def _set_dimension(document: dict[str, Any], **values: Any) -> None:
    term = next(iter(document["terms"]["OnDemand"].values()))
    key = next(iter(term["priceDimensions"]))
    term["priceDimensions"][key] = {**term["priceDimensions"][key], **values}


def _second_term(document: dict[str, Any]) -> None:
    terms = document["terms"]["OnDemand"]
    terms["OTHER"] = copy.deepcopy(next(iter(terms.values())))


def _second_dimension(document: dict[str, Any]) -> None:
    term = next(iter(document["terms"]["OnDemand"].values()))
    term["priceDimensions"]["OTHER"] = _dimension(document)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (42, "a product is a JSON string, not int"),
        ("{", "not JSON"),
        ("[]", "a product is a JSON object"),
        ("x" * 70_000, "over 65536 bytes"),
        (_mutated(lambda d: d.pop("product")), "product is not an object"),
        (_mutated(lambda d: d["product"].update(sku="a b")), "product.sku"),
        (_mutated(lambda d: d.update(serviceCode="AmazonEC2")), "serviceCode"),
        (_mutated(lambda d: d["product"].update(productFamily="Notebook Instance")), "not one the tracker prices"),
        (_mutated(lambda d: d["product"].update(productFamily=7)), "not one the tracker prices"),
        (_mutated(lambda d: d["product"]["attributes"].pop("regionCode")), "regionCode None"),
        (_mutated(lambda d: d["product"]["attributes"].update(regionCode="Global")), "regionCode 'Global'"),
        (_mutated(lambda d: d["product"]["attributes"].update(servicecode=1)), "attributes are strings"),
        (_mutated(lambda d: d["product"]["attributes"].pop("devicename")), "no device name"),
        (_mutated(lambda d: d["product"]["attributes"].update(deviceName="Aria-1")), "two device names"),
        (_mutated(lambda d: d["product"]["attributes"].update(devicename="Forte 1")), "does not match"),
        (_mutated(lambda d: d["terms"].update(OnDemand={})), "0 on-demand terms"),
        (_mutated(_second_term), "2 on-demand terms"),
        (_mutated(_second_dimension), "tiered prices"),
        (_mutated(lambda d: _set_dimension(d, endRange="1000")), "tiered prices"),
        (_mutated(lambda d: _set_dimension(d, pricePerUnit={"CNY": "0.5"})), "not in USD"),
        (_mutated(lambda d: _set_dimension(d, pricePerUnit={"USD": 0.08})), "not a decimal amount"),
        (_mutated(lambda d: _set_dimension(d, pricePerUnit={"USD": "-0.08"})), "not a decimal amount"),
        (_mutated(lambda d: _set_dimension(d, unit="Hrs")), "unit 'Hrs' is not one"),
        (_mutated(lambda d: _set_dimension(d, unit="")), "no unit"),
        (_mutated(lambda d: next(iter(d["terms"]["OnDemand"].values())).update(sku="OTHER")), "not this product's"),
        (_mutated(lambda d: next(iter(d["terms"]["OnDemand"].values())).update(effectiveDate="soon")), "effectiveDate"),
    ],
)
def test_a_product_that_cannot_be_read_is_refused_with_its_reason(text: Any, reason: str) -> None:
    outcome = read_product(text)
    assert isinstance(outcome, Refusal)
    assert reason in outcome.reason


@pytest.mark.parametrize(
    ("written", "read"), [("0.0700000000", "0.07"), ("7000.0000000000", "7000"), ("0.0000001000", "0.0000001")]
)
def test_amounts_are_kept_exact_without_the_price_lists_trailing_zeros(written: str, read: str) -> None:
    document = product(FORTE_SHOT)
    _set_dimension(document, pricePerUnit={"USD": written})
    outcome = read_product(json.dumps(document))
    assert not isinstance(outcome, Refusal)
    assert outcome[0].to_json()["usd"] == read and outcome[0].usd == Decimal(written)


def test_a_simulator_without_its_operation_or_version_is_refused() -> None:
    sv1 = price(Family.SIMULATOR, "us-east-1", "0.075", "SV1")
    no_version = product(sv1)
    del no_version["product"]["attributes"]["version"]
    no_operation = product(sv1)
    no_operation["product"]["attributes"]["operation"] = ""
    for document, reason in ((no_version, "version"), (no_operation, "operation")):
        outcome = read_product(json.dumps(document))
        assert isinstance(outcome, Refusal) and reason in outcome.reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)


@given(json_values)
def test_any_json_is_read_or_refused(value: Any) -> None:
    outcome = read_product(json.dumps(value))
    assert isinstance(outcome, Refusal) or isinstance(outcome[0], Price)


@st.composite
def damaged_products(draw: st.DrawFn) -> str:
    """A valid product with one value somewhere replaced by an arbitrary JSON value."""
    document = product(draw(price_entries()))
    paths: list[list[Any]] = []

    def walk(node: Any, path: list[Any]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, [*path, key])

    walk(document, [])
    path = draw(st.sampled_from(paths[1:]))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = draw(json_values)
    return json.dumps(document)


@given(damaged_products())
def test_a_damaged_product_is_read_or_refused_never_a_crash(text: str) -> None:
    outcome = read_product(text)
    assert isinstance(outcome, Refusal) or isinstance(outcome[0], Price)


@given(unique_prices(), st.randoms())
def test_products_read_back_into_their_prices_whatever_their_order(prices: list[Price], random: Any) -> None:
    products = [product_json(entry) for entry in prices]
    random.shuffle(products)
    read = read_products(products)
    assert read.refused == ()
    assert {(p.key, p.usd, p.unit) for p in read.prices} == {(p.key, p.usd, p.unit) for p in prices}


def test_products_that_price_one_thing_differently_are_all_refused() -> None:
    cheap = price(Family.SHOT, "us-east-1", "0.08", "Forte-1")
    dear = price(Family.SHOT, "us-east-1", "0.09", "FORTE-1")
    task = price(Family.TASK, "us-east-1", "0.30", "Forte-1")
    read = read_products([product_json(cheap, sku="A1"), product_json(dear, sku="B2"), product_json(task, sku="C3")])
    assert [p.family for p in read.prices] == [Family.TASK]
    assert {(r.sku, r.reason) for r in read.refused} == {
        ("A1", "2 products price Quantum Task-Shot / us-east-1 / forte-1 differently"),
        ("B2", "2 products price Quantum Task-Shot / us-east-1 / forte-1 differently"),
    }


def test_products_that_agree_are_kept_once() -> None:
    shot = price(Family.SHOT, "us-east-1", "0.08", "Forte-1")
    for order in (["B2", "A1"], ["A1", "B2"]):
        read = read_products([product_json(shot, sku=sku) for sku in order])
        assert [(p.sku, p.usd) for p in read.prices] == [("A1", Decimal("0.08"))] and read.refused == ()


def test_the_publication_date_is_the_latest_of_the_products() -> None:
    task = price(Family.TASK, "us-east-1", "0.30", "Forte-1")
    shot = price(Family.SHOT, "us-east-1", "0.08", "Forte-1")
    read = read_products(
        [product_json(task, publication="2026-09-11T12:44:10Z"), product_json(shot, publication="2026-10-01T00:00:00Z")]
    )
    assert read.publication_date == "2026-10-01T00:00:00Z"


def test_a_price_list_without_a_qpu_pair_or_a_simulator_is_not_usable() -> None:
    task = price(Family.TASK, "us-east-1", "0.30", "Forte-1")
    shot = price(Family.SHOT, "us-east-1", "0.08", "Forte-1")
    other_shot = price(Family.SHOT, "us-east-1", "0.08", "Aria-1")
    sv1 = price(Family.SIMULATOR, "us-east-1", "0.075", "SV1")
    failed_tn1 = price(Family.SIMULATOR, "us-east-1", "0.275", "TN1", operation="FailedTask")
    assert missing_prices([task, shot, sv1]) == []
    assert missing_prices([task, other_shot, sv1]) == ["no QPU has both a Quantum Task and a Quantum Task-Shot price"]
    assert missing_prices([task, shot, failed_tn1]) == ["no simulator has a Simulator Task price for CompleteTask"]
