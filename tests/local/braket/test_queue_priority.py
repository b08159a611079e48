"""Hybrid jobs' tasks wait in the device's Priority queue: queueInfo and deviceQueueInfo count them apart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.braket import LocalBraket
from tests.local.braket.conftest import ACCOUNT, DM1, EventSink, create_task

JOB = f"arn:aws:braket:us-east-1:{ACCOUNT}:job/priority-test"


@pytest.fixture(scope="module")
def slow(moto_url: str, sinks: dict[str, EventSink]) -> Iterator[Any]:
    service = LocalBraket(moto_url, queue_delay=2.0)
    url = service.start()
    yield boto3.client("braket", region_name="us-east-1", endpoint_url=url)
    service.stop()


def test_job_tasks_are_queued_apart_with_priority(slow: Any) -> None:
    normal = [create_task(slow, device=DM1), create_task(slow, device=DM1)]
    job = create_task(slow, device=DM1, jobToken=JOB)

    infos = [slow.get_quantum_task(quantumTaskArn=a, additionalAttributeNames=["QueueInfo"]) for a in [*normal, job]]
    device = slow.get_device(deviceArn=DM1)

    assert [i["status"] for i in infos] == ["QUEUED"] * 3
    assert [(i["queueInfo"]["queuePriority"], i["queueInfo"]["position"]) for i in infos] == [
        ("Normal", "1"),
        ("Normal", "2"),
        ("Priority", "1"),
    ]
    sizes = {q.get("queuePriority", q["queue"]): q["queueSize"] for q in device["deviceQueueInfo"]}
    assert sizes == {"Normal": "2", "Priority": "1", "JOBS_QUEUE": "0"}
