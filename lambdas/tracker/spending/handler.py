"""Spending limits: Braket's "Braket Spending Limit Spend Change" events (an EventBridge rule, through a
queue) -> each limit's latest report, kept beside the tracker's figures on its device's total.

Error mapping: an event that cannot be read is logged and counted, never retried (it never will
be readable); a failed write raises, so the message is retried and, after 5 receives, parked in
the queue's dead-letter queue.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracker import constants
from tracker.config import SpendingLimitsConfig
from tracker.data.spending_limits import SpendingLimitReports
from tracker.logic.spending_limits import InvalidSpendingLimit, from_event

logger = Logger(service=constants.SPENDING_LIMITS_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.SPENDING_LIMITS_SERVICE)
processor = BatchProcessor(event_type=EventType.SQS)

config = SpendingLimitsConfig.from_env()
reports = SpendingLimitReports(config.totals_table)


def record_message(record: SQSRecord) -> None:
    try:
        limit = from_event(json.loads(record.body))
    except (ValueError, InvalidSpendingLimit) as exc:
        metrics.add_metric(name=constants.METRIC_REJECTED_EVENTS, unit=MetricUnit.Count, value=1)
        logger.warning("A spending limit event could not be read", reason=str(exc), message_id=record.message_id)
        return
    written = reports.record(limit)
    if written:
        metrics.add_metric(name=constants.METRIC_SPENDING_LIMITS_RECORDED, unit=MetricUnit.Count, value=1)
    logger.info(
        "A spending limit's spend changed",
        spending_limit=limit.spending_limit_arn,
        device=limit.device_arn,
        total_spend_usd=str(limit.total_spend_usd),
        queued_spend_usd=str(limit.queued_spend_usd),
        kept=written,
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_message, processor=processor, context=context)
