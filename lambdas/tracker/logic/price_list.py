"""The AWS Price List's products for AmazonBraket, read into catalogue prices.

GetProducts (FormatVersion aws_v1) answers pages whose `PriceList` is a list of JSON strings, one
product each: `{"product": {"productFamily", "attributes": {...}, "sku"}, "serviceCode", "terms":
{"OnDemand": {"<sku>.<offer term>": {"sku", "effectiveDate", "priceDimensions": {"<rate code>":
{"unit", "beginRange", "endRange", "pricePerUnit": {"USD": "0.3000000000"}, ...}}, ...}}},
"version", "publicationDate"}` (the example of GetProducts in the Price List API reference, and
botocore's `pricing/2017-10-15/examples-1.json`).

This is a boundary: every product becomes a price or a refusal with a reason, never an exception.
A product is refused when it is malformed, of a family or unit this code does not price, tiered,
in another currency, or ambiguous (two products for one price with different amounts).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tracker.logic.catalogue import (
    AMOUNT,
    DEVICE,
    INSTANCE_TYPE,
    OPERATION,
    REGION,
    SIMULATOR_OPERATION,
    SKU,
    Family,
    Price,
    PriceCatalogue,
    Source,
    Unit,
    plain,
    shape_problem,
)

SERVICE_CODE = "AmazonBraket"
SOURCE_NAME = "price-list-api"
MAX_PRODUCT_BYTES = 64 * 1024
"""A Braket product is about 1 KB; anything far larger is not one."""
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z")

# The Price List spells a unit as it likes: what each family's units may be called.
_TIME_UNITS = {
    Unit.MINUTE: {"minute", "minutes", "min", "mins"},
    Unit.HOUR: {"hour", "hours", "hr", "hrs"},
}
_VOLUME_UNITS = {"gb-mo", "gb-month", "gb-months"}


@dataclass(frozen=True)
class Refusal:
    sku: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.sku or 'a product'}: {self.reason}"


@dataclass(frozen=True)
class ReadPrices:
    """What a Price List answer gave: prices (one per key), refusals, and its publication date."""

    prices: tuple[Price, ...]
    refused: tuple[Refusal, ...]
    publication_date: str | None

    def catalogue(self, taken_at: str, endpoint_region: str) -> PriceCatalogue:
        source = Source(
            url="https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/using-price-list-query-api.html",
            note=f"AWS Price List Query API (GetProducts, ServiceCode {SERVICE_CODE}, endpoint {endpoint_region}), "
            f"read {taken_at}; {len(self.prices)} prices, {len(self.refused)} products refused.",
            official=True,
        )
        return PriceCatalogue(
            taken_at=taken_at,
            prices=self.prices,
            sources={SOURCE_NAME: source},
            publication_date=self.publication_date,
        )


def read_products(products: Iterable[object]) -> ReadPrices:
    """Every product read; products that would price the same thing differently are all refused."""
    by_key: dict[tuple[str, ...], list[Price]] = defaultdict(list)
    refused: list[Refusal] = []
    published: list[str] = []
    for product in products:
        outcome = read_product(product)
        if isinstance(outcome, Refusal):
            refused.append(outcome)
            continue
        price, publication = outcome
        by_key[price.key].append(price)
        if publication:
            published.append(publication)
    prices: list[Price] = []
    for key, candidates in by_key.items():
        amounts = {(price.usd, price.unit) for price in candidates}
        if len(amounts) > 1:
            label = " / ".join(filter(None, key))
            refused.extend(
                Refusal(price.sku, f"{len(candidates)} products price {label} differently") for price in candidates
            )
            continue
        prices.append(min(candidates, key=lambda price: price.sku or ""))
    return ReadPrices(tuple(prices), tuple(refused), max(published, default=None))


def read_product(text: object) -> tuple[Price, str | None] | Refusal:
    """One product of a GetProducts page: its price and the Price List's publication date, or why not."""
    if not isinstance(text, str):
        return Refusal(None, f"a product is a JSON string, not {type(text).__name__}")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PRODUCT_BYTES:
        return Refusal(None, f"over {MAX_PRODUCT_BYTES} bytes")
    try:
        document = json.loads(text)
    except ValueError as exc:
        return Refusal(None, f"not JSON: {exc}")
    try:
        return _read(document)
    except _Refused as refused:
        return Refusal(refused.sku, refused.reason)


