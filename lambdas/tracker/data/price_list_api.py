"""The AWS Price List Query API (the `pricing` client): every AmazonBraket product, page by page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3

from tracker.constants import PRICE_LIST_REGION
from tracker.logic.price_list import SERVICE_CODE

FORMAT_VERSION = "aws_v1"
PAGE_SIZE = 100  # GetProducts' MaxResults: 1 to 100


class PriceListError(RuntimeError):
    """The Price List answered in a form this code does not read: nothing of it is used."""


class PriceListApi:
    def __init__(self, region: str = PRICE_LIST_REGION, client: Any | None = None) -> None:
        self.region = region
        self._client = client or boto3.client("pricing", region_name=region)

    def products(self) -> Iterator[object]:
        """Each product of AmazonBraket, as the JSON string GetProducts returns (read by tracker.logic.price_list)."""
        pages = self._client.get_paginator("get_products").paginate(
            ServiceCode=SERVICE_CODE, FormatVersion=FORMAT_VERSION, PaginationConfig={"PageSize": PAGE_SIZE}
        )
        for page in pages:
            if page.get("FormatVersion") != FORMAT_VERSION:
                raise PriceListError(f"GetProducts answered FormatVersion {page.get('FormatVersion')!r}")
            yield from page.get("PriceList", [])
