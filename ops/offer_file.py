"""A price catalogue written as the AWS Price List's bulk CSV (`.../AmazonBraket/current/index.csv`),
the file that the Braket SDK's cost Tracker reads from `BRAKET_PRICE_OFFERS_URL`.

The layout is the Price List's: five metadata rows, then the header, then one row per price, every
field quoted ("Reading the service price list file", AWS Billing User Guide). The SDK reads it with
`csv.DictReader` after skipping the metadata and searches it by exact column values
(braket/tracking/pricing.py and tracker.py):
- QPU tasks: `Region Code`, `Product Family` and `DeviceName`; tasks inside a hybrid job, `Device Name`
  (the SDK notes that the difference in spelling is intentional);
- simulator tasks: `Region Code`, `Product Family`, `Version` (SV1) and `operation`; it converts the
  price's `Unit` with `timedelta(**{Unit: 1})`, so a per-minute price's unit is written `minutes`.
"""

from __future__ import annotations

import csv
import hashlib
import io

from tracker.logic.catalogue import Family, Price, PriceCatalogue, Unit

OFFER_TERM = "JRTCKXETXF"  # the Price List's code of the on-demand offer term
RATE = "6YS6EN2CT7"
HEADER = (
    "SKU",
    "OfferTermCode",
    "RateCode",
    "TermType",
    "PriceDescription",
    "EffectiveDate",
    "StartingRange",
    "EndingRange",
    "Unit",
    "PricePerUnit",
    "Currency",
    "Product Family",
    "serviceCode",
    "Region Code",
    "DeviceName",
    "Device Name",
    "Version",
    "operation",
    "Instance Type",
)
_UNITS = {Unit.TASK: "Task", Unit.SHOT: "Shot", Unit.MINUTE: "minutes", Unit.HOUR: "hours", Unit.GB_MONTH: "GB-Mo"}
_JOB_DEVICE_FAMILIES = {Family.JOB_TASK, Family.JOB_SHOT}
_SIMULATOR_FAMILIES = {Family.SIMULATOR, Family.JOB_SIMULATOR}


def offer_file(catalogue: PriceCatalogue) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["FormatVersion", "v1.0"])
    writer.writerow(["Disclaimer", f"Written from the Braket Task Tracker's price catalogue {catalogue.version}."])
    writer.writerow(["Publication Date", catalogue.publication_date or catalogue.taken_at])
    writer.writerow(["Version", catalogue.version])
    writer.writerow(["OfferCode", "AmazonBraket"])
    writer.writerow(HEADER)
    for price in catalogue.prices:
        writer.writerow(_row(price, catalogue))
    return out.getvalue()


def _row(price: Price, catalogue: PriceCatalogue) -> list[str]:
    sku = price.sku or "TT" + hashlib.sha256(repr(price.key).encode()).hexdigest()[:14].upper()
    device = price.device or ""
    simulator = price.family in _SIMULATOR_FAMILIES
    job_device = price.family in _JOB_DEVICE_FAMILIES
    values = {
        "SKU": sku,
        "OfferTermCode": OFFER_TERM,
        "RateCode": f"{sku}.{OFFER_TERM}.{RATE}",
        "TermType": "OnDemand",
        "PriceDescription": f"{price.usd:f} USD per {price.unit.value} ({price.family.value})",
        "EffectiveDate": price.effective_date or catalogue.taken_at[:10],
        "StartingRange": "0",
        "EndingRange": "Inf",
        "Unit": _UNITS[price.unit],
        "PricePerUnit": f"{price.usd:f}",
        "Currency": "USD",
        "Product Family": price.family.value,
        "serviceCode": "AmazonBraket",
        "Region Code": price.region,
        "DeviceName": "" if simulator or job_device else device,
        "Device Name": device if job_device else "",
        "Version": device if simulator else "",
        "operation": price.operation or "",
        "Instance Type": price.instance_type or "",
    }
    return [values[column] for column in HEADER]
