"""Recorder: SQS batches of Braket task state changes -> the task table.

Error mapping, in one place:
- an event that can never be recorded (bad JSON, missing or mistyped fields, an unknown status,
  a value out of bounds, a task with too many events) goes to the rejected-events table with its
  reason, and the message is deleted;
- an event id seen before with a different body is recorded (both bodies are merged, so the
  item does not depend on which came first), and the conflict is logged and counted;
- anything else that fails (DynamoDB, the rejected-events table) is reported as a batch item
  failure, so SQS redelivers it and, after maxReceiveCount, parks it in the dead-letter queue.
"Braket Job State Change" events share the queue: they take the job path (tracker.jobs.recording).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracker import constants
from tracker.config import RecorderConfig
from tracker.data.braket_tasks import BraketTasks
from tracker.data.rejected_events import RejectedEvents
from tracker.data.task_table import TaskTable
from tracker.domain import EventRefused
from tracker.jobs.recording import job_recorder, record_job_message
from tracker.logic import task_metrics
from tracker.metrics import publish
from tracker.models.event import InvalidEvent, parse_task_event
from tracker.models.job_event import is_job_event
from tracker.recorder.service import Outcome, Recorder

config = RecorderConfig.from_env()
logger = Logger(service=constants.RECORDER_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.RECORDER_SERVICE)
processor = BatchProcessor(event_type=EventType.SQS)
dynamodb = boto3.client("dynamodb")  # one client for both tables: creating clients dominates cold start
recorder = Recorder(
    TaskTable(config.task_table, dynamodb, config.promoted_tag_keys), BraketTasks(config.enrich_max_attempts)
)
rejected = RejectedEvents(config.rejected_table, constants.REJECTED_RETENTION_DAYS, dynamodb)
job_recorder(dynamodb)  # the job path's configuration, checked at cold start

_OUTCOME_METRIC = {
    Outcome.RECORDED: constants.METRIC_EVENTS_RECORDED,
    Outcome.LATE: constants.METRIC_STALE_EVENTS,
    Outcome.DUPLICATE: constants.METRIC_DUPLICATE_EVENTS,
    Outcome.CONFLICT: constants.METRIC_CONFLICTING_EVENTS,
}


def record_message(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    """Record one queued event; raising makes it a batch item failure (SQS redelivers it)."""
    message = record
    logger.set_correlation_id(None)
    if is_job_event(message.body):
        seconds = lambda_context.get_remaining_time_in_millis() / 1000 if lambda_context else None
        record_job_message(message, seconds, reject, logger=logger, metrics=metrics, client=dynamodb)
        return
    try:
        event = parse_task_event(message.body)
    except InvalidEvent as exc:
        reject(message, str(exc))
        return
    logger.set_correlation_id(event.task.arn)
    seconds_left = lambda_context.get_remaining_time_in_millis() / 1000 if lambda_context else None
    try:
        result = recorder.record(event, seconds_left)
    except EventRefused as exc:
        reject(message, str(exc))
        return
    if result.outcome is Outcome.CONFLICT:
        logger.warning(
            "An event id came again with a different body: both bodies are merged",
            event_id=event.event_id,
            event_status=event.status.value,
            event_time=event.time,
            message_id=message.message_id,
        )
    if result.enrichment_error:
        logger.warning("Recorded the end without Braket's details", error=result.enrichment_error)
        metrics.add_metric(name=constants.METRIC_ENRICHMENT_FAILURES, unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=_OUTCOME_METRIC[result.outcome], unit=MetricUnit.Count, value=1)
    publish(metrics, task_metrics.recorded(result.status, result.previous, result.record, datetime.now(UTC)))
    logger.info(
        "Recorded an event",
        event_id=event.event_id,
        event_status=event.status.value,
        task_status=result.status.value,
        outcome=result.outcome.value,
    )


def reject(message: SQSRecord, reason: str) -> None:
    rejected.put(message.message_id, message.body, reason)
    logger.warning("Rejected an event", reason=reason, message_id=message.message_id)
    metrics.add_metric(name=constants.METRIC_REJECTED_EVENTS, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_message, processor=processor, context=context)
