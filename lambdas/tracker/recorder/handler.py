"""Recorder: SQS batches of Braket task state changes -> the task table.

Error mapping, in one place:
- an event that can never be recorded (bad JSON, missing or mistyped fields, an unknown status,
  a value out of bounds, a task with too many events) goes to the rejected-events table with its
  reason, and the message is deleted;
- an event id seen before with a different body is recorded (both bodies are merged, so the
  item does not depend on which came first), and the conflict is logged and counted;
- anything else that fails (DynamoDB, the rejected-events table) is reported as a batch item
  failure, so SQS redelivers it and, after maxReceiveCount, parks it in the dead-letter queue;
- a task's end is pushed to its live subscribers right after it is written; a push that fails is
  logged and counted, not retried: the end is recorded, and a subscriber's next snapshot carries it
  (the client subscribes again after a quiet spell);
- Braket's details of the batch's ends are written once every event of the batch is recorded and
  every end pushed (no end waits for another's GetQuantumTask); a details write that fails reports
  its message as a batch item failure, and the redelivery writes them (and pushes the end again,
  which clients dedupe);
- "Braket Job State Change" events share the queue: they take the job path (tracker.jobs.recording).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracker import constants
from tracker.config import RecorderConfig
from tracker.data.braket_tasks import BraketTasks
from tracker.data.connections import ConnectionsTable
from tracker.data.connections_api import ConnectionsApi
from tracker.data.rejected_events import RejectedEvents
from tracker.data.task_table import StorageError, TaskTable
from tracker.domain import EventRefused, TaskEvent, parse_time
from tracker.jobs.recording import job_recorder, record_job_message
from tracker.live.fan_out import Pusher
from tracker.logic import task_metrics
from tracker.metrics import publish
from tracker.models.event import InvalidEvent, parse_task_event
from tracker.models.job_kind import is_job_event
from tracker.recorder.service import DetailsDue, Outcome, Recorder, RecordResult

config = RecorderConfig.from_env()
logger = Logger(service=constants.RECORDER_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.RECORDER_SERVICE)
dynamodb = boto3.client("dynamodb")  # one client for every table: creating clients dominates cold start
live = (
    # The @connections client is made on the first post: most ends reach no connection.
    Pusher(ConnectionsTable(config.live.connections_table, dynamodb), ConnectionsApi(config.live.connections_endpoint))
    if config.live is not None
    else None
)
recorder = Recorder(
    TaskTable(config.task_table, dynamodb, config.promoted_tag_keys),
    BraketTasks(config.enrich_max_attempts),  # a Braket client per Region, made on its first end there
    live,
    details_after_end=config.details_after_end,
)
rejected = RejectedEvents(config.rejected_table, constants.REJECTED_RETENTION_DAYS, dynamodb)
details_due: list[tuple[str, DetailsDue]] = []  # this invocation's ends whose details are still to write
job_recorder(dynamodb)  # the job path's configuration, checked at cold start

_OUTCOME_METRIC = {
    Outcome.RECORDED: constants.METRIC_EVENTS_RECORDED,
    Outcome.LATE: constants.METRIC_STALE_EVENTS,
    Outcome.DUPLICATE: constants.METRIC_DUPLICATE_EVENTS,
    Outcome.CONFLICT: constants.METRIC_CONFLICTING_EVENTS,
}


@dataclass(frozen=True)
class QueueMessage:
    """One message of the SQS event that the event source mapping delivers (what the recorder reads of it).

    Read by hand rather than with Powertools' batch utility: importing that utility (asyncio, every
    event data class) was a sixth of the recorder's cold start (bench/results/cold-start.md)."""

    message_id: str
    body: str
    receive_count: int  # ApproximateReceiveCount: more than 1 when SQS delivers the message again
    sent_timestamp: int  # SentTimestamp, epoch ms: when the message was queued

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> QueueMessage:
        attributes = record.get("attributes") or {}
        return cls(
            str(record["messageId"]),
            str(record["body"]),
            int(attributes.get("ApproximateReceiveCount") or 1),
            int(attributes.get("SentTimestamp") or 0),
        )


