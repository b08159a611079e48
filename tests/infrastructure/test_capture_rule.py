"""The capture rule: its pattern, its target, and (in moto) which events it really delivers."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.infrastructure.helpers import LogicalIds, arn_of
from tests.support.events import all_fixture_events, state_change, task_arn
from tracker import constants

pytestmark = pytest.mark.infrastructure

REGION = "us-east-1"


@pytest.fixture(scope="module")
def rule(resources: dict[str, Any], ids: LogicalIds) -> dict[str, Any]:
    return resources[ids.rule]["Properties"]  # type: ignore[no-any-return]


def test_capture_rule_pattern_is_braket_task_and_job_state_changes_only(rule: dict[str, Any]) -> None:
    assert rule["EventPattern"] == {
        "source": [constants.BRAKET_EVENT_SOURCE],
        "detail-type": [constants.TASK_STATE_CHANGE, constants.JOB_STATE_CHANGE],
    }
    assert constants.BRAKET_EVENT_SOURCE == "aws.braket"
    assert constants.TASK_STATE_CHANGE == "Braket Task State Change"


def test_capture_rule_is_on_the_default_bus_and_enabled(rule: dict[str, Any]) -> None:
    # Braket sends task events to the default bus of the task's Region.
    assert rule.get("EventBusName", "default") == "default"
    assert rule["State"] == "ENABLED"


def test_capture_rule_targets_only_the_capture_queue(rule: dict[str, Any], ids: LogicalIds) -> None:
    assert [target["Arn"] for target in rule["Targets"]] == [arn_of(ids.queue)]


def test_capture_rule_parks_undeliverable_events_in_the_dead_letter_queue(
    rule: dict[str, Any], ids: LogicalIds
) -> None:
    (target,) = rule["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": arn_of(ids.dead_letter_queue)}


def test_capture_rule_retries_delivery(rule: dict[str, Any]) -> None:
    (target,) = rule["Targets"]
    policy = target["RetryPolicy"]
    assert policy["MaximumRetryAttempts"] > 0
    assert policy["MaximumEventAgeInSeconds"] >= 3600


# --- The synthesized pattern, delivered by moto's EventBridge to an SQS queue ---------------------


@dataclass
class Bus:
    events: Any
    sqs: Any
    queue_url: str

    def put(self, events: list[dict[str, Any]]) -> None:
        for start in range(0, len(events), 10):
            response = self.events.put_events(Entries=[_entry(event) for event in events[start : start + 10]])
            assert response["FailedEntryCount"] == 0, response

    def drain(self, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """Every message on the queue (the wait applies to the last, empty receive)."""
        bodies: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            ).get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def _entry(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
        "Resources": event["resources"],
        "Time": datetime.fromisoformat(event["time"]),
    }


def _task_states(bodies: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter((body["detail"]["quantumTaskArn"], body["detail"]["status"]) for body in bodies)


@pytest.fixture
def bus(rule: dict[str, Any]) -> Iterator[Bus]:
    """Given the synthesized pattern on moto's default bus, with an SQS queue as its target."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        events = boto3.client("events", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="capture")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="capture", EventPattern=json.dumps(rule["EventPattern"]), State="ENABLED")
        events.put_targets(Rule="capture", Targets=[{"Id": "capture-queue", "Arn": queue_arn}])
        yield Bus(events, sqs, queue_url)


def test_capture_rule_delivers_every_fixture_event(bus: Bus) -> None:
    fixtures = all_fixture_events()
    assert len(fixtures) >= 5

    bus.put(fixtures)

    delivered = bus.drain()
    assert _task_states(delivered) == _task_states(fixtures)
    assert {body["source"] for body in delivered} == {"aws.braket"}


def test_capture_rule_delivers_job_state_changes_too(bus: Bus) -> None:
    jobs = all_fixture_events(constants.JOB_STATE_CHANGE)
    assert jobs

    bus.put(jobs)

    delivered = bus.drain()

    def states(bodies: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        return sorted((b["detail-type"], b["detail"]["jobArn"], b["detail"]["status"]) for b in bodies)

    assert states(delivered) == states(jobs)


@pytest.mark.parametrize(
    ("source", "detail_type"),
    [
        ("aws.batch", constants.TASK_STATE_CHANGE),
        ("aws.batch", constants.JOB_STATE_CHANGE),
        (constants.BRAKET_EVENT_SOURCE, "Braket Device Status Change"),
        (constants.BRAKET_EVENT_SOURCE, "Braket QPU Status Change"),
    ],
)
def test_capture_rule_ignores_other_events(bus: Bus, source: str, detail_type: str) -> None:
    # Given an event that must not match, then a task state change as a positive control
    other = state_change(task_arn(), "RUNNING", "2026-11-20T08:00:02Z") | {"source": source, "detail-type": detail_type}
    control = state_change(task_arn(), "QUEUED", "2026-11-20T08:00:03Z")

    # When both are put on the bus
    bus.put([other, control])

    # Then only the control arrives (and waiting a little longer brings nothing else)
    assert _task_states(bus.drain(wait_seconds=1)) == _task_states([control])
