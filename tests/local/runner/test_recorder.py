"""The real recorder, from the real synthesized template, fed by its real SQS event source mapping."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from local.runner import LocalRunner
from stacks.recorder import TIMEOUT
from tests.local.runner.moto_stack import Aws, Deployed, deploy_synthesized, eventually
from tests.support.app import SynthesizedApp
from tests.support.events import state_change, task_arn

_deserialize = TypeDeserializer().deserialize


@pytest.fixture(scope="module")
def tracker(aws: Aws, synthesized: SynthesizedApp) -> Deployed:
    template = json.loads(synthesized.template_path.read_text())
    return deploy_synthesized(aws, template, synthesized.outdir, f"BraketTaskTracker-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def runner(tracker: Deployed) -> Iterator[LocalRunner]:
    with tracker.running(braket_endpoint="http://127.0.0.1:9") as running:
        yield running


def item(tracker: Deployed, table: str, key: dict[str, str]) -> dict[str, Any] | None:
    answer = tracker.aws.client("dynamodb").get_item(
        TableName=tracker.physical[table], Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True
    )
    found = answer.get("Item")
    return None if found is None else {name: _deserialize(value) for name, value in found.items()}


def logical_id(tracker: Deployed, resource_type: str, prefix: str) -> str:
    [found] = [
        k for k, v in tracker.template["Resources"].items() if v["Type"] == resource_type and k.startswith(prefix)
    ]
    return found


def test_the_runner_reads_the_real_template(runner: LocalRunner, tracker: Deployed) -> None:
    recorder = runner.functions[logical_id(tracker, "AWS::Lambda::Function", "RecordingRecorderFunction")]
    assert recorder.config.handler == "tracker.recorder.handler.lambda_handler"
    assert (recorder.config.code / "tracker" / "recorder" / "handler.py").is_file()  # found via *.assets.json
    assert (recorder.config.timeout, recorder.config.memory_size) == (TIMEOUT.to_seconds(), 1024)
    env = recorder.config.environment
    assert env["TASK_TABLE_NAME"] == tracker.physical[logical_id(tracker, "AWS::DynamoDB::Table", "TablesTasks")]
    assert env["POWERTOOLS_SERVICE_NAME"] == "task-recorder"
    assert env["AWS_ENDPOINT_URL_BRAKET"] == "http://127.0.0.1:9"
    log_group = tracker.physical[logical_id(tracker, "AWS::Logs::LogGroup", "RecordingRecorderLogs")]
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == log_group  # the function's LoggingConfig.LogGroup


def test_a_braket_event_on_the_capture_queue_becomes_a_task_item(runner: LocalRunner, tracker: Deployed) -> None:
    arn = task_arn()
    event = state_change(arn, "CREATED", "2026-11-20T08:00:01Z")
    queue = tracker.physical[logical_id(tracker, "AWS::SQS::Queue", "CaptureQueue")]
    tracker.aws.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(event))

    table = logical_id(tracker, "AWS::DynamoDB::Table", "TablesTasks")
    stored = eventually(lambda: item(tracker, table, {"taskArn": arn}), timeout=20)
    assert stored["status"] == "CREATED"
    assert stored["taskId"] == arn.rsplit("/", 1)[-1]
    assert stored["eventIds"] == {event["id"]}
    assert stored["eventCount"] == 1
    attributes = eventually(lambda: _drained(tracker, queue))
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_an_event_through_eventbridge_and_a_malformed_one(runner: LocalRunner, tracker: Deployed) -> None:
    """The real rule delivers to the capture queue (moto); a malformed message is rejected, not retried."""
    arn = task_arn()
    detail = state_change(arn, "QUEUED", "2026-11-20T08:00:02Z")["detail"]
    tracker.aws.client("events").put_events(
        Entries=[{"Source": "aws.braket", "DetailType": "Braket Task State Change", "Detail": json.dumps(detail)}]
    )
    queue = tracker.physical[logical_id(tracker, "AWS::SQS::Queue", "CaptureQueue")]
    message_id = tracker.aws.client("sqs").send_message(QueueUrl=queue, MessageBody="{not json")["MessageId"]

    tasks = logical_id(tracker, "AWS::DynamoDB::Table", "TablesTasks")
    rejected = logical_id(tracker, "AWS::DynamoDB::Table", "TablesRejectedEvents")
    assert eventually(lambda: item(tracker, tasks, {"taskArn": arn}), timeout=20)["status"] == "QUEUED"
    assert eventually(lambda: item(tracker, rejected, {"messageId": message_id}), timeout=20)["body"] == "{not json"
    eventually(lambda: _drained(tracker, queue))


def _drained(tracker: Deployed, queue: str) -> dict[str, str] | None:
    attributes: dict[str, str] = tracker.aws.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])[
        "Attributes"
    ]
    empty = attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    return attributes if empty else None