class _Refused(Exception):
    def __init__(self, sku: str | None, reason: str) -> None:
        super().__init__(reason)
        self.sku = sku
        self.reason = reason


def _read(document: Any) -> tuple[Price, str | None]:
    if not isinstance(document, dict):
        raise _Refused(None, "a product is a JSON object")
    product = _object(document, "product", None)
    sku = product.get("sku")
    if not isinstance(sku, str) or not SKU.fullmatch(sku):
        raise _Refused(None, f"product.sku {sku!r} does not match {SKU.pattern}")
    if document.get("serviceCode") != SERVICE_CODE:
        raise _Refused(sku, f"serviceCode is {document.get('serviceCode')!r}, not {SERVICE_CODE}")
    family_name = product.get("productFamily")
    try:
        family = Family(family_name if isinstance(family_name, str) else "")
    except ValueError:
        raise _Refused(sku, f"product family {family_name!r} is not one the tracker prices") from None
    attributes = _object(product, "attributes", sku)
    if not all(isinstance(value, str) for value in attributes.values()):
        raise _Refused(sku, "product attributes are strings")
    region = attributes.get("regionCode")
    if not isinstance(region, str) or not REGION.fullmatch(region):
        raise _Refused(sku, f"regionCode {region!r} is not a Region")
    usd, raw_unit, effective = _on_demand_price(document, sku)
    unit = _unit(family, raw_unit, sku)
    publication = document.get("publicationDate")
    price = Price(
        family=family,
        region=region,
        usd=usd,
        unit=unit,
        source=SOURCE_NAME,
        device=_device(family, attributes, sku),
        instance_type=_instance_type(family, attributes, sku),
        operation=_attribute(attributes, "operation", OPERATION, sku) if family in _OPERATION_FAMILIES else None,
        sku=sku,
        effective_date=effective,
    )
    problem = shape_problem(price)
    if problem:
        raise _Refused(sku, problem)
    return price, publication if isinstance(publication, str) and _TIMESTAMP.fullmatch(publication) else None


_OPERATION_FAMILIES = frozenset({Family.SIMULATOR, Family.JOB_SIMULATOR})
_JOB_FAMILIES = frozenset({Family.JOB_TASK, Family.JOB_SHOT})


def _device(family: Family, attributes: dict[str, str], sku: str) -> str | None:
    if family in _OPERATION_FAMILIES:
        return _attribute(attributes, "version", DEVICE, sku)
    if family in {Family.TASK, Family.SHOT, Family.RESERVATION} | _JOB_FAMILIES:
        # Per-task, per-shot and reservation SKUs spell it `devicename`, job SKUs `deviceName` (the
        # SDK's bulk CSV shows both spellings as two columns); either is read, and both must agree.
        names = {attributes[name] for name in ("devicename", "deviceName") if attributes.get(name)}
        if len(names) != 1:
            raise _Refused(sku, "no device name" if not names else f"two device names: {sorted(names)}")
        name = names.pop()
        if not DEVICE.fullmatch(name):
            raise _Refused(sku, f"device name {name!r} does not match {DEVICE.pattern}")
        return name
    return None


def _instance_type(family: Family, attributes: dict[str, str], sku: str) -> str | None:
    if family is not Family.JOB_INSTANCE:
        return None
    return _attribute(attributes, "instanceType", INSTANCE_TYPE, sku)


def _attribute(attributes: dict[str, str], name: str, pattern: re.Pattern[str], sku: str) -> str:
    value = attributes.get(name)
    if value is None or not pattern.fullmatch(value):
        raise _Refused(sku, f"attribute {name} {value!r} does not match {pattern.pattern}")
    return value


