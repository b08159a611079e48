"""Pusher: task table stream -> every subscribed WebSocket connection, on each status change. A change
from one final status to another is pushed as a correction naming the status it replaces.

An end that the recorder wrote from a captured event, the recorder has already pushed, right after
its write (`tracker.logic.live.recorder_pushes`): that record is left alone, so nothing is sent twice
and an end does not wait for the stream. This function pushes the statuses before the end, and ends
written otherwise (observed by the reconciler or the backfill).

A record fails (and the stream retries it, bisecting the batch) only when a push could not be sent
for a reason other than a gone connection, or the invocation ran short of time; gone connections
(410) are forgotten. After the retries, the record goes to the on-failure queue.
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
from tracker.config import LiveConfig
from tracker.data.connections import ConnectionsTable
from tracker.data.connections_api import ConnectionsApi
from tracker.domain import Status
from tracker.jobs import task_side
from tracker.live.fan_out import Pusher
from tracker.logic.ends import end_change
from tracker.logic.live import pushed_by_recorder, status_changed
from tracker.models.item import from_item

WORKERS = 16
config = LiveConfig.from_env()
logger = Logger(service=constants.LIVE_PUSHER_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.LIVE_PUSHER_SERVICE)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
pusher = Pusher(
    ConnectionsTable(config.connections_table, boto3.client("dynamodb")),
    ConnectionsApi(config.connections_endpoint, pool_size=WORKERS),
    workers=WORKERS,
)
task_side.check_configuration()  # the job side's, at cold start (its clients are made on its first job's task)


def push_record(record: DynamoDBRecord, lambda_context: LambdaContext) -> None:
    jobs = task_side.handle(record)  # a hybrid job's task: link, count, push to the job's followers (issue 18)
    if jobs:
        logger.info("A job's task", job_side={key: str(value) for key, value in jobs.items()})
    change = record.dynamodb
    if change is None or not status_changed(str(record.get("eventName")), change.old_image, change.new_image):
        metrics.add_metric(name="UnchangedStatuses", unit=MetricUnit.Count, value=1)
        return
    if pushed_by_recorder(change.old_image, change.new_image):
        metrics.add_metric(name="EndsPushedByRecorder", unit=MetricUnit.Count, value=1)
        return
    try:
        task = from_item(dict(change.new_image))
    except (KeyError, TypeError, ValueError) as exc:
        # Not a task item this code can read (a retry cannot change that): say so, and go on.
        logger.error("Unreadable task item: not pushed", keys=change.keys, error=repr(exc))
        metrics.add_metric(name="UnreadableItems", unit=MetricUnit.Count, value=1)
        return
    logger.set_correlation_id(task.task.arn)
    end = end_change(str(record.get("eventName")), change.old_image, change.new_image)
    corrects = Status(end.previous) if end is not None and end.previous is not None else None
    result = pusher.push(task, lambda_context.get_remaining_time_in_millis, corrects=corrects)
    metrics.add_metric(name=constants.METRIC_PUSHES_SENT, unit=MetricUnit.Count, value=result.sent)
    if result.gone:
        metrics.add_metric(name=constants.METRIC_GONE_CONNECTIONS, unit=MetricUnit.Count, value=len(result.gone))
    logger.info(
        "Pushed a status change",
        status=task.status.value,
        corrects=corrects and corrects.value,
        sent=result.sent,
        gone=len(result.gone),
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=push_record, processor=processor, context=context)
