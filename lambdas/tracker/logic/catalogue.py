"""The price catalogue: dated Braket prices, each with its source, looked up the way Braket bills.

A catalogue is a document (JSON) that ships with the functions (`tracker/data/price-catalogue.json`),
is rewritten by `python -m ops prices` and kept current in the deployed stack by the prices function,
both from the AWS Price List (service code AmazonBraket). Prices keep the Price List's product
families, whose names the SDK's Tracker searches too:

- a QPU task: one `Quantum Task` price (per task) plus one `Quantum Task-Shot` price (per shot);
  tasks created inside a hybrid job use `Braket Managed Jobs QPU Task` and `... QPU Task Shot`;
- a simulator task: `Simulator Task` (per minute, operation `CompleteTask`); inside a hybrid job,
  `Braket Managed Jobs Simulator Task` (operation `Managed-Jobs`);
- a hybrid job: `Braket Managed Jobs Instance` (per instance type) and `Braket Managed Jobs Volume`;
- a Braket Direct reservation: `Quantum Reservation` (per hour and device).

Amounts are exact decimals, written as strings. Nothing here knows a price: they are data.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any

FORMAT_VERSION = 1
CURRENCY = "USD"


class Family(StrEnum):
    """Product families of the AWS Price List for AmazonBraket, spelled as the Price List spells them."""

    TASK = "Quantum Task"
    SHOT = "Quantum Task-Shot"
    JOB_TASK = "Braket Managed Jobs QPU Task"
    JOB_SHOT = "Braket Managed Jobs QPU Task Shot"
    SIMULATOR = "Simulator Task"
    JOB_SIMULATOR = "Braket Managed Jobs Simulator Task"
    JOB_INSTANCE = "Braket Managed Jobs Instance"
    JOB_VOLUME = "Braket Managed Jobs Volume"
    RESERVATION = "Quantum Reservation"


class Unit(StrEnum):
    TASK = "task"
    SHOT = "shot"
    MINUTE = "minute"
    HOUR = "hour"
    GB_MONTH = "GB-month"


FAMILY_UNITS: dict[Family, tuple[Unit, ...]] = {
    Family.TASK: (Unit.TASK,),
    Family.JOB_TASK: (Unit.TASK,),
    Family.SHOT: (Unit.SHOT,),
    Family.JOB_SHOT: (Unit.SHOT,),
    Family.SIMULATOR: (Unit.MINUTE,),
    Family.JOB_SIMULATOR: (Unit.MINUTE,),
    Family.JOB_INSTANCE: (Unit.MINUTE, Unit.HOUR),
    Family.JOB_VOLUME: (Unit.GB_MONTH,),
    Family.RESERVATION: (Unit.HOUR,),
}
DEVICE_FAMILIES = frozenset(
    {
        Family.TASK,
        Family.SHOT,
        Family.JOB_TASK,
        Family.JOB_SHOT,
        Family.SIMULATOR,
        Family.JOB_SIMULATOR,
        Family.RESERVATION,
    }
)
"""Families priced per device: a QPU's name as the Price List spells it, or a simulator's version (SV1)."""
SIMULATOR_OPERATION = {Family.SIMULATOR: "CompleteTask", Family.JOB_SIMULATOR: "Managed-Jobs"}
"""The operation a finished simulator task is billed under (the SDK's Tracker searches the same)."""

REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
DEVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
INSTANCE_TYPE = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")
OPERATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_.-]{0,63}")
SKU = re.compile(r"[A-Za-z0-9._-]{1,64}")
AMOUNT = re.compile(r"\d{1,12}(?:\.\d{1,15})?")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z)?")
TAKEN_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
"""Whole seconds, so that dates of catalogues sort as they read (in code and in DynamoDB conditions)."""
SOURCE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
MAX_TEXT = 1000


class InvalidCatalogue(ValueError):
    """A catalogue document that this code cannot trust: the reason says what is wrong."""


@dataclass(frozen=True)
class Source:
    """Where prices come from: a page, a file or an API, with what is known of its date and authority."""

    url: str
    note: str
    official: bool

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "note": self.note, "official": self.official}


