"""The recorder's path for "Braket Job State Change" events (the capture queue carries both kinds).

The recorder's handler hands each message that `is_job_event` to `record_job_message`, with its own
`reject` (the rejected-events table) and metrics. Error mapping, as for tasks: an event that can never
be recorded is rejected with its reason; a failure of DynamoDB raises, so SQS redelivers the message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tracker import constants
from tracker.data.braket_jobs import BraketJobs
from tracker.data.job_table import JobTable
from tracker.domain import EventRefused
from tracker.jobs.config import JobsConfig
from tracker.jobs.recorder import JobRecorder
from tracker.models.event import InvalidEvent

_recorders: list[JobRecorder] = []


class QueuedMessage(Protocol):
    """What the job path reads of a queue message (the recorder's QueueMessage, or Powertools' SQSRecord)."""

    @property
    def message_id(self) -> str: ...

    @property
    def body(self) -> str: ...


def job_recorder(client: Any = None) -> JobRecorder:
    """The recorder's JobRecorder, made once per cold start from the environment."""
    if not _recorders:
        config = JobsConfig.from_env(constants.RECORDER_GET_JOB_RATE)
        _recorders.append(JobRecorder(JobTable(config.job_table, client), BraketJobs(config.get_job_rate)))
    return _recorders[0]


def record_job_message(
    message: QueuedMessage,
    seconds_left: float | None,
    reject: Callable[[Any, str], None],
    *,
    logger: Logger,
    metrics: Metrics,
    client: Any = None,
) -> None:
    from tracker.models.job_event import parse_job_event  # noqa: PLC0415 (pydantic: off the recorder's cold start)

    try:
        event = parse_job_event(message.body)
    except InvalidEvent as exc:
        reject(message, str(exc))
        return
    logger.set_correlation_id(event.job.arn)
    try:
        result = job_recorder(client).record(event, seconds_left)
    except EventRefused as exc:
        reject(message, str(exc))
        return
    if result.details_error:
        logger.warning("Recorded a job event without GetJob's details", error=result.details_error)
        metrics.add_metric(name=constants.METRIC_ENRICHMENT_FAILURES, unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=constants.METRIC_JOB_EVENTS_RECORDED, unit=MetricUnit.Count, value=1)
    logger.info(
        "Recorded a job event",
        event_id=event.event_id,
        event_status=event.status.value,
        job_status=result.record.status.value,
        outcome=result.outcome.value,
    )
