"""CreateQuantumTask errors as botocore parses them: code, HTTP status, message; the server keeps answering."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.braket.programs import PARTIAL_MEASUREMENT
from tests.local.braket.conftest import BELL, DM1, SV1, TN1, bucket_for, create_task, openqasm

GRADIENT = (
    "OPENQASM 3.0; input float theta; qubit[1] q; rx(theta) q[0];\n"
    "#pragma braket result adjoint_gradient expectation(2 * y(q[0])) theta"
)
JAQCD = json.dumps({"braketSchemaHeader": {"name": "braket.ir.jaqcd.program", "version": "1"}, "instructions": []})

CASES: dict[str, tuple[dict[str, Any], str]] = {
    "unknown gate": ({"action": openqasm("OPENQASM 3.0; qubit[2] q; foo q[0];")}, "foo"),
    "not OpenQASM": ({"action": openqasm("this is not a program")}, "line 1"),
    "action not JSON": ({"action": "{not json"}, "not valid JSON"),
    "action of another IR": ({"action": JAQCD}, "braket.ir.jaqcd.program"),
    "OpenQASM document without source": (
        {"action": json.dumps({"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}})},
        "source",
    ),
    "more qubits than Braket's SV1": ({"action": openqasm("OPENQASM 3.0; qubit[40] q; h q;")}, "at most 34"),
    "more qubits than the local SV1": ({"action": openqasm("OPENQASM 3.0; qubit[30] q; h q;")}, "at most 26"),
    "more qubits than the local DM1": ({"action": openqasm("OPENQASM 3.0; qubit[14] q; h q;"), "deviceArn": DM1}, "13"),
    "partial measurement (SV1)": (
        {
            "action": openqasm(
                "OPENQASM 3.0; bit[2] b; qubit[3] q; h q[0]; h q[2]; b[0] = measure q[0]; b[1] = measure q[1];"
            )
        },
        PARTIAL_MEASUREMENT,
    ),
    "state vector on SV1": (
        {"action": openqasm("OPENQASM 3.0; qubit[1] q; h q[0];\n#pragma braket result state_vector"), "shots": 0},
        "StateVector is not supported by SV1",
    ),
    "probability without shots on SV1": (
        {"action": openqasm("OPENQASM 3.0; qubit[1] q; h q[0];\n#pragma braket result probability"), "shots": 0},
        "Probability on SV1 needs shots from 1 to 100000",
    ),
    "amplitude with shots": (
        {"action": openqasm('OPENQASM 3.0; qubit[1] q; h q[0];\n#pragma braket result amplitude "0"')},
        "Amplitude on SV1 needs shots = 0",
    ),
    "probability of 16 qubits": (
        {"action": openqasm("OPENQASM 3.0; qubit[16] q; h q;\n#pragma braket result probability")},
        "at most 15",
    ),
    "noise on SV1": (
        {"action": openqasm("OPENQASM 3.0; qubit[1] q; h q[0];\n#pragma braket noise bit_flip(0.1) q[0]")},
        "bit_flip",
    ),
    "shots = 0 without result types": ({"shots": 0}, "Result types must be specified"),
    "TN1 with shots = 0": ({"deviceArn": TN1, "shots": 0}, "outside the range [1, 100000]"),
    "probability on TN1": (
        {"action": openqasm("OPENQASM 3.0; qubit[1] q; h q[0];\n#pragma braket result probability"), "deviceArn": TN1},
        "Probability is not supported by TN1",
    ),
    "adjoint gradient with shots": (
        {"action": openqasm(GRADIENT), "shots": 10},
        "AdjointGradient on SV1 needs shots = 0",
    ),
    "adjoint gradient on DM1": ({"action": openqasm(GRADIENT), "shots": 0, "deviceArn": DM1}, "not supported by DM1"),
    "adjoint gradient of a hermitian observable": (
        {"action": openqasm(GRADIENT.replace("y(q[0])", "hermitian([[0, 1], [1, 0]]) q[0]")), "shots": 0},
        "cannot read the observable",
    ),
    "shots above the device's range": ({"shots": 100_001}, "100000"),
    "unknown device": ({"deviceArn": "arn:aws:braket:::device/quantum-simulator/amazon/sv9"}, "sv9"),
    "QPU this service does not run": ({"deviceArn": "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet"}, "Garnet"),
    "missing output bucket": ({"outputS3Bucket": "amazon-braket-no-such-bucket"}, "amazon-braket-no-such-bucket"),
    "key prefix with traversal": ({"outputS3KeyPrefix": "results/../other"}, "outputS3KeyPrefix"),
    "device parameters not JSON": ({"deviceParameters": "{"}, "deviceParameters"),
}


def _params(**override: Any) -> dict[str, Any]:
    params = {
        "action": openqasm(BELL),
        "deviceArn": SV1,
        "shots": 10,
        "outputS3Bucket": bucket_for("us-east-1"),
        "outputS3KeyPrefix": "tasks",
    }
    params.update(override)
    return params


@pytest.mark.parametrize(("override", "mentions"), CASES.values(), ids=CASES.keys())
def test_create_rejects_with_validation_exception(
    braket: Callable[..., Any], override: dict[str, Any], mentions: str
) -> None:
    client = braket()

    with pytest.raises(ClientError) as raised:
        client.create_quantum_task(**_params(**override))

    error = raised.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert mentions in error["Error"]["Message"]
    assert client.get_device(deviceArn=SV1)["deviceStatus"] == "ONLINE"  # still serving


def test_a_rejected_task_is_not_created(braket: Callable[..., Any]) -> None:
    client = braket("us-west-2")
    before = client.search_quantum_tasks(filters=[])["quantumTasks"]

    with pytest.raises(client.exceptions.ValidationException):
        client.create_quantum_task(**_params(outputS3Bucket=bucket_for("us-west-2"), shots=10**6))

    assert client.search_quantum_tasks(filters=[])["quantumTasks"] == before


@pytest.mark.parametrize(
    ("override", "mentions"),
    [
        ({"shots": -1}, "'shots'"),
        ({"outputS3Bucket": "ab"}, "'outputS3Bucket'"),
        ({"shots": None}, "Member must not be null"),
        ({"tags": {"k": 7}}, "string"),
    ],
    ids=["negative shots", "bucket name too short", "shots missing", "tag value not a string"],
)
def test_the_service_model_constraints_are_checked_server_side(
    braket: Callable[..., Any], override: dict[str, Any], mentions: str
) -> None:
    client = braket(validate=False)  # botocore would refuse these before sending
    params = {k: v for k, v in _params(**override).items() if v is not None}

    with pytest.raises(ClientError) as raised:
        client.create_quantum_task(**params)

    error = raised.value.response["Error"]
    assert error["Code"] in {"ValidationException", "SerializationException"}
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert mentions in error["Message"]


def test_get_of_an_unknown_task_is_resource_not_found(braket: Callable[..., Any]) -> None:
    client = braket()
    arn = "arn:aws:braket:us-east-1:123456789012:quantum-task/00000000-0000-4000-8000-000000000000"

    with pytest.raises(client.exceptions.ResourceNotFoundException) as raised:
        client.get_quantum_task(quantumTaskArn=arn)

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert arn in raised.value.response["Error"]["Message"]


def test_get_rejects_an_unknown_additional_attribute(braket: Callable[..., Any]) -> None:
    client = braket(validate=False)
    arn = create_task(client)

    with pytest.raises(client.exceptions.ValidationException) as raised:
        client.get_quantum_task(quantumTaskArn=arn, additionalAttributeNames=["Everything"])

    assert "QueueInfo" in raised.value.response["Error"]["Message"]