def _on_demand_price(document: dict[str, Any], sku: str) -> tuple[Decimal, str, str | None]:
    """The one on-demand price of a product: one term, one dimension, from 0 to infinity, in USD."""
    terms = _object(document, "terms", sku)
    on_demand = _object(terms, "OnDemand", sku)
    if len(on_demand) != 1:
        raise _Refused(sku, f"{len(on_demand)} on-demand terms (one expected)")
    term = next(iter(on_demand.values()))
    if not isinstance(term, dict) or term.get("sku") != sku:
        raise _Refused(sku, "the on-demand term is not this product's")
    dimensions = _object(term, "priceDimensions", sku)
    if len(dimensions) != 1:
        raise _Refused(sku, f"{len(dimensions)} price dimensions: tiered prices are not supported")
    dimension = next(iter(dimensions.values()))
    if not isinstance(dimension, dict):
        raise _Refused(sku, "a price dimension is an object")
    if dimension.get("beginRange", "0") != "0" or dimension.get("endRange", "Inf") != "Inf":
        raise _Refused(sku, "a price for a range of usage: tiered prices are not supported")
    per_unit = dimension.get("pricePerUnit")
    if not isinstance(per_unit, dict) or set(per_unit) != {"USD"}:
        raise _Refused(sku, f"pricePerUnit is not in USD alone: {per_unit!r}")
    usd = per_unit["USD"]
    if not isinstance(usd, str) or not AMOUNT.fullmatch(usd):
        raise _Refused(sku, f"pricePerUnit.USD {usd!r} is not a decimal amount")
    unit = dimension.get("unit")
    if not isinstance(unit, str) or not unit.strip():
        raise _Refused(sku, "the price dimension has no unit")
    effective = term.get("effectiveDate")
    if effective is not None and (not isinstance(effective, str) or not _TIMESTAMP.fullmatch(effective)):
        raise _Refused(sku, f"effectiveDate {effective!r} is not an ISO-8601 UTC time")
    return plain(Decimal(usd)), unit, effective


def _unit(family: Family, unit: str, sku: str) -> Unit:
    spelled = unit.strip().casefold()
    if family in {Family.TASK, Family.JOB_TASK} and "task" in spelled:
        return Unit.TASK
    if family in {Family.SHOT, Family.JOB_SHOT} and "shot" in spelled:
        return Unit.SHOT
    if family is Family.JOB_VOLUME and spelled in _VOLUME_UNITS:
        return Unit.GB_MONTH
    for candidate in (Unit.MINUTE, Unit.HOUR):
        if spelled in _TIME_UNITS[candidate] and family in _TIMED_FAMILIES[candidate]:
            return candidate
    raise _Refused(sku, f"unit {unit!r} is not one that {family.value} is priced in")


_TIMED_FAMILIES = {
    Unit.MINUTE: {Family.SIMULATOR, Family.JOB_SIMULATOR, Family.JOB_INSTANCE},
    Unit.HOUR: {Family.JOB_INSTANCE, Family.RESERVATION},
}


def _object(document: dict[str, Any], name: str, sku: str | None) -> dict[str, Any]:
    value = document.get(name)
    if not isinstance(value, dict):
        raise _Refused(sku, f"{name} is not an object")
    return value


def missing_prices(prices: Iterable[Price]) -> list[str]:
    """What a catalogue read from the Price List lacks to price the tasks it must (empty when usable):
    a QPU with both its per-task and per-shot prices, and an on-demand simulator's per-minute price."""
    prices = list(prices)
    keys = {(price.family, price.region, (price.device or "").casefold()) for price in prices}
    problems = []
    if not any((Family.SHOT, region, device) in keys for family, region, device in keys if family is Family.TASK):
        problems.append("no QPU has both a Quantum Task and a Quantum Task-Shot price")
    operation = SIMULATOR_OPERATION[Family.SIMULATOR]
    if not any(price.family is Family.SIMULATOR and price.operation == operation for price in prices):
        problems.append(f"no simulator has a Simulator Task price for {operation}")
    return problems
