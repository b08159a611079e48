"""The price catalogue: the shipped one, its document's strictness, and lookups."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.price_list import catalogue, price, unique_prices
from tracker.data.price_catalogue import SHIPPED_CATALOGUE, shipped_catalogue
from tracker.logic.catalogue import (
    Family,
    InvalidCatalogue,
    PriceCatalogue,
    catalogue_from_json,
    catalogue_to_json,
)
from tracker.logic.costs import device


def test_the_shipped_catalogue_is_dated_sourced_and_written_as_the_code_writes_it() -> None:
    text = SHIPPED_CATALOGUE.read_text()
    shipped = catalogue_from_json(text)
    assert shipped.taken_at == "2026-09-11T12:44:10Z"
    assert catalogue_to_json(shipped) == text  # so `python -m ops prices` diffs only what changed
    assert all(price.source in shipped.sources for price in shipped.prices)


def test_the_shipped_catalogue_marks_every_figure_without_an_official_source_unconfirmed() -> None:
    shipped = shipped_catalogue()
    for entry in shipped.prices:
        if not shipped.sources[entry.source].official:
            assert not entry.confirmed, entry
    unconfirmed = {(p.family, p.device) for p in shipped.prices if not p.confirmed}
    assert (Family.SHOT, "Emerald") in unconfirmed and (Family.SHOT, "Forte-1") not in unconfirmed
    assert all("UNCONFIRMED" in s.note for s in shipped.sources.values() if not s.official)


@pytest.mark.parametrize(
    ("arn", "region"),
    [
        ("arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1", "us-east-1"),
        ("arn:aws:braket:us-east-1::device/qpu/ionq/Forte-Enterprise-1", "us-east-1"),
        ("arn:aws:braket:us-east-1::device/qpu/quera/Aquila", "us-east-1"),
        ("arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet", "eu-north-1"),
        ("arn:aws:braket:eu-north-1::device/qpu/iqm/Emerald", "eu-north-1"),
        ("arn:aws:braket:eu-north-1::device/qpu/aqt/Ibex-Q1", "eu-north-1"),
        ("arn:aws:braket:us-west-1::device/qpu/rigetti/Cepheus-1-108Q", "us-west-1"),
    ],
)
def test_the_shipped_catalogue_prices_every_live_qpu_on_demand_and_in_jobs(arn: str, region: str) -> None:
    shipped, name = shipped_catalogue(), device(arn).price_list_name  # type: ignore[union-attr]
    for family in (Family.TASK, Family.SHOT, Family.JOB_TASK, Family.JOB_SHOT, Family.RESERVATION):
        assert shipped.find(family, region, name) is not None, (family, name)
    assert shipped.find(Family.TASK, region, name).usd == Decimal("0.30")  # type: ignore[union-attr]


def test_the_shipped_catalogue_prices_sv1_and_dm1_per_minute_on_demand_and_in_jobs() -> None:
    shipped = shipped_catalogue()
    for name in ("SV1", "DM1"):
        for region in ("us-east-1", "us-west-1", "us-west-2", "eu-west-2"):
            assert shipped.find(Family.SIMULATOR, region, name, operation="CompleteTask") is not None
            assert shipped.find(Family.JOB_SIMULATOR, region, name, operation="Managed-Jobs") is not None


def test_devices_are_found_whatever_the_case_the_price_list_writes() -> None:
    prices = catalogue([price(Family.SHOT, "eu-north-1", "0.0235", "IBEX-Q1")])
    assert prices.find(Family.SHOT, "eu-north-1", "Ibex-Q1") is not None
    assert prices.find(Family.SHOT, "eu-north-1", "ibex-q1") is not None
    assert prices.find(Family.SHOT, "us-east-1", "IBEX-Q1") is None
    assert prices.find(Family.JOB_SHOT, "eu-north-1", "IBEX-Q1") is None


def _document(**changes: Any) -> dict[str, Any]:
    document = catalogue([price(Family.SHOT, "us-east-1", "0.08", "Forte-1")]).to_document()
    for path, value in changes.items():
        target = document
        *parents, last = path.split("__")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is _DROP:
            del target[last]
        else:
            target[last] = value
    return document


_DROP = object()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"formatVersion": 2}, "formatVersion"),
        ({"formatVersion": True}, "formatVersion"),
        ({"currency": "EUR"}, "USD"),
        ({"takenAt": "2026-09-11T12:44:10.120Z"}, "takenAt"),
        ({"takenAt": _DROP}, "takenAt"),
        ({"extra": 1}, "unknown catalogue fields"),
        ({"prices": []}, "neither empty"),
        ({"prices__0__usd": 0.08}, "decimal string"),
        ({"prices__0__usd": "-0.08"}, "decimal string"),
        ({"prices__0__usd": "8e-2"}, "decimal string"),
        ({"prices__0__family": "Quantum Task Shot"}, "family"),
        ({"prices__0__unit": "minute"}, "not priced per minute"),
        ({"prices__0__region": "us-east-1 "}, "region"),
        ({"prices__0__device": _DROP}, "name a device"),
        ({"prices__0__source": "elsewhere"}, "unknown source"),
        ({"prices__0__confirmed": "no"}, "confirmed"),
        ({"prices__0__colour": "red"}, "unknown price fields"),
        ({"sources__test__url": "http://example.com"}, "https URL"),
    ],
)
def test_a_document_that_cannot_be_trusted_is_refused_with_its_reason(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidCatalogue, match=reason):
        PriceCatalogue.from_document(_document(**changes))


def test_two_prices_for_one_thing_are_refused() -> None:
    document = _document()
    document["prices"].append({**document["prices"][0], "usd": "0.09", "device": "forte-1"})
    with pytest.raises(InvalidCatalogue, match="two prices"):
        PriceCatalogue.from_document(document)


def test_a_simulator_price_names_the_operation_it_bills() -> None:
    document = catalogue([price(Family.SIMULATOR, "us-east-1", "0.075", "SV1")]).to_document()
    del document["prices"][0]["operation"]
    with pytest.raises(InvalidCatalogue, match="operation"):
        PriceCatalogue.from_document(document)


def test_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(InvalidCatalogue, match="not JSON"):
        catalogue_from_json(b"\xff{")


@given(unique_prices())
def test_a_catalogue_reads_back_as_it_was_written(prices: list[Any]) -> None:
    written = catalogue(prices)
    read = catalogue_from_json(catalogue_to_json(written))
    assert set(read.prices) == set(written.prices) and len(read.prices) == len(written.prices)
    assert (read.taken_at, read.sources) == (written.taken_at, written.sources)
    assert read.version == written.version
    assert json.loads(catalogue_to_json(read)) == written.to_document()


@given(unique_prices(min_size=2), st.randoms())
def test_the_version_depends_on_the_prices_alone(prices: list[Any], random: Any) -> None:
    shuffled = list(prices)
    random.shuffle(shuffled)
    assert catalogue(prices).version == catalogue(shuffled, taken_at="2027-01-01T00:00:00Z").version
    changed = [
        price(p.family, p.region, str(p.usd + 1), p.device, unit=p.unit, instance_type=p.instance_type) if i == 0 else p
        for i, p in enumerate(prices)
    ]
    assert catalogue(changed).version != catalogue(prices).version