def record_message(message: QueueMessage, lambda_context: LambdaContext | None = None) -> None:
    """Record one queued event; raising makes it a batch item failure (SQS redelivers it)."""
    started = time.time()
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

    def seconds_left() -> float:
        return lambda_context.get_remaining_time_in_millis() / 1000 if lambda_context else 900.0

    redelivered = message.receive_count > 1
    try:
        result = recorder.record(
            event, seconds_left if lambda_context else None, redelivered=redelivered, defer_details=True
        )
    except EventRefused as exc:
        reject(message, str(exc))
        return
    if result.details_due is not None:
        details_due.append((message.message_id, result.details_due))
    if result.outcome is Outcome.CONFLICT:
        logger.warning(
            "An event id came again with a different body: both bodies are merged",
            event_id=event.event_id,
            event_status=event.status.value,
            event_time=event.time,
            message_id=message.message_id,
        )
    if result.enrichment_error:
        _without_details(result.enrichment_error)
    metrics.add_metric(name=_OUTCOME_METRIC[result.outcome], unit=MetricUnit.Count, value=1)
    publish(metrics, task_metrics.recorded(result.status, result.previous, result.record, datetime.now(UTC)))
    logger.info(
        "Recorded an event",
        event_id=event.event_id,
        event_status=event.status.value,
        task_status=result.status.value,
        outcome=result.outcome.value,
        **_end_timings(message, event, result, started),
    )


def _end_timings(message: QueueMessage, event: TaskEvent, result: RecordResult, started: float) -> dict[str, Any]:
    """For an end: when it was queued, taken, written and pushed (epoch ms), whom it reached, and
    the EndDelay metric (Braket's endedAt to the push). Nothing for other statuses."""
    pushed = result.pushed
    if not event.status.finished or result.written_at is None:
        return {}
    timings: dict[str, Any] = {
        "queued_at": message.sent_timestamp,
        "started_at": round(started * 1000),
        "written_at": round(result.written_at * 1000),
        "details": result.details,
    }
    if pushed is not None:
        timings |= {"pushed_at": round(pushed.at * 1000), "push_sent": pushed.sent, "push_gone": pushed.gone}
        metrics.add_metric(name=constants.METRIC_PUSHES_SENT, unit=MetricUnit.Count, value=pushed.sent)
        if pushed.error:
            timings["push_error"] = pushed.error
            logger.warning("Could not push the end to its subscribers", error=pushed.error)
            metrics.add_metric(name=constants.METRIC_PUSHES_FAILED, unit=MetricUnit.Count, value=1)
        if event.ended_at is not None and result.outcome is not Outcome.DUPLICATE:
            delay = pushed.at - parse_time(event.ended_at).timestamp()
            metrics.add_metric(name=constants.METRIC_END_DELAY, unit=MetricUnit.Milliseconds, value=delay * 1000)
    return timings


def _without_details(error: str) -> None:
    logger.warning("Recorded the end without Braket's details", error=error)
    metrics.add_metric(name=constants.METRIC_ENRICHMENT_FAILURES, unit=MetricUnit.Count, value=1)


def write_details(context: LambdaContext | None) -> list[str]:
    """Write the details of the ends this invocation recorded; the ids of the messages whose details
    could not be written (to be retried)."""
    failed = []
    for message_id, due in details_due:
        logger.set_correlation_id(due.event.task.arn)
        try:
            error = recorder.write_details(
                due, (lambda: context.get_remaining_time_in_millis() / 1000) if context else None
            )
        except StorageError as exc:
            logger.warning("Could not write Braket's details: the message is retried", error=str(exc))
            failed.append(message_id)
            continue
        if error:
            _without_details(error)
    details_due.clear()
    return failed


def reject(message: QueueMessage, reason: str) -> None:
    rejected.put(message.message_id, message.body, reason)
    logger.warning("Rejected an event", reason=reason, message_id=message.message_id)
    metrics.add_metric(name=constants.METRIC_REJECTED_EVENTS, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    """Every message of the batch, then the details of its ends. The answer names the messages SQS
    must deliver again (ReportBatchItemFailures); if that is every message, the invocation fails
    instead, as Powertools' BatchProcessor does, and SQS delivers the whole batch again."""
    details_due.clear()
    messages = [QueueMessage.from_record(record) for record in event.get("Records") or []]
    failed: list[str] = []
    for message in messages:
        try:
            record_message(message, context)
        except Exception:  # any other failure is this message's: SQS delivers it again
            logger.exception("Could not record a message: SQS delivers it again", message_id=message.message_id)
            failed.append(message.message_id)
    failed += [message_id for message_id in write_details(context) if message_id not in failed]
    if messages and len(failed) == len(messages):
        from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError  # noqa: PLC0415 (rare path)

        raise BatchProcessingError(f"All records failed processing. {len(failed)} individual errors logged above.")
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
