"""Fault mode: each FaultPlan knob, seeded, observed where the tracker sees it (the SQS capture queue)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from local.braket import LocalBraket
from local.faults import FaultPlan
from tests.local.braket.conftest import EventSink, create_task, statuses, wait_for

LIFECYCLE = ["CREATED", "QUEUED", "RUNNING", "COMPLETED"]


@contextmanager
def faulty(moto_url: str, faults: FaultPlan) -> Iterator[Any]:
    service = LocalBraket(moto_url, queue_delay=0.05, faults=faults)
    url = service.start()
    try:
        yield boto3.client("braket", region_name="us-east-1", endpoint_url=url)
    finally:
        service.stop()


def test_fail_task_ends_failed_with_a_reason_without_running(
    moto_url: str, sinks: dict[str, EventSink], aws: Callable[[str, str], Any]
) -> None:
    with faulty(moto_url, FaultPlan(fail_task=1.0, seed=1)) as client:
        arn = create_task(client)
        task = wait_for(client, arn)

    assert task["status"] == "FAILED"
    assert "fail_task" in task["failureReason"]
    events = sinks["us-east-1"].wait_for_status(arn, "FAILED")
    assert statuses(events) == ["CREATED", "QUEUED", "FAILED"]
    assert "endedAt" in events[-1]["detail"]
    listed = aws("s3", "us-east-1").list_objects_v2(Bucket=task["outputS3Bucket"], Prefix=task["outputS3Directory"])
    assert listed["KeyCount"] == 0


def test_drop_event_loses_events_but_not_the_task(
    moto_url: str, sinks: dict[str, EventSink], aws: Callable[[str, str], Any]
) -> None:
    with faulty(moto_url, FaultPlan(drop_event=1.0, seed=1)) as client:
        arn = create_task(client)
        task = wait_for(client, arn)
        time.sleep(1.0)  # events, were any sent, arrive within milliseconds

    assert task["status"] == "COMPLETED"
    aws("s3", "us-east-1").head_object(Bucket=task["outputS3Bucket"], Key=f"{task['outputS3Directory']}/results.json")
    assert sinks["us-east-1"].events(arn) == []


def test_duplicate_event_sends_each_event_twice_with_two_ids(moto_url: str, sinks: dict[str, EventSink]) -> None:
    with faulty(moto_url, FaultPlan(duplicate_event=1.0, seed=1)) as client:
        arn = create_task(client)
        wait_for(client, arn)
        events = sinks["us-east-1"].wait_for_status(arn, "COMPLETED", count=2)

    assert sorted(statuses(events)) == sorted(LIFECYCLE * 2)
    assert len({event["id"] for event in events}) == 8
    by_status: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_status.setdefault(event["detail"]["status"], []).append(event)
    assert all(first["detail"] == second["detail"] for first, second in by_status.values())


def test_delay_event_reorders_what_arrives(moto_url: str, sinks: dict[str, EventSink]) -> None:
    # Seed 2 holds the four events back 1.42, 0.13, 1.10 and 0.46 s: far enough apart to arrive in a fixed order.
    with faulty(moto_url, FaultPlan(delay_event=1.0, max_delay_seconds=1.5, seed=2)) as client:
        arn = create_task(client)
        task = wait_for(client, arn)
        events = sinks["us-east-1"].wait(arn, lambda received: len(received) == 4, timeout=5)

    assert task["status"] == "COMPLETED"
    assert statuses(events) == ["QUEUED", "COMPLETED", "RUNNING", "CREATED"]
    by_status = {event["detail"]["status"]: event for event in events}
    times = [by_status[status]["time"] for status in LIFECYCLE]
    assert times == sorted(times)  # each event still carries the time of its change, not of its sending
