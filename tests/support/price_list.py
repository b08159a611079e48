"""AWS Price List answers for AmazonBraket in the documented shape, and catalogues to test with.

The shape of a product is the one of GetProducts' example in the Price List API reference, which
botocore ships (`botocore/data/pricing/2017-10-15/examples-1.json`); `documented_example()` reads
it so a test can hold this builder to it.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import botocore.loaders
from hypothesis import strategies as st

from tracker.logic.catalogue import (
    SIMULATOR_OPERATION,
    Family,
    Price,
    PriceCatalogue,
    Source,
    Unit,
)

OFFER_TERM = "JRTCKXETXF"
RATE = "6YS6EN2CT7"
PUBLISHED = "2026-09-11T12:44:10Z"
_UNIT_SPELLING = {
    Unit.TASK: "Quantum-Task",
    Unit.SHOT: "Quantum-Shot",
    Unit.MINUTE: "minutes",
    Unit.HOUR: "Hours",
    Unit.GB_MONTH: "GB-Mo",
}


def documented_example() -> dict[str, Any]:
    """The product of GetProducts' documented example (an Amazon EC2 one), parsed."""
    examples = botocore.loaders.Loader().load_service_model("pricing", "examples-1")
    return dict(json.loads(examples["examples"]["GetProducts"][0]["output"]["PriceList"][0]))


def product(price: Price, *, sku: str | None = None, publication: str = PUBLISHED) -> dict[str, Any]:
    """The Price List product that prices `price`, with the attributes Braket's products carry."""
    sku = sku or price.sku or "SKU" + hashlib.sha256(repr(price.key).encode()).hexdigest()[:12].upper()
    attributes = {
        "servicecode": "AmazonBraket",
        "servicename": "Amazon Braket",
        "regionCode": price.region,
        "location": price.region,
        "locationType": "AWS Region",
        "usagetype": f"{price.region}-{price.family.value.replace(' ', '')}",
        "operation": price.operation or "",
    }
    if price.family in {Family.TASK, Family.SHOT, Family.RESERVATION}:
        attributes["devicename"] = str(price.device)
    elif price.family in {Family.JOB_TASK, Family.JOB_SHOT}:
        attributes["deviceName"] = str(price.device)
    elif price.family in SIMULATOR_OPERATION:
        attributes["version"] = str(price.device)
    if price.instance_type:
        attributes["instanceType"] = price.instance_type
    rate = f"{sku}.{OFFER_TERM}.{RATE}"
    return {
        "product": {"productFamily": price.family.value, "attributes": attributes, "sku": sku},
        "serviceCode": "AmazonBraket",
        "terms": {
            "OnDemand": {
                f"{sku}.{OFFER_TERM}": {
                    "priceDimensions": {
                        rate: {
                            "unit": _UNIT_SPELLING[price.unit],
                            "endRange": "Inf",
                            "description": f"${price.usd} per {price.unit.value}",
                            "appliesTo": [],
                            "rateCode": rate,
                            "beginRange": "0",
                            "pricePerUnit": {"USD": f"{price.usd:.10f}"},
                        }
                    },
                    "sku": sku,
                    "effectiveDate": price.effective_date or "2026-08-01T00:00:00Z",
                    "offerTermCode": OFFER_TERM,
                    "termAttributes": {},
                }
            }
        },
        "version": "20260911124410",
        "publicationDate": publication,
    }


def product_json(price: Price, **options: Any) -> str:
    return json.dumps(product(price, **options))


def pages(products: list[str], page_size: int = 100) -> list[dict[str, Any]]:
    """GetProducts answers carrying `products`, with the NextToken of every page but the last."""
    chunks = [products[start : start + page_size] for start in range(0, len(products), page_size)] or [[]]
    return [
        {
            "FormatVersion": "aws_v1",
            "PriceList": chunk,
            **({"NextToken": f"token-{i + 1}"} if i + 1 < len(chunks) else {}),
        }
        for i, chunk in enumerate(chunks)
    ]


SOURCE = {"test": Source("https://example.com/prices", "test prices", True)}


def catalogue(prices: list[Price] | tuple[Price, ...], taken_at: str = "2026-09-11T12:44:10Z") -> PriceCatalogue:
    return PriceCatalogue(taken_at=taken_at, prices=tuple(prices), sources=SOURCE)


def price(family: Family, region: str, usd: str, device: str | None = None, **fields: Any) -> Price:
    unit = (
        fields.pop("unit", None)
        or {
            Family.TASK: Unit.TASK,
            Family.JOB_TASK: Unit.TASK,
            Family.SHOT: Unit.SHOT,
            Family.JOB_SHOT: Unit.SHOT,
            Family.SIMULATOR: Unit.MINUTE,
            Family.JOB_SIMULATOR: Unit.MINUTE,
            Family.JOB_INSTANCE: Unit.HOUR,
            Family.JOB_VOLUME: Unit.GB_MONTH,
            Family.RESERVATION: Unit.HOUR,
        }[family]
    )
    if family in SIMULATOR_OPERATION:
        fields.setdefault("operation", SIMULATOR_OPERATION[family])
    return Price(family, region, Decimal(usd), unit, fields.pop("source", "test"), device=device, **fields)


# --- Hypothesis strategies ---------------------------------------------------------------------

REGIONS = ("us-east-1", "us-west-1", "eu-north-1")
QPUS = ("Forte-1", "Garnet", "IBEX-Q1", "Ankaa-3")
SIMULATORS = ("SV1", "DM1")

amounts = st.decimals(min_value=0, max_value=100, places=6, allow_nan=False, allow_infinity=False).map(
    lambda value: Decimal(f"{value:f}")
)


@st.composite
def price_entries(draw: st.DrawFn) -> Price:
    family = draw(st.sampled_from(list(Family)))
    region = draw(st.sampled_from(REGIONS))
    fields: dict[str, Any] = {}
    device: str | None = None
    if family in SIMULATOR_OPERATION:
        device = draw(st.sampled_from(SIMULATORS))
    elif family is Family.JOB_INSTANCE:
        fields["instance_type"] = draw(st.sampled_from(("ml.m5.large", "ml.m5.xlarge", "ml.p3.8xlarge")))
        fields["unit"] = draw(st.sampled_from((Unit.MINUTE, Unit.HOUR)))
    elif family is not Family.JOB_VOLUME:
        device = draw(st.sampled_from(QPUS))
    return price(family, region, str(draw(amounts)), device, **fields)


def unique_prices(min_size: int = 1, max_size: int = 40) -> st.SearchStrategy[list[Price]]:
    return st.lists(price_entries(), min_size=min_size, max_size=max_size, unique_by=lambda p: p.key)


@st.composite
def full_catalogues(draw: st.DrawFn) -> PriceCatalogue:
    """A catalogue pricing every QPU and simulator above in every Region, on demand and in jobs."""
    prices = []
    for region in REGIONS:
        for device in QPUS:
            for family in (Family.TASK, Family.SHOT, Family.JOB_TASK, Family.JOB_SHOT):
                prices.append(price(family, region, str(draw(amounts)), device))
        for device in SIMULATORS:
            for family in (Family.SIMULATOR, Family.JOB_SIMULATOR):
                prices.append(price(family, region, str(draw(amounts)), device))
    return catalogue(draw(st.permutations(prices)))
