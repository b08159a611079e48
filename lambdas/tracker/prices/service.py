"""Reading the AWS Price List into a catalogue: for the prices function (into the prices table) and
for `python -m ops prices` (into the catalogue shipped with the functions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tracker.data.price_list_api import PriceListApi
from tracker.logic.catalogue import PriceCatalogue
from tracker.logic.price_list import Refusal, missing_prices, read_products


class UnusableCatalogue(RuntimeError):
    """The Price List's answer lacks prices the tracker needs: the catalogue in use is kept."""


@dataclass(frozen=True)
class Refresh:
    catalogue: PriceCatalogue
    products: int
    refused: tuple[Refusal, ...]


def read_catalogue(api: PriceListApi, now: datetime) -> Refresh:
    products = list(api.products())
    read = read_products(products)
    taken_at = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    problems = missing_prices(read.prices)
    if problems:
        refusals = "; ".join(str(refusal) for refusal in read.refused[:5])
        raise UnusableCatalogue(
            f"the Price List answered {len(products)} products ({len(read.refused)} refused{': ' if refusals else ''}"
            f"{refusals}), and {' and '.join(problems)}"
        )
    return Refresh(read.catalogue(taken_at, api.region), len(products), read.refused)
