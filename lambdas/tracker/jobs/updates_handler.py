"""Job updates: the jobs table's stream -> each job's status change pushed to the connections following it
(the task table's side is run by the live-updates pusher: tracker/jobs/task_side.py).

Error mapping: a failed read or push raises, so the record is a batch item failure; the mapping retries
it (bisecting the batch), then sends it to its on-failure queue.
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
from tracker.jobs.updates import Fanout, corrects_of
from tracker.logic.job_live import job_status_changed, job_target, push
from tracker.models.job_item import from_item as job_from_item

config = LiveConfig.from_env()
logger = Logger(service=constants.JOB_UPDATES_SERVICE)
metrics = Metrics(namespace=constants.METRICS_NAMESPACE, service=constants.JOB_UPDATES_SERVICE)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
dynamodb = boto3.client("dynamodb")
fanout = Fanout(ConnectionsTable(config.connections_table, dynamodb), ConnectionsApi(config.connections_endpoint))


def update_record(record: DynamoDBRecord) -> None:
    change = record.dynamodb
    if change is None or not job_status_changed(str(record.get("eventName")), change.old_image, change.new_image):
        return
    job = job_from_item(dict(change.new_image))
    logger.set_correlation_id(job.job.arn)
    pushed = fanout.send([job_target(job.job.arn)], push(job, False, corrects_of(change.old_image, change.new_image)))
    metrics.add_metric(name=constants.METRIC_PUSHES_SENT, unit=MetricUnit.Count, value=pushed.sent)
    logger.info("Pushed a job's status", status=job.status.value, sent=pushed.sent, gone=len(pushed.gone))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=update_record, processor=processor, context=context)
