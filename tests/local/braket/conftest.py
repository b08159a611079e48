"""The local Braket service against moto server: S3 buckets, a capture rule per Region into SQS, clients."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from local.braket import LocalBraket
from tests.support.moto_server import start_moto_server

ACCOUNT = "123456789012"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1 = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"
TN1 = "arn:aws:braket:::device/quantum-simulator/amazon/tn1"
BELL = "OPENQASM 3.0; bit[2] b; qubit[2] q; h q[0]; cnot q[0], q[1]; b = measure q;"
REGIONS = ("us-east-1", "eu-north-1", "us-west-2")
FINISHED = {"COMPLETED", "FAILED", "CANCELLED"}


def bucket_for(region: str) -> str:
    return f"amazon-braket-{region}-{ACCOUNT}"


def openqasm(source: str, inputs: dict[str, float] | None = None) -> str:
    program: dict[str, Any] = {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}}
    program["source"] = source
    if inputs is not None:
        program["inputs"] = inputs
    return json.dumps(program)


def create_task(client: Any, source: str = BELL, *, shots: int = 100, device: str = SV1, **extra: Any) -> str:
    """CreateQuantumTask as the SDK calls it, into the Region's default Braket bucket."""
    params: dict[str, Any] = {
        "action": openqasm(source),
        "deviceArn": device,
        "shots": shots,
        "outputS3Bucket": bucket_for(client.meta.region_name),
        "outputS3KeyPrefix": "tasks",
    }
    params.update(extra)
    return str(client.create_quantum_task(**params)["quantumTaskArn"])


def wait_for(client: Any, arn: str, statuses: set[str] | None = None, timeout: float = 15) -> dict[str, Any]:
    """Poll GetQuantumTask (as the SDK does) until the task reaches one of the statuses."""
    wanted = statuses or FINISHED
    deadline = time.monotonic() + timeout
    while True:
        task: dict[str, Any] = client.get_quantum_task(quantumTaskArn=arn)
        if task["status"] in wanted or time.monotonic() > deadline:
            return task
        time.sleep(0.05)


class EventSink:
    """Every event the capture rule delivered into one SQS queue, by task ARN, in arrival order."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._events: dict[str, list[tuple[int, int, dict[str, Any]]]] = defaultdict(list)
        self._received = 0

    def _poll(self) -> None:
        while True:
            messages = self._sqs.receive_message(
                QueueUrl=self._queue_url, MaxNumberOfMessages=10, AttributeNames=["SentTimestamp"]
            ).get("Messages", [])
            if not messages:
                return
            for message in messages:
                event = json.loads(message["Body"])
                self._received += 1
                sent = int(message["Attributes"]["SentTimestamp"])
                self._events[event["resources"][0]].append((sent, self._received, event))
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def events(self, arn: str) -> list[dict[str, Any]]:
        """The task's events so far, in the order EventBridge delivered them."""
        self._poll()
        return [event for _, _, event in sorted(self._events[arn], key=lambda item: item[:2])]

    def wait(
        self, arn: str, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 10
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while not until(events := self.events(arn)) and time.monotonic() < deadline:
            time.sleep(0.05)
        return events

    def wait_for_status(self, arn: str, status: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        return self.wait(arn, lambda events: statuses(events).count(status) >= count, timeout)


def statuses(events: list[dict[str, Any]]) -> list[str]:
    return [event["detail"]["status"] for event in events]


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server, url = start_moto_server()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def aws(moto_url: str) -> Callable[[str, str], Any]:
    """A client of moto for a service in a Region."""
    return lambda service, region: boto3.client(service, region_name=region, endpoint_url=moto_url)


@pytest.fixture(scope="session")
def sinks(aws: Callable[[str, str], Any]) -> dict[str, EventSink]:
    """Per Region: the Braket result bucket, and a rule (source aws.braket) on the default bus into a queue."""
    result: dict[str, EventSink] = {}
    for region in REGIONS:
        s3 = aws("s3", region)
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket_for(region))
        else:
            s3.create_bucket(Bucket=bucket_for(region), CreateBucketConfiguration={"LocationConstraint": region})
        sqs, events = aws("sqs", region), aws("events", region)
        queue_url = sqs.create_queue(QueueName=f"braket-events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="braket-task-state", EventPattern=json.dumps({"source": ["aws.braket"]}))
        events.put_targets(Rule="braket-task-state", Targets=[{"Id": "capture", "Arn": queue_arn}])
        result[region] = EventSink(sqs, queue_url)
    return result


@pytest.fixture(scope="session")
def local_braket(moto_url: str, sinks: dict[str, EventSink]) -> Iterator[LocalBraket]:
    """The service as local mode runs it, with a short queue so the suite stays fast."""
    service = LocalBraket(moto_url, queue_delay=0.2)
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def braket_url(local_braket: LocalBraket) -> str:
    return local_braket.url


@pytest.fixture(scope="session")
def braket(braket_url: str) -> Callable[..., Any]:
    """An unmodified boto3 braket client of the service, signing for a Region."""

    def client(region: str = "us-east-1", validate: bool = True) -> Any:
        config = Config(parameter_validation=validate, retries={"mode": "standard", "total_max_attempts": 1})
        return boto3.client("braket", region_name=region, endpoint_url=braket_url, config=config)

    return client
