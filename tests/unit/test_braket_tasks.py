"""Enrichment from GetQuantumTask, against botocore's Stubber and the documented response shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tracker.data.braket_tasks import BraketTasks, BraketUnavailable
from tracker.domain import TaskArn

TASK = TaskArn.parse("arn:aws:braket:us-west-2:012345678901:quantum-task/f0e1d2c3-b4a5-4968-8776-655443322110")

# GetQuantumTask response, as documented in the Braket API reference.
FAILED_TASK: dict[str, Any] = {
    "quantumTaskArn": TASK.arn,
    "status": "FAILED",
    "failureReason": "The quantum task failed because the circuit exceeds the device's qubit count.",
    "deviceArn": "arn:aws:braket:::device/quantum-simulator/amazon/dm1",
    "deviceParameters": "{}",
    "shots": 0,
    "outputS3Bucket": "amazon-braket-us-west-2-012345678901",
    "outputS3Directory": f"tasks/{TASK.task_id}",
    "createdAt": datetime(2026, 11, 22, 16, 30, 0, 500000, tzinfo=UTC),
    "endedAt": datetime(2026, 11, 22, 16, 30, 4, 10000, tzinfo=UTC),
    "tags": {"team": "qml", "experiment": "vqe-7"},
    "jobArn": "arn:aws:braket:us-west-2:012345678901:job/vqe-7",
    "numSuccessfulShots": 0,
}


def stubbed(region_log: list[str]) -> tuple[BraketTasks, Stubber]:
    client = boto3.client("braket", region_name="us-west-2")
    stubber = Stubber(client)

    def factory(region: str) -> Any:
        region_log.append(region)
        return client

    return BraketTasks(max_attempts=3, client_factory=factory), stubber


def test_describe_end_maps_failure_reason_tags_job_and_shots() -> None:
    regions: list[str] = []
    braket, stubber = stubbed(regions)
    stubber.add_response("get_quantum_task", FAILED_TASK, {"quantumTaskArn": TASK.arn})

    with stubber:
        enrichment = braket.describe_end(TASK)

    assert enrichment.complete
    assert enrichment.failure_reason == FAILED_TASK["failureReason"]
    assert enrichment.tags == {"team": "qml", "experiment": "vqe-7"}
    assert enrichment.job_arn == FAILED_TASK["jobArn"]
    assert enrichment.num_successful_shots == 0
    assert regions == ["us-west-2"]


def test_clients_are_made_once_per_region_of_the_task_arn() -> None:
    regions: list[str] = []
    braket, stubber = stubbed(regions)
    east = TaskArn.parse(TASK.arn.replace("us-west-2", "eu-north-1"))
    for arn in (TASK.arn, east.arn, TASK.arn):
        stubber.add_response("get_quantum_task", {**FAILED_TASK, "quantumTaskArn": arn}, {"quantumTaskArn": arn})

    with stubber:
        braket.describe_end(TASK)
        braket.describe_end(east)
        braket.describe_end(TASK)

    assert regions == ["us-west-2", "eu-north-1"]


@pytest.mark.parametrize("code", ["ThrottlingException", "ResourceNotFoundException", "AccessDeniedException"])
def test_errors_become_braket_unavailable(code: str) -> None:
    braket, stubber = stubbed([])
    stubber.add_client_error("get_quantum_task", service_error_code=code, http_status_code=429)

    with stubber, pytest.raises(BraketUnavailable, match=code):
        braket.describe_end(TASK)


def test_default_client_backs_off_on_throttling() -> None:
    braket = BraketTasks(max_attempts=4)

    config = braket.client("eu-north-1").meta.config

    assert config.retries == {"mode": "standard", "total_max_attempts": 4}
    assert braket.client("eu-north-1").meta.region_name == "eu-north-1"


def test_worst_case_time_counts_every_attempt_and_the_backoff_between() -> None:
    from tracker.data.braket_tasks import worst_case_seconds

    # 3 attempts of (2 s connect + 3 s read), and at most 1 s then 2 s of backoff between them.
    assert worst_case_seconds(3) == 18
    assert BraketTasks(max_attempts=3).worst_case_seconds == 18
