"""Notifier: the task table's stream (every write of a finished item) -> one SNS message per end and per
correction, and the tasks whose cost may have changed -> the cost queue (tracker.costs).

The stream serves two readers per shard without throttling: the live pusher and this function. So it
also hands the cost keeper its work, after the announcement (which never waits for it). Which
records ask for what is pure (logic.stream_records); most writes of a finished item ask for nothing.

Error mapping: a failed read, publish, mark or send raises, so the record is reported as a batch
item failure; the mapping retries it (bisecting the batch), then sends it to its on-failure queue.
A retry announces nothing twice (the item's marks) and a cost message twice is harmless (the
keeper counts each task once).
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracker import constants
from tracker.config import NotifierConfig
from tracker.costs.pricer import TaskPricer
from tracker.data.cost_queue import CostQueue
from tracker.data.execution_times import ExecutionTimes
from tracker.data.price_catalogue import CatalogueSource, CatalogueStore
from tracker.data.task_table import TaskTable
from tracker.data.topic import NotificationTopic
from tracker.logic.stream_records import announces, moves_cost
from tracker.notifier.service import Notifier

config = NotifierConfig.from_env()
logger = Logger(service=constants.NOTIFIER_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.NOTIFIER_SERVICE)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
dynamodb = boto3.client("dynamodb")
pricer = None
if config.prices_table:
    pricer = TaskPricer(CatalogueSource(CatalogueStore(config.prices_table, dynamodb)), ExecutionTimes())
notifier = Notifier(TaskTable(config.task_table, dynamodb), NotificationTopic(config.topic_arn), pricer)
cost_queue = CostQueue(config.cost_queue_url) if config.cost_queue_url else None


def notify_record(record: DynamoDBRecord) -> None:
    """Announce the end of the task this stream record is about, if it asks for it; then hand the
    task to the cost keeper if its cost may have changed."""
    keys = record.dynamodb.keys if record.dynamodb else None
    task_arn = keys.get(constants.TASK_KEY) if keys else None
    if not task_arn:
        raise ValueError(f"stream record {record.event_id} has no {constants.TASK_KEY} key")
    logger.set_correlation_id(task_arn)
    old = record.dynamodb.old_image if record.dynamodb else None
    new = record.dynamodb.new_image if record.dynamodb else None
    event_name = str(record.event_name.name) if record.event_name else ""
    if announces(event_name, old, new, config.notify_imported):
        _announce(task_arn)
    if cost_queue is not None and moves_cost(event_name, old, new):
        cost_queue.send(task_arn)


def _announce(task_arn: str) -> None:
    result = notifier.notify(task_arn)
    if notifier.cost_error:
        logger.warning("Notified without the cost", error=notifier.cost_error)
    if result.mark_error:
        logger.warning("Notified, but could not mark the item", error=result.mark_error)
    if result.sent and result.corrects is not None:
        metrics.add_metric(name=constants.METRIC_CORRECTIONS_SENT, unit=MetricUnit.Count, value=1)
        logger.info(
            "Corrected a task's end",
            notification_id=result.notification_id,
            message_id=result.message_id,
            previous_status=result.corrects.value,
        )
    elif result.sent:
        metrics.add_metric(name=constants.METRIC_NOTIFICATIONS_SENT, unit=MetricUnit.Count, value=1)
        logger.info("Notified a task's end", notification_id=result.notification_id, message_id=result.message_id)
    else:
        metrics.add_metric(name=constants.METRIC_NOTIFICATIONS_ALREADY_SENT, unit=MetricUnit.Count, value=1)
        logger.info("Nothing to notify: already notified, or not finished")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=notify_record, processor=processor, context=context)
