"""Cost keeper: the cost queue (the tasks whose cost may have changed, as the notifier reads them off the
task table's stream) -> each ended task's cost on its item, the monthly totals, and budget alerts on
the notification topic.

Error mapping: a failed read or write (DynamoDB, S3, SNS) raises, so the message is reported as a
batch item failure; SQS delivers it again and, after 5 receives, parks it in the dead-letter queue
(which has an alarm). A message that names no task is logged and dropped. Nothing is counted twice
by a redelivery: the keeper does each step once (see tracker.costs.service).
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracker import constants
from tracker.config import CostsConfig
from tracker.costs.alerts import BudgetAlerts
from tracker.costs.pricer import TaskPricer
from tracker.costs.service import CostKeeper, Outcome
from tracker.data.cost_queue import task_of
from tracker.data.cost_totals import CostTotals
from tracker.data.execution_times import ExecutionTimes
from tracker.data.price_catalogue import CatalogueSource, CatalogueStore
from tracker.data.task_costs import TaskCosts
from tracker.data.task_table import TaskTable
from tracker.data.topic import NotificationTopic
from tracker.logic.budgets import parse_budgets

config = CostsConfig.from_env()
logger = Logger(service=constants.COSTS_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.COSTS_SERVICE)
processor = BatchProcessor(event_type=EventType.SQS)
dynamodb = boto3.client("dynamodb")
totals = CostTotals(config.totals_table, config.ledger_table, dynamodb)
budgets = parse_budgets(config.budgets_json)
keeper = CostKeeper(
    TaskTable(config.task_table, dynamodb),
    TaskCosts(config.task_table, dynamodb),
    totals,
    TaskPricer(CatalogueSource(CatalogueStore(config.prices_table, dynamodb)), ExecutionTimes()),
    alerts=BudgetAlerts(budgets, totals, NotificationTopic(config.topic_arn)) if budgets else None,
    promoted_tag_keys=config.promoted_tag_keys,
)


def keep_record(record: SQSRecord) -> None:
    try:
        task_arn = task_of(record.body)
    except ValueError as exc:
        logger.warning("A cost queue message names no task", reason=str(exc), message_id=record.message_id)
        return
    logger.set_correlation_id(task_arn)
    result = keeper.keep(task_arn)
    if result.outcome in (Outcome.COUNTED, Outcome.MOVED):
        name = constants.METRIC_TASKS_COSTED if result.outcome is Outcome.COUNTED else constants.METRIC_COSTS_MOVED
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        if result.cost_usd is None:
            metrics.add_metric(name=constants.METRIC_UNPRICED_TASKS, unit=MetricUnit.Count, value=1)
        if result.spent_usd:
            metrics.add_metric(name=constants.METRIC_SPEND, unit=MetricUnit.NoUnit, value=float(result.spent_usd))
        logger.info(
            "Counted a task's cost",
            outcome=result.outcome.value,
            cost_usd=None if result.cost_usd is None else str(result.cost_usd),
            rule=result.basis.get("rule"),
            reason=result.basis.get("reason"),
        )
    for sent in result.alerts:
        metrics.add_metric(name=constants.METRIC_BUDGET_ALERTS_SENT, unit=MetricUnit.Count, value=1)
        logger.info("Sent a budget alert", notification_id=sent.notification_id, message_id=sent.message_id)
    if catalogue_error := keeper.pricer.catalogue.last_error:
        logger.warning("Priced with the last good catalogue", error=catalogue_error)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=keep_record, processor=processor, context=context)
