"""A Bell pair through the whole lifecycle: API answers, results.json in S3, events on the Region's bus."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from braket.task_result import GateModelTaskResult

from tests.local.braket.conftest import (
    ACCOUNT,
    BELL,
    SV1,
    EventSink,
    bucket_for,
    create_task,
    statuses,
    wait_for,
)
from tests.support.events import load_fixture

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ISO_S = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
LIFECYCLE = ["CREATED", "QUEUED", "RUNNING", "COMPLETED"]


@pytest.fixture(scope="module")
def bell(braket: Callable[..., Any]) -> dict[str, Any]:
    """One Bell pair, 1000 shots, run to the end; GetQuantumTask right after creation and at the end."""
    client = braket()
    arn = create_task(client, shots=1000, tags={"team": "qml"})
    first = client.get_quantum_task(quantumTaskArn=arn)
    return {"arn": arn, "first": first, "last": wait_for(client, arn)}


def test_create_answers_an_arn_of_the_signing_region_and_account(bell: dict[str, Any]) -> None:
    assert re.fullmatch(rf"arn:aws:braket:us-east-1:{ACCOUNT}:quantum-task/[0-9a-f-]{{36}}", bell["arn"])
    assert bell["first"]["status"] in {"CREATED", "QUEUED"}
    assert "endedAt" not in bell["first"]


def test_bell_pair_completes_with_the_documented_get_quantum_task_shape(bell: dict[str, Any]) -> None:
    task = bell["last"]
    task_id = bell["arn"].rsplit("/", 1)[-1]
    assert task["status"] == "COMPLETED"
    assert task["quantumTaskArn"] == bell["arn"]
    assert task["deviceArn"] == SV1
    assert task["shots"] == 1000
    assert task["outputS3Bucket"] == bucket_for("us-east-1")
    assert task["outputS3Directory"] == f"tasks/{task_id}"
    assert isinstance(task["createdAt"], datetime)
    assert task["endedAt"] >= task["createdAt"]
    assert task["tags"] == {"team": "qml"}
    assert task["numSuccessfulShots"] == 1000
    assert json.loads(task["deviceParameters"])["paradigmParameters"]["qubitCount"] == 2
    assert "failureReason" not in task and "queueInfo" not in task


def test_results_json_is_a_gate_model_task_result_with_only_00_and_11(
    bell: dict[str, Any], aws: Callable[[str, str], Any]
) -> None:
    task = bell["last"]
    body = aws("s3", "us-east-1").get_object(
        Bucket=task["outputS3Bucket"], Key=f"{task['outputS3Directory']}/results.json"
    )
    document = json.loads(body["Body"].read())

    result = GateModelTaskResult.parse_obj(document)

    counts = Counter("".join(str(bit) for bit in shot) for shot in result.measurements)
    assert set(counts) == {"00", "11"}
    assert sum(counts.values()) == 1000
    assert result.measuredQubits == [0, 1]
    assert result.taskMetadata.id == bell["arn"]
    assert result.taskMetadata.shots == 1000
    assert result.taskMetadata.deviceId == SV1
    assert result.taskMetadata.status == "COMPLETED"
    assert ISO_MS.match(result.taskMetadata.createdAt) and ISO_MS.match(result.taskMetadata.endedAt)
    assert result.additionalMetadata.action.source == BELL
    assert result.additionalMetadata.simulatorMetadata.executionDuration >= 0
    assert document["braketSchemaHeader"] == {"name": "braket.task_result.gate_model_task_result", "version": "1"}


def test_every_status_change_arrives_as_a_real_shaped_event(bell: dict[str, Any], sinks: dict[str, EventSink]) -> None:
    events = sinks["us-east-1"].wait_for_status(bell["arn"], "COMPLETED")
    real = {event["detail"]["status"]: event for event in load_fixture("task-lifecycle-qpu-completed.json")}

    assert statuses(events) == LIFECYCLE
    assert len({event["id"] for event in events}) == 4
    for event in events:
        status = event["detail"]["status"]
        # moto's SQS delivery drops the envelope's "account" (its default input template has none)
        assert set(event) == set(real[status]) - {"account"}
        assert {k: type(v) for k, v in event["detail"].items()} == {
            k: type(v) for k, v in real[status]["detail"].items()
        }
        assert {k: type(v) for k, v in event.items()} == {k: type(v) for k, v in real[status].items() if k != "account"}
        assert event["source"] == "aws.braket"
        assert event["detail-type"] == "Braket Task State Change"
        assert event["region"] == "us-east-1"
        assert event["resources"] == [bell["arn"]]
        assert ISO_S.match(event["time"])
        detail = event["detail"]
        assert detail["eventName"] == ("INSERT" if status == "CREATED" else "MODIFY")
        assert detail["shots"] == "1000"
        assert ISO_MS.match(detail["createdAt"])
        assert detail["outputS3Directory"] == bell["last"]["outputS3Directory"]
    assert "endedAt" in events[-1]["detail"]
    assert all("endedAt" not in event["detail"] for event in events[:-1])
    ended = bell["last"]["endedAt"]
    assert events[-1]["detail"]["endedAt"] == ended.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ended.microsecond // 1000:03d}Z"


def test_region_comes_from_the_signature(
    braket: Callable[..., Any], sinks: dict[str, EventSink], aws: Callable[[str, str], Any]
) -> None:
    stockholm = braket("eu-north-1")

    arn = create_task(stockholm)
    task = wait_for(stockholm, arn)

    assert arn.startswith(f"arn:aws:braket:eu-north-1:{ACCOUNT}:quantum-task/")
    assert task["status"] == "COMPLETED"
    aws("s3", "eu-north-1").head_object(
        Bucket=bucket_for("eu-north-1"), Key=f"{task['outputS3Directory']}/results.json"
    )
    events = sinks["eu-north-1"].wait_for_status(arn, "COMPLETED")
    assert statuses(events) == LIFECYCLE
    assert {event["region"] for event in events} == {"eu-north-1"}
    assert sinks["us-east-1"].events(arn) == []
    virginia = braket("us-east-1")
    with pytest.raises(virginia.exceptions.ResourceNotFoundException):
        virginia.get_quantum_task(quantumTaskArn=arn)
    assert (
        virginia.search_quantum_tasks(filters=[{"name": "quantumTaskArn", "operator": "EQUAL", "values": [arn]}])[
            "quantumTasks"
        ]
        == []
    )


def test_client_token_is_idempotent(braket: Callable[..., Any], sinks: dict[str, EventSink]) -> None:
    client = braket()
    token = str(uuid.uuid4())

    first = create_task(client, clientToken=token)
    second = create_task(client, clientToken=token)
    other = create_task(client)

    assert first == second
    assert other != first
    found = client.search_quantum_tasks(filters=[{"name": "quantumTaskArn", "operator": "EQUAL", "values": [first]}])
    assert [t["quantumTaskArn"] for t in found["quantumTasks"]] == [first]
    events = sinks["us-east-1"].wait_for_status(first, "COMPLETED")
    assert statuses(events).count("CREATED") == 1


def test_job_token_tags_and_device_parameters_are_kept(braket: Callable[..., Any]) -> None:
    client = braket()
    job = f"arn:aws:braket:us-east-1:{ACCOUNT}:job/nightly-vqe"
    parameters = json.dumps({"braketSchemaHeader": {"name": "x", "version": "1"}, "custom": True})

    arn = create_task(client, jobToken=job, tags={"batch": "7"}, deviceParameters=parameters)
    task = client.get_quantum_task(quantumTaskArn=arn)

    assert task["jobArn"] == job
    assert task["tags"] == {"batch": "7"}
    assert task["deviceParameters"] == parameters
    assert task["actionMetadata"] == {"actionType": "braket.ir.openqasm.program"}


def test_a_program_with_inputs_runs(braket: Callable[..., Any], aws: Callable[[str, str], Any]) -> None:
    client = braket()
    arn = client.create_quantum_task(
        action=json.dumps(
            {
                "braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"},
                "source": "OPENQASM 3.0; input float theta; bit b; qubit q; rx(theta) q; b = measure q;",
                "inputs": {"theta": 3.141592653589793},
            }
        ),
        deviceArn=SV1,
        shots=50,
        outputS3Bucket=bucket_for("us-east-1"),
        outputS3KeyPrefix="inputs",
    )["quantumTaskArn"]
    task = wait_for(client, arn)

    assert task["status"] == "COMPLETED"
    body = aws("s3", "us-east-1").get_object(
        Bucket=task["outputS3Bucket"], Key=f"{task['outputS3Directory']}/results.json"
    )
    assert {tuple(shot) for shot in json.loads(body["Body"].read())["measurements"]} == {(1,)}


def test_exact_results_with_shots_zero_carry_result_type_values(
    braket: Callable[..., Any], aws: Callable[[str, str], Any]
) -> None:
    client = braket()
    source = (
        "OPENQASM 3.0; qubit[2] q; h q[0]; cnot q[0], q[1];\n"
        '#pragma braket result expectation z(q[0]) @ z(q[1])\n#pragma braket result amplitude "00", "01"'
    )

    task = wait_for(client, create_task(client, source, shots=0))

    assert task["status"] == "COMPLETED"
    body = aws("s3", "us-east-1").get_object(
        Bucket=task["outputS3Bucket"], Key=f"{task['outputS3Directory']}/results.json"
    )
    result = GateModelTaskResult.parse_raw(body["Body"].read())
    expectation, amplitude = (rt.value for rt in result.resultTypes)
    assert expectation == pytest.approx(1.0)
    assert amplitude["00"] == pytest.approx([2**-0.5, 0.0])  # complex amplitudes as [real, imaginary]
    assert amplitude["01"] == pytest.approx([0.0, 0.0])
    assert result.measurements is None
