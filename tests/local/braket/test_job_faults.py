"""Fault mode covers job events: dropped, duplicated (two event ids) and delayed (so they reorder); the job
itself runs and ends as without faults."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from local.braket import LocalBraket
from local.faults import FaultPlan
from tests.local.braket.conftest import EventSink
from tests.local.braket.jobs_support import create_job, job_statuses, wait_job

QUICK = {"algo.py": "print('done')"}
LIFECYCLE = ["QUEUED", "RUNNING", "COMPLETED"]


@contextmanager
def faulty(moto_url: str, faults: FaultPlan) -> Iterator[Any]:
    """A service of its own with the fault plan; no simulator workers, jobs need none."""
    service = LocalBraket(moto_url, queue_delay=0.05, faults=faults, workers=0)
    url = service.start()
    try:
        yield boto3.client("braket", region_name="us-east-1", endpoint_url=url)
    finally:
        service.stop()


def test_dropped_job_events_never_arrive_and_the_job_still_completes(
    moto_url: str, sinks: dict[str, EventSink], aws: Callable[[str, str], Any]
) -> None:
    with faulty(moto_url, FaultPlan(drop_event=1.0, seed=1)) as client:
        arn = create_job(client, aws("s3", "us-east-1"), QUICK, "algo")
        job = wait_job(client, arn)
    # the service has stopped: whatever it was going to send has been sent

    assert job["status"] == "COMPLETED"
    assert sinks["us-east-1"].events(arn) == []


def test_duplicated_job_events_arrive_twice_with_two_ids(
    moto_url: str, sinks: dict[str, EventSink], aws: Callable[[str, str], Any]
) -> None:
    with faulty(moto_url, FaultPlan(duplicate_event=1.0, seed=1)) as client:
        arn = create_job(client, aws("s3", "us-east-1"), QUICK, "algo")
        wait_job(client, arn)
        events = sinks["us-east-1"].wait_for_status(arn, "COMPLETED", count=2)

    assert sorted(job_statuses(events)) == sorted(LIFECYCLE * 2)
    assert len({event["id"] for event in events}) == 6
    by_status: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_status.setdefault(event["detail"]["status"], []).append(event)
    assert all(first["detail"] == second["detail"] for first, second in by_status.values())


def test_delayed_job_events_arrive_out_of_order(
    moto_url: str, sinks: dict[str, EventSink], aws: Callable[[str, str], Any]
) -> None:
    # Seed 2 holds QUEUED back 1.89 s and RUNNING 0.17 s: RUNNING (sent a fraction of a second after QUEUED)
    # arrives first, whatever the load.
    with faulty(moto_url, FaultPlan(delay_event=1.0, max_delay_seconds=2.0, seed=2)) as client:
        arn = create_job(client, aws("s3", "us-east-1"), QUICK, "algo")
        job = wait_job(client, arn)
        events = sinks["us-east-1"].wait(arn, lambda received: len(received) == 3, timeout=10)

    assert job["status"] == "COMPLETED"
    arrived = job_statuses(events)
    assert sorted(arrived) == sorted(LIFECYCLE)
    assert arrived.index("RUNNING") < arrived.index("QUEUED")
