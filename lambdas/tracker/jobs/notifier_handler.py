"""Job notifier: the jobs table's stream (filtered to jobs reaching their end, or changing a final
status that was announced) -> one SNS message each, on the task notifications' topic (`kind: job`).

Error mapping: a failed read, publish or mark raises, so the record is a batch item failure; the mapping
retries it (bisecting the batch), then sends it to its on-failure queue; the reconciler's unnotified
pass sends what is left.
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
from tracker.data.job_table import JobTable
from tracker.data.topic import NotificationTopic
from tracker.jobs.config import JobsConfig
from tracker.jobs.notifier import JobNotifier

config = JobsConfig.from_env(constants.RECONCILER_GET_JOB_RATE, topic=True)
logger = Logger(service=constants.JOB_NOTIFIER_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.JOB_NOTIFIER_SERVICE)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
notifier = JobNotifier(JobTable(config.job_table, boto3.client("dynamodb")), NotificationTopic(str(config.topic_arn)))


def notify_record(record: DynamoDBRecord) -> None:
    keys = record.dynamodb.keys if record.dynamodb else None
    job_arn = keys.get(constants.JOB_KEY) if keys else None
    if not job_arn:
        raise ValueError(f"stream record {record.event_id} has no {constants.JOB_KEY} key")
    logger.set_correlation_id(job_arn)
    result = notifier.notify(job_arn)
    if result.mark_error:
        logger.warning("Notified, but could not mark the job's item", error=result.mark_error)
    if result.sent:
        name = constants.METRIC_CORRECTIONS_SENT if result.corrects else constants.METRIC_NOTIFICATIONS_SENT
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        logger.info(
            "Notified a job's end",
            notification_id=result.notification_id,
            message_id=result.message_id,
            corrects=result.corrects and result.corrects.value,
        )
    else:
        metrics.add_metric(name=constants.METRIC_NOTIFICATIONS_ALREADY_SENT, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=notify_record, processor=processor, context=context)
