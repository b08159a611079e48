"""End-to-end tests: local mode started from the synthesized template, driven through public
interfaces only (boto3 against the local Braket service and moto's endpoints)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from local.faults import FaultPlan
from local.tracker import LocalTracker, synthesize

BELL_PAIR = "OPENQASM 3.0; bit[2] b; qubit[2] q; h q[0]; cnot q[0], q[1]; b = measure q;"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1 = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"
REGION = "us-east-1"
RESULTS_BUCKET = "amazon-braket-us-east-1-123456789012"
FINISHED = {"COMPLETED", "FAILED", "CANCELLED"}
RANK = {"CREATED": 0, "QUEUED": 1, "RUNNING": 2, "CANCELLING": 3, "COMPLETED": 4, "FAILED": 4, "CANCELLED": 4}
_deserialize = TypeDeserializer().deserialize


BUDGET_PROJECT = "budget-e2e"
BUDGET = {"scope": f"tag:project={BUDGET_PROJECT}", "monthlyUsd": 0.01, "alertAt": [50, 100]}
"""A budget only tests/e2e/test_costs.py uses (its tag): $0.01 a month, under three SV1 minimums."""


@pytest.fixture(scope="session")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize(tmp_path_factory.mktemp("local-cdk.out"), REGION, {"budgets": [BUDGET]})


def start(cdk_out: Path, faults: FaultPlan) -> LocalTracker:
    tracker = LocalTracker(cdk_out=cdk_out, region=REGION, faults=faults, queue_delay=0.3, synth=False).start()
    tracker.client("s3").create_bucket(Bucket=RESULTS_BUCKET)
    return tracker


@pytest.fixture(scope="module")
def tracker(cdk_out: Path) -> Iterator[LocalTracker]:
    local = start(cdk_out, FaultPlan())
    yield local
    local.stop()


def submit(tracker: LocalTracker, source: str = BELL_PAIR, device: str = SV1, shots: int = 1000) -> str:
    action = {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, "source": source}
    response = tracker.client("braket").create_quantum_task(
        action=json.dumps(action),
        deviceArn=device,
        shots=shots,
        outputS3Bucket=RESULTS_BUCKET,
        outputS3KeyPrefix="tasks",
    )
    return response["quantumTaskArn"]  # type: ignore[no-any-return]


def read_item(tracker: LocalTracker, arn: str) -> dict[str, Any] | None:
    raw = (
        tracker.client("dynamodb")
        .get_item(TableName=tracker.output("TaskTableName"), Key={"taskArn": {"S": arn}}, ConsistentRead=True)
        .get("Item")
    )
    return None if raw is None else {name: _deserialize(value) for name, value in raw.items()}


def wait_for(condition: Any, timeout: float = 60, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not reached within {timeout} s")


class Inbox:
    """A local SQS queue subscribed to the notification topic, as a program would subscribe."""

    def __init__(self, tracker: LocalTracker) -> None:
        self.sqs, sns = tracker.client("sqs"), tracker.client("sns")
        self.url = self.sqs.create_queue(QueueName=f"inbox-{time.monotonic_ns()}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=tracker.output("NotificationTopicArn"), Protocol="sqs", Endpoint=arn)
        self.documents: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        """Every notification delivered so far. SNS delivers to the queue as the notifier publishes, and
        the notifier publishes before it marks the item announced: once a test has seen the mark (a
        condition on the table), the message is here."""
        while messages := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        ):
            for message in messages:
                self.documents.append(json.loads(json.loads(message["Body"])["Message"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return self.documents


def announced(tracker: LocalTracker, arns: Iterable[str], timeout: float = 120) -> None:
    """Until every one of these tasks is marked announced on the topic (its `notifiedAt`)."""
    pending = set(arns)
    wait_for(lambda: not {arn for arn in pending if not (read_item(tracker, arn) or {}).get("notifiedAt")}, timeout)


def captured(tracker: LocalTracker) -> int:
    """Events in the capture queue, waiting or being processed."""
    attributes = tracker.client("sqs").get_queue_attributes(
        QueueUrl=tracker.output("EventQueueUrl"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def wait_until_recorded(tracker: LocalTracker, timeout: float = 120) -> None:
    """Until every event the local Braket service published (held-back ones in fault mode too) is on
    the bus, and the recorder has drained the capture queue (a message leaves it once recorded)."""
    assert tracker.braket is not None
    braket = tracker.braket
    wait_for(lambda: braket.events_in_flight() == 0 and captured(tracker) == 0, timeout, interval=0.05)