@dataclass(frozen=True)
class Price:
    family: Family
    region: str
    usd: Decimal
    unit: Unit
    source: str
    device: str | None = None
    instance_type: str | None = None
    operation: str | None = None
    sku: str | None = None
    effective_date: str | None = None
    confirmed: bool = True
    """False when the figure is not confirmed by an official, current AWS source (see its source's note)."""

    @property
    def key(self) -> PriceKey:
        return price_key(self.family, self.region, self.device, self.instance_type, self.operation)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"family": self.family.value, "region": self.region}
        for name, value in (
            ("device", self.device),
            ("instanceType", self.instance_type),
            ("operation", self.operation),
        ):
            if value is not None:
                document[name] = value
        document.update({"unit": self.unit.value, "usd": f"{self.usd:f}", "source": self.source})
        for name, value in (("sku", self.sku), ("effectiveDate", self.effective_date)):
            if value is not None:
                document[name] = value
        if not self.confirmed:
            document["confirmed"] = False
        return document

    @classmethod
    def from_json(cls, document: Any) -> Price:
        if not isinstance(document, dict):
            raise InvalidCatalogue(f"a price is a JSON object, not {type(document).__name__}")
        unknown = set(document) - _PRICE_FIELDS
        if unknown:
            raise InvalidCatalogue(f"unknown price fields: {', '.join(sorted(unknown))}")
        family = _enum(Family, document.get("family"), "family")
        unit = _enum(Unit, document.get("unit"), "unit")
        if unit not in FAMILY_UNITS[family]:
            raise InvalidCatalogue(f"{family.value} is not priced per {unit.value}")
        confirmed = document.get("confirmed", True)
        if not isinstance(confirmed, bool):
            raise InvalidCatalogue("confirmed must be true or false")
        price = cls(
            family=family,
            region=_text(document, "region", REGION),
            usd=amount(document.get("usd")),
            unit=unit,
            source=_text(document, "source", SOURCE_NAME),
            device=_optional(document, "device", DEVICE),
            instance_type=_optional(document, "instanceType", INSTANCE_TYPE),
            operation=_optional(document, "operation", OPERATION),
            sku=_optional(document, "sku", SKU),
            effective_date=_optional(document, "effectiveDate", TIMESTAMP),
            confirmed=confirmed,
        )
        problem = shape_problem(price)
        if problem:
            raise InvalidCatalogue(problem)
        return price


_PRICE_FIELDS = frozenset(
    {"family", "region", "device", "instanceType", "operation", "unit", "usd", "source"}
    | {"sku", "effectiveDate", "confirmed"}
)
PriceKey = tuple[str, str, str, str, str]


def price_key(
    family: Family, region: str, device: str | None, instance_type: str | None = None, operation: str | None = None
) -> PriceKey:
    """What identifies a price. Device names compare without case: the SDK's Tracker upper-cases
    simulator names and capitalizes QPU names, and the Price List writes them as it likes."""
    return (family.value, region, (device or "").casefold(), instance_type or "", operation or "")


def shape_problem(price: Price) -> str | None:
    """Why a price cannot be looked up as its family is (None when it can)."""
    if price.family in DEVICE_FAMILIES and price.device is None:
        return f"{price.family.value} prices name a device"
    if price.family not in DEVICE_FAMILIES and price.device is not None:
        return f"{price.family.value} prices name no device"
    if (price.family is Family.JOB_INSTANCE) != (price.instance_type is not None):
        return "only Braket Managed Jobs Instance prices name an instance type"
    if price.family in SIMULATOR_OPERATION and price.operation is None:
        return f"{price.family.value} prices name the operation billed (e.g. {SIMULATOR_OPERATION[price.family]})"
    return None


def plain(value: Decimal) -> Decimal:
    """The amount without trailing zeros, never in exponent form: 0.0700000000 is 0.07, 7000.00 is 7000."""
    normalized = value.normalize()
    return normalized.quantize(Decimal(1)) if normalized == normalized.to_integral_value() else normalized


def amount(value: Any) -> Decimal:
    """A non-negative USD amount written as a decimal string ("0.30", "0.0016"), never a float."""
    if not isinstance(value, str) or not AMOUNT.fullmatch(value):
        raise InvalidCatalogue(f"an amount is a decimal string like '0.30', not {value!r}")
    return Decimal(value)


