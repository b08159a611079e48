"""Refreshing prices from the AWS Price List (botocore's Stubber, with GetProducts' documented shape):
the pager, the usable-catalogue check, `python -m ops prices` and the offer file for the SDK."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import ops.__main__
from ops.offer_file import HEADER, offer_file
from ops.prices import differences, refresh
from tests.support.price_list import catalogue, pages, price, product_json
from tracker.config import ConfigError
from tracker.data.price_catalogue import shipped_catalogue
from tracker.data.price_list_api import PriceListApi, PriceListError
from tracker.logic.catalogue import Family, catalogue_from_json, catalogue_to_json
from tracker.prices.config import PricesConfig
from tracker.prices.service import UnusableCatalogue, read_catalogue

NOW = datetime(2026, 12, 6, 9, 30, 15, 250_000, tzinfo=UTC)
USABLE = [
    price(Family.TASK, "us-east-1", "0.30", "Forte-1"),
    price(Family.SHOT, "us-east-1", "0.07", "Forte-1"),
    price(Family.SIMULATOR, "us-east-1", "0.075", "SV1"),
]


@pytest.fixture
def stubbed() -> Iterator[tuple[PriceListApi, Stubber]]:
    client = boto3.client("pricing", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield PriceListApi("us-east-1", client), stubber
        stubber.assert_no_pending_responses()


def answer(stubber: Stubber, products: list[str], page_size: int = 100) -> None:
    """GetProducts as the paginator calls it: the first page without a token, then each NextToken."""
    token = None
    for page in pages(products, page_size):
        expected: dict[str, Any] = {"ServiceCode": "AmazonBraket", "FormatVersion": "aws_v1", "MaxResults": 100}
        if token:
            expected["NextToken"] = token
        stubber.add_response("get_products", page, expected)
        token = page.get("NextToken")


def test_every_page_of_products_is_read(stubbed: tuple[PriceListApi, Stubber]) -> None:
    api, stubber = stubbed
    products = [product_json(price(Family.SHOT, "us-east-1", f"0.0{i}", f"Device-{i}")) for i in range(1, 8)]
    answer(stubber, products, page_size=3)
    assert list(api.products()) == products


def test_an_answer_in_another_format_is_not_used(stubbed: tuple[PriceListApi, Stubber]) -> None:
    api, stubber = stubbed
    stubber.add_response("get_products", {"FormatVersion": "aws_v2", "PriceList": []})
    with pytest.raises(PriceListError, match="aws_v2"):
        list(api.products())


def test_a_usable_answer_becomes_a_catalogue_taken_now(stubbed: tuple[PriceListApi, Stubber]) -> None:
    api, stubber = stubbed
    answer(
        stubber,
        [product_json(p) for p in USABLE] + ["{not json", product_json(price(Family.JOB_VOLUME, "us-east-1", "0.1"))],
    )
    fresh = read_catalogue(api, NOW)
    assert fresh.products == 5 and [r.reason[:8] for r in fresh.refused] == ["not JSON"]
    assert fresh.catalogue.taken_at == "2026-12-06T09:30:15Z"
    assert fresh.catalogue.publication_date == "2026-09-11T12:44:10Z"
    assert fresh.catalogue.find(Family.SHOT, "us-east-1", "Forte-1").usd == USABLE[1].usd  # type: ignore[union-attr]
    assert fresh.catalogue.sources["price-list-api"].official


def test_an_answer_without_the_prices_the_tracker_needs_is_refused(stubbed: tuple[PriceListApi, Stubber]) -> None:
    api, stubber = stubbed
    answer(stubber, [product_json(USABLE[0]), '{"product": 1}'])
    with pytest.raises(UnusableCatalogue, match=r"2 products \(1 refused: a product: product is not an object\)"):
        read_catalogue(api, NOW)


def test_ops_prices_rewrites_the_catalogue_and_shows_what_changed(
    tmp_path: Path, stubbed: tuple[PriceListApi, Stubber]
) -> None:
    api, stubber = stubbed
    path = tmp_path / "catalogue.json"
    before = [price(Family.TASK, "us-east-1", "0.30", "Forte-1"), price(Family.SHOT, "us-east-1", "0.08", "Forte-1")]
    before.append(price(Family.SHOT, "eu-north-1", "0.00145", "Garnet"))
    path.write_text(catalogue_to_json(catalogue(before)))
    notebook = '{"product": {"sku": "X1", "productFamily": "Notebook"}, "serviceCode": "AmazonBraket"}'
    answer(stubber, [product_json(p) for p in USABLE] + [notebook])
    lines: list[str] = []
    assert refresh(path, api, lines.append, NOW) == 0
    written = catalogue_from_json(path.read_text())
    assert (written.taken_at, len(written.prices)) == ("2026-12-06T09:30:15Z", 3)
    assert lines[0] == "Read 4 products from the AWS Price List (us-east-1): 3 prices, 1 refused"
    assert lines[1] == "  refused 1: product family 'Notebook' is not one the tracker prices"
    assert lines[2:5] == [
        "  - Quantum Task-Shot / eu-north-1 / garnet: 0.00145 per shot (gone)",
        "  ~ Quantum Task-Shot / us-east-1 / forte-1: 0.08 -> 0.07 per shot",
        "  + Simulator Task / us-east-1 / sv1 / CompleteTask: 0.075 per minute",
    ]
    assert lines[-1] == f"Wrote {path}: version {written.version}, taken 2026-12-06T09:30:15Z"


def test_ops_prices_keeps_the_catalogue_when_the_answer_is_unusable(
    tmp_path: Path, stubbed: tuple[PriceListApi, Stubber]
) -> None:
    api, stubber = stubbed
    path = tmp_path / "catalogue.json"
    path.write_text("unchanged")
    answer(stubber, [])
    lines: list[str] = []
    assert refresh(path, api, lines.append, NOW) == 1
    assert path.read_text() == "unchanged"
    assert lines[0].startswith("warning: the catalogue at") and "is unchanged" in lines[-1]


def test_python_m_ops_prices_runs_without_a_deployment(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stubbed: tuple[PriceListApi, Stubber],
    capsys: pytest.CaptureFixture[str],
) -> None:
    api, stubber = stubbed
    answer(stubber, [product_json(p) for p in USABLE])
    regions: list[str] = []
    monkeypatch.setattr(ops.__main__, "PriceListApi", lambda region: regions.append(region) or api)
    target = tmp_path / "prices.json"
    assert ops.__main__.main(["prices", "--catalogue", str(target), "--region", "eu-central-1"]) == 0
    assert regions == ["eu-central-1"] and len(catalogue_from_json(target.read_text()).prices) == 3
    assert ops.__main__.main(["prices", "--catalogue", str(target), "--offer-file", str(tmp_path / "index.csv")]) == 0
    assert "3 prices of catalogue" in capsys.readouterr().out


def test_differences_name_each_price_added_removed_or_changed() -> None:
    old = catalogue(USABLE[:2])
    new = catalogue([price(Family.SHOT, "us-east-1", "0.08", "FORTE-1"), USABLE[2]])
    assert differences(old, new) == [
        "- Quantum Task / us-east-1 / forte-1: 0.30 per task (gone)",
        "~ Quantum Task-Shot / us-east-1 / forte-1: 0.07 -> 0.08 per shot",
        "+ Simulator Task / us-east-1 / sv1 / CompleteTask: 0.075 per minute",
    ]
    assert differences(old, old) == []


def test_the_offer_file_has_the_bulk_csv_layout_the_sdk_reads() -> None:
    shipped = shipped_catalogue()
    lines = io.StringIO(offer_file(shipped))
    metadata = [next(csv.reader([lines.readline()])) for _ in range(5)]
    assert [row[0] for row in metadata] == ["FormatVersion", "Disclaimer", "Publication Date", "Version", "OfferCode"]
    assert metadata[4][1] == "AmazonBraket"
    rows = list(csv.DictReader(lines))
    assert tuple(rows[0]) == HEADER and len(rows) == len(shipped.prices)
    forte = [r for r in rows if r["DeviceName"] == "Forte-1"]
    assert {r["Product Family"]: r["PricePerUnit"] for r in forte} == {
        "Quantum Task": "0.30",
        "Quantum Task-Shot": "0.08",
        "Quantum Reservation": "7000",
    }
    job_forte = {r["Product Family"] for r in rows if r["Device Name"] == "Forte-1"}
    assert job_forte == {"Braket Managed Jobs QPU Task", "Braket Managed Jobs QPU Task Shot"}
    sv1 = [r for r in rows if r["Version"] == "SV1" and r["Region Code"] == "us-east-1"]
    assert {(r["Product Family"], r["operation"], r["Unit"]) for r in sv1} == {
        ("Simulator Task", "CompleteTask", "minutes"),
        ("Braket Managed Jobs Simulator Task", "Managed-Jobs", "minutes"),
    }
    assert all(r["Currency"] == "USD" and r["TermType"] == "OnDemand" for r in rows)
    assert len({r["SKU"] for r in rows}) == len(rows)


@pytest.mark.parametrize(
    ("env", "problem"),
    [({}, "PRICES_TABLE_NAME"), ({"PRICES_TABLE_NAME": "t", "PRICE_LIST_REGION": "eu-west-1"}, "one of")],
)
def test_the_refresher_configuration_is_checked_at_cold_start(env: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        PricesConfig.from_env(env)
    assert PricesConfig.from_env({"PRICES_TABLE_NAME": "t"}).price_list_region == "us-east-1"
