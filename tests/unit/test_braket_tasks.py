"""Enrichment from GetQuantumTask, against botocore's Stubber and the documented response shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tracker.data.braket_tasks import MAX_DEVICE_PARAMETERS_BYTES, BraketTasks, BraketUnavailable, enrichment_from
from tracker.domain import ActionMetadata, TaskArn

RESERVATION = "arn:aws:braket:us-west-2:012345678901:reservation/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
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
    "actionMetadata": {"actionType": "braket.ir.openqasm.program_set", "programCount": 2, "executableCount": 6},
    "associations": [{"arn": RESERVATION, "type": "RESERVATION_TIME_WINDOW_ARN"}],
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
    assert enrichment.device_parameters == "{}"
    assert enrichment.action_metadata == ActionMetadata("braket.ir.openqasm.program_set", 2, 6)
    assert enrichment.associations == ({"arn": RESERVATION, "type": "RESERVATION_TIME_WINDOW_ARN"},)
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


def test_device_parameters_up_to_braket_s_limit_are_kept_whole_and_larger_ones_left_out() -> None:
    largest = '{"x": "' + "p" * (MAX_DEVICE_PARAMETERS_BYTES - 9) + '"}'
    wide = '{"x": "' + "\u00e9" * (MAX_DEVICE_PARAMETERS_BYTES // 2) + '"}'  # fewer characters, more bytes

    assert enrichment_from({"deviceParameters": largest}).device_parameters == largest
    assert enrichment_from({"deviceParameters": largest + " "}).device_parameters is None
    assert enrichment_from({"deviceParameters": wide}).device_parameters is None
    assert enrichment_from({"deviceParameters": ""}).device_parameters is None
    assert enrichment_from({"deviceParameters": {"a": 1}}).device_parameters is None


@pytest.mark.parametrize(
    "metadata",
    [
        {"actionType": "braket.ir.openqasm.program\n"},
        {"actionType": ""},
        {"actionType": 7},
        {"programCount": 2},
        "braket.ir.openqasm.program",
    ],
)
def test_an_action_type_that_is_not_a_whole_name_is_left_out(metadata: Any) -> None:
    assert enrichment_from({"actionMetadata": metadata}).action_metadata is None


def test_counts_must_be_integers_not_bools_or_negative() -> None:
    metadata = {"actionType": "braket.ir.openqasm.program_set", "programCount": True, "executableCount": -1}

    assert enrichment_from({"actionMetadata": metadata}).action_metadata == ActionMetadata(
        "braket.ir.openqasm.program_set"
    )
    assert enrichment_from({"numSuccessfulShots": False}).num_successful_shots is None


def test_malformed_associations_are_left_out_and_repeats_kept_once() -> None:
    good = {"arn": RESERVATION, "type": "RESERVATION_TIME_WINDOW_ARN"}
    answer = {
        "associations": [
            good,
            good,
            {"arn": RESERVATION + "\n", "type": "RESERVATION_TIME_WINDOW_ARN"},
            {"arn": "arn:aws:s3:::bucket", "type": "RESERVATION_TIME_WINDOW_ARN"},
            {"arn": RESERVATION},
            "not an association",
        ]
    }

    assert enrichment_from(answer).associations == ({"arn": RESERVATION, "type": "RESERVATION_TIME_WINDOW_ARN"},)
    assert enrichment_from({"associations": {"arn": RESERVATION}}).associations == ()
