"""Prices function: reads every AmazonBraket product from the AWS Price List and stores the
catalogue in the prices table, where the functions that price tasks read it (see service.py).

Its input is EventBridge's "Scheduled Event"; an operator may invoke it by hand with `{}`. A Price
List answer that lacks the prices the tracker needs fails the invocation and keeps the catalogue in
use; products it cannot read are refused one by one, counted and logged with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracker import constants
from tracker.data.price_catalogue import CatalogueStore
from tracker.data.price_list_api import PriceListApi
from tracker.prices.config import PricesConfig
from tracker.prices.service import read_catalogue

config = PricesConfig.from_env()
logger = Logger(service=constants.PRICES_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.PRICES_SERVICE)
store = CatalogueStore(config.prices_table, boto3.client("dynamodb"))
price_list = PriceListApi(config.price_list_region)
MAX_LOGGED_REFUSALS = 50


class InvalidInput(ValueError):
    """A hand-made invocation is not `{}`."""


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    if not isinstance(event, dict) or (event and event.get("source") != "aws.events"):
        raise InvalidInput("the input is a scheduled event, or {} to refresh the prices now")
    refresh = read_catalogue(price_list, datetime.now(UTC))
    catalogue = refresh.catalogue
    saved = store.save(catalogue)
    metrics.add_metric(name=constants.METRIC_PRICES_READ, unit=MetricUnit.Count, value=len(catalogue.prices))
    metrics.add_metric(name=constants.METRIC_PRICE_PRODUCTS_REFUSED, unit=MetricUnit.Count, value=len(refresh.refused))
    for refusal in refresh.refused[:MAX_LOGGED_REFUSALS]:
        logger.warning("Refused a Price List product", sku=refusal.sku, reason=refusal.reason)
    summary = {
        "products": refresh.products,
        "prices": len(catalogue.prices),
        "refused": len(refresh.refused),
        "version": catalogue.version,
        "takenAt": catalogue.taken_at,
        "stored": saved.stored,
        "previousVersion": saved.previous_version,
        "changed": saved.stored and saved.previous_version != catalogue.version,
    }
    logger.info("Prices read", extra=summary)
    return summary
