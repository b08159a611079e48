"""CancelQuantumTask and queueInfo, on a service whose tasks stay QUEUED for a second."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from local.braket import LocalBraket
from tests.local.braket.conftest import FINISHED, SV1, EventSink, create_task, statuses, wait_for

QUEUE_DELAY = 1.0


@pytest.fixture(scope="module")
def slow(moto_url: str, sinks: dict[str, EventSink]) -> Iterator[Any]:
    service = LocalBraket(moto_url, queue_delay=QUEUE_DELAY)
    url = service.start()
    yield boto3.client("braket", region_name="us-east-1", endpoint_url=url)
    service.stop()


def test_queue_info_only_when_asked_with_position_while_queued(slow: Any) -> None:
    first, second = create_task(slow), create_task(slow)

    plain = slow.get_quantum_task(quantumTaskArn=second)
    queued = [
        slow.get_quantum_task(quantumTaskArn=arn, additionalAttributeNames=["QueueInfo"]) for arn in (first, second)
    ]
    device = slow.get_device(deviceArn=SV1)

    assert "queueInfo" not in plain
    assert [task["status"] for task in queued] == ["QUEUED", "QUEUED"]
    assert [task["queueInfo"] for task in queued] == [
        {"queue": "QUANTUM_TASKS_QUEUE", "position": "1", "queuePriority": "Normal"},
        {"queue": "QUANTUM_TASKS_QUEUE", "position": "2", "queuePriority": "Normal"},
    ]
    assert device["deviceQueueInfo"][0] == {"queue": "QUANTUM_TASKS_QUEUE", "queueSize": "2", "queuePriority": "Normal"}
    done = wait_for(slow, first)
    info = slow.get_quantum_task(quantumTaskArn=first, additionalAttributeNames=["QueueInfo"])["queueInfo"]
    assert done["status"] == "COMPLETED"
    assert info == {
        "queue": "QUANTUM_TASKS_QUEUE",
        "position": "None",  # as Braket answers it: the SDK's queue_position() maps "None" to None
        "queuePriority": "Normal",
        "message": "Task is in COMPLETED status. AmazonBraket does not show queue position for this status.",
    }


def test_cancel_of_a_queued_task_goes_cancelling_then_cancelled(
    slow: Any, sinks: dict[str, EventSink], aws: Callable[[str, str], Any]
) -> None:
    arn = create_task(slow)

    answer = slow.cancel_quantum_task(quantumTaskArn=arn)
    right_after = slow.get_quantum_task(quantumTaskArn=arn)["status"]
    task = wait_for(slow, arn)

    assert answer["cancellationStatus"] == "CANCELLING"
    assert answer["quantumTaskArn"] == arn
    assert right_after in {"CANCELLING", "CANCELLED"}
    assert task["status"] == "CANCELLED"
    assert "endedAt" in task
    events = sinks["us-east-1"].wait_for_status(arn, "CANCELLED")
    assert statuses(events) == ["CREATED", "QUEUED", "CANCELLING", "CANCELLED"]
    assert "endedAt" not in events[2]["detail"] and "endedAt" in events[3]["detail"]
    time.sleep(QUEUE_DELAY + 0.3)  # past the queue: a cancelled task never runs
    assert slow.get_quantum_task(quantumTaskArn=arn)["status"] == "CANCELLED"
    assert statuses(sinks["us-east-1"].events(arn)) == ["CREATED", "QUEUED", "CANCELLING", "CANCELLED"]
    listed = aws("s3", "us-east-1").list_objects_v2(Bucket=task["outputS3Bucket"], Prefix=task["outputS3Directory"])
    assert listed["KeyCount"] == 0


def test_cancel_again_is_idempotent_and_a_finished_task_conflicts(braket: Callable[..., Any], slow: Any) -> None:
    cancelled = create_task(slow)
    slow.cancel_quantum_task(quantumTaskArn=cancelled)
    wait_for(slow, cancelled)
    client = braket()
    completed = create_task(client)
    wait_for(client, completed)

    again = slow.cancel_quantum_task(quantumTaskArn=cancelled)
    with pytest.raises(client.exceptions.ConflictException) as raised:
        client.cancel_quantum_task(quantumTaskArn=completed)

    assert again["cancellationStatus"] == "CANCELLED"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert "COMPLETED" in raised.value.response["Error"]["Message"]
    assert client.get_quantum_task(quantumTaskArn=completed)["status"] == "COMPLETED"


def test_cancel_of_an_unknown_task_is_resource_not_found(slow: Any) -> None:
    arn = "arn:aws:braket:us-east-1:123456789012:quantum-task/00000000-0000-4000-8000-000000000001"

    with pytest.raises(slow.exceptions.ResourceNotFoundException):
        slow.cancel_quantum_task(quantumTaskArn=arn)


def test_cancel_of_a_running_task_cancels_it_when_the_simulation_returns(
    braket: Callable[..., Any], sinks: dict[str, EventSink], aws: Callable[[str, str], Any]
) -> None:
    client = braket()
    busy = "OPENQASM 3.0; qubit[18] q; bit[18] b; for int i in [0:99] { h q; } b = measure q;"  # about a second
    arn = create_task(client, busy, shots=10)
    running = wait_for(client, arn, {"RUNNING", *FINISHED})

    answer = client.cancel_quantum_task(quantumTaskArn=arn)
    task = wait_for(client, arn, timeout=30)

    assert running["status"] == "RUNNING"
    assert answer["cancellationStatus"] == "CANCELLING"
    assert task["status"] == "CANCELLED"
    events = sinks["us-east-1"].wait_for_status(arn, "CANCELLED")
    assert statuses(events) == ["CREATED", "QUEUED", "RUNNING", "CANCELLING", "CANCELLED"]
    listed = aws("s3", "us-east-1").list_objects_v2(Bucket=task["outputS3Bucket"], Prefix=task["outputS3Directory"])
    assert listed["KeyCount"] == 0
