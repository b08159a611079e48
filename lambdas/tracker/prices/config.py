"""The prices function's configuration, read from the environment once at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from tracker.config import ConfigError
from tracker.constants import ENV_PRICE_LIST_REGION, ENV_PRICES_TABLE, PRICE_LIST_REGION

PRICE_LIST_REGIONS = ("us-east-1", "eu-central-1", "ap-south-1")
"""The Regions with a Price List API endpoint (AWS Billing User Guide, "Using the AWS Price List Bulk API")."""


@dataclass(frozen=True)
class PricesConfig:
    prices_table: str
    price_list_region: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PricesConfig:
        if not env.get(ENV_PRICES_TABLE):
            raise ConfigError(f"missing environment variables: {ENV_PRICES_TABLE}")
        region = env.get(ENV_PRICE_LIST_REGION) or PRICE_LIST_REGION
        if region not in PRICE_LIST_REGIONS:
            raise ConfigError(f"{ENV_PRICE_LIST_REGION} must be one of {', '.join(PRICE_LIST_REGIONS)}, not {region!r}")
        return cls(env[ENV_PRICES_TABLE], region)