@dataclass(frozen=True)
class PriceCatalogue:
    taken_at: str
    """When the prices were read (ISO-8601 UTC)."""
    prices: tuple[Price, ...]
    sources: Mapping[str, Source]
    publication_date: str | None = None
    """The Price List's own publication date, when the prices came from it."""
    note: str | None = None
    _index: dict[PriceKey, Price] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.taken_at, str) or not TAKEN_AT.fullmatch(self.taken_at):
            raise InvalidCatalogue(f"takenAt must be an ISO-8601 UTC time like 2026-09-11T12:44:10Z: {self.taken_at!r}")
        for price in self.prices:
            if price.source not in self.sources:
                raise InvalidCatalogue(f"price {price.key} names an unknown source {price.source!r}")
            if price.key in self._index:
                raise InvalidCatalogue(f"two prices for {' / '.join(filter(None, price.key))}")
            self._index[price.key] = price

    @cached_property
    def version(self) -> str:
        """A digest of the prices alone: equal prices give equal versions, whatever their order or date."""
        canonical = json.dumps(
            sorted((price.to_json() for price in self.prices), key=lambda p: json.dumps(p, sort_keys=True)),
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def find(
        self,
        family: Family,
        region: str,
        device: str | None = None,
        *,
        instance_type: str | None = None,
        operation: str | None = None,
    ) -> Price | None:
        return self._index.get(price_key(family, region, device, instance_type, operation))

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"formatVersion": FORMAT_VERSION, "takenAt": self.taken_at, "currency": CURRENCY}
        if self.publication_date:
            document["publicationDate"] = self.publication_date
        if self.note:
            document["note"] = self.note
        document["sources"] = {name: source.to_json() for name, source in sorted(self.sources.items())}
        document["prices"] = [price.to_json() for price in sorted(self.prices, key=_display_order)]
        return document

    @classmethod
    def from_document(cls, document: Any) -> PriceCatalogue:
        if not isinstance(document, dict):
            raise InvalidCatalogue("a catalogue is a JSON object")
        unknown = set(document) - _CATALOGUE_FIELDS
        if unknown:
            raise InvalidCatalogue(f"unknown catalogue fields: {', '.join(sorted(unknown))}")
        version = document.get("formatVersion")
        if type(version) is not int or version != FORMAT_VERSION:  # strict: JSON true is not 1
            raise InvalidCatalogue(f"formatVersion must be {FORMAT_VERSION}, not {document.get('formatVersion')!r}")
        if document.get("currency") != CURRENCY:
            raise InvalidCatalogue(f"prices are in {CURRENCY}, not {document.get('currency')!r}")
        taken_at = document.get("takenAt")
        if not isinstance(taken_at, str):
            raise InvalidCatalogue("takenAt is missing")
        sources, prices = document.get("sources"), document.get("prices")
        if not isinstance(sources, dict) or not sources or not isinstance(prices, list) or not prices:
            raise InvalidCatalogue("a catalogue has sources (an object) and prices (a list), neither empty")
        return cls(
            taken_at=taken_at,
            prices=tuple(Price.from_json(price) for price in prices),
            sources={_source_name(name): _source(value) for name, value in sources.items()},
            publication_date=_optional(document, "publicationDate", TIMESTAMP),
            note=_optional_text(document, "note"),
        )


_CATALOGUE_FIELDS = frozenset({"formatVersion", "takenAt", "currency", "publicationDate", "note", "sources", "prices"})


def catalogue_from_json(text: str | bytes) -> PriceCatalogue:
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCatalogue(f"not JSON: {exc}") from exc
    return PriceCatalogue.from_document(document)


def catalogue_to_json(catalogue: PriceCatalogue) -> str:
    """The document as people review it in a diff: one price per line, in a stable order."""
    document = catalogue.to_document()
    prices = document.pop("prices")
    head = json.dumps(document, indent=2, ensure_ascii=False)
    lines = ",\n".join("    " + json.dumps(price, ensure_ascii=False) for price in prices)
    return head[: head.rfind("}")].rstrip() + ',\n  "prices": [\n' + lines + "\n  ]\n}\n"


def _display_order(price: Price) -> tuple[str, ...]:
    return (price.family.value, price.region, (price.device or "").casefold(), *price.key[3:])


def _enum(kind: type[Family] | type[Unit], value: Any, name: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InvalidCatalogue(f"{name} must be one of {choices}, not {value!r}") from None


def _text(document: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidCatalogue(f"{name} {value!r} does not match {pattern.pattern}")
    return value


def _optional(document: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str | None:
    return None if document.get(name) is None else _text(document, name, pattern)


def _optional_text(document: dict[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
        raise InvalidCatalogue(f"{name} is text of at most {MAX_TEXT} characters")
    return value


def _source_name(name: str) -> str:
    if not SOURCE_NAME.fullmatch(name):
        raise InvalidCatalogue(f"source name {name!r} does not match {SOURCE_NAME.pattern}")
    return name


def _source(value: Any) -> Source:
    if not isinstance(value, dict) or set(value) != {"url", "note", "official"}:
        raise InvalidCatalogue("a source is {url, note, official}")
    url, note, official = value["url"], value["note"], value["official"]
    if not isinstance(url, str) or not url.startswith("https://") or len(url) > MAX_TEXT:
        raise InvalidCatalogue(f"a source's url is an https URL, not {url!r}")
    if not isinstance(note, str) or len(note) > MAX_TEXT or not isinstance(official, bool):
        raise InvalidCatalogue("a source's note is text and official is true or false")
    return Source(url, note, official)
