"""`python -m ops prices`: read every AmazonBraket product from the AWS Price List (needs credentials
and network) and rewrite the price catalogue shipped with the functions, showing what changed.
`python -m ops prices --offer-file PATH`: write a catalogue as the bulk CSV that the SDK's Tracker
reads (offline), so that `BRAKET_PRICE_OFFERS_URL` can price with the tracker's figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ops.offer_file import offer_file
from tracker.data.price_catalogue import shipped_catalogue
from tracker.data.price_list_api import PriceListApi
from tracker.logic.catalogue import InvalidCatalogue, PriceCatalogue, catalogue_to_json
from tracker.prices.service import UnusableCatalogue, read_catalogue

MAX_LISTED = 30


def refresh(path: Path, api: PriceListApi, report: Callable[[str], None], now: datetime | None = None) -> int:
    try:
        previous = shipped_catalogue(path) if path.exists() else None
    except InvalidCatalogue as exc:
        report(f"warning: the catalogue at {path} is not valid ({exc}): it is replaced whole")
        previous = None
    try:
        fresh = read_catalogue(api, now or datetime.now(UTC))
    except UnusableCatalogue as exc:
        report(f"error: {exc}; {path} is unchanged")
        return 1
    catalogue = fresh.catalogue
    report(
        f"Read {fresh.products} products from the AWS Price List ({api.region}): "
        f"{len(catalogue.prices)} prices, {len(fresh.refused)} refused"
    )
    for reason, count in Counter(refusal.reason for refusal in fresh.refused).most_common(MAX_LISTED):
        report(f"  refused {count}: {reason}")
    changes = differences(previous, catalogue) if previous else []
    for line in changes[:MAX_LISTED]:
        report(f"  {line}")
    if len(changes) > MAX_LISTED:
        report(f"  ... and {len(changes) - MAX_LISTED} more changes")
    path.write_text(catalogue_to_json(catalogue), encoding="utf-8")
    report(f"Wrote {path}: version {catalogue.version}, taken {catalogue.taken_at}")
    return 0


def write_offer_file(catalogue_path: Path, target: Path, report: Callable[[str], None]) -> int:
    catalogue = shipped_catalogue(catalogue_path)
    target.write_text(offer_file(catalogue), encoding="utf-8")
    report(f"Wrote {target}: {len(catalogue.prices)} prices of catalogue {catalogue.version} as the bulk CSV")
    return 0


def differences(old: PriceCatalogue, new: PriceCatalogue) -> list[str]:
    """Prices added, removed or changed, one line each, in a stable order."""
    before = {price.key: price for price in old.prices}
    after = {price.key: price for price in new.prices}
    lines = []
    for key in sorted(before.keys() | after.keys()):
        label = " / ".join(part for part in key if part)
        if key not in after:
            lines.append(f"- {label}: {before[key].usd:f} per {before[key].unit.value} (gone)")
        elif key not in before:
            lines.append(f"+ {label}: {after[key].usd:f} per {after[key].unit.value}")
        elif (before[key].usd, before[key].unit) != (after[key].usd, after[key].unit):
            lines.append(f"~ {label}: {before[key].usd:f} -> {after[key].usd:f} per {after[key].unit.value}")
    return lines
