"""GetDevice and SearchDevices: SV1, DM1 and TN1 with the capabilities Braket advertises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from braket.default_simulator import StateVectorSimulator
from braket.device_schema import DeviceActionType
from braket.device_schema.simulators import GateModelSimulatorDeviceCapabilities
from braket.schema_common import BraketSchemaBase

from tests.local.braket.conftest import DM1, SV1, TN1, create_task, wait_for

# What Braket advertises (local/braket/devices.py cites the pages): qubits, shots, result types and their shots.
ADVERTISED = {
    SV1: ("SV1", 34, (0, 100_000), {"Sample": 1, "Expectation": 0, "Variance": 0, "Probability": 1, "Amplitude": 0}),
    DM1: (
        "DM1",
        17,
        (0, 100_000),
        {"Sample": 1, "Expectation": 0, "Variance": 0, "Probability": 0, "DensityMatrix": 0},
    ),
    TN1: ("TN1", 50, (1, 100_000), {"Sample": 1, "Expectation": 1, "Variance": 1}),
}


@pytest.mark.parametrize("arn", ADVERTISED)
def test_get_device_describes_the_managed_simulator_as_braket_does(braket: Callable[..., Any], arn: str) -> None:
    name, qubits, shots, min_shots = ADVERTISED[arn]

    device = braket().get_device(deviceArn=arn)

    capabilities = BraketSchemaBase.parse_raw_schema(device["deviceCapabilities"])
    assert (device["deviceArn"], device["deviceName"], device["providerName"]) == (arn, name, "Amazon Braket")
    assert (device["deviceType"], device["deviceStatus"]) == ("SIMULATOR", "ONLINE")
    assert isinstance(capabilities, GateModelSimulatorDeviceCapabilities)
    assert capabilities.paradigm.qubitCount == qubits
    assert capabilities.service.shotsRange == shots
    assert list(capabilities.action) == [DeviceActionType.OPENQASM]
    openqasm = capabilities.action[DeviceActionType.OPENQASM]
    offered = {rt.name: rt.minShots for rt in openqasm.supportedResultTypes}
    assert {k: v for k, v in offered.items() if k != "AdjointGradient"} == min_shots
    assert ("AdjointGradient" in offered) == (arn == SV1)
    assert openqasm.requiresAllQubitsMeasurement is True
    local = StateVectorSimulator().properties.action[DeviceActionType.OPENQASM]
    assert set(local.supportedOperations) <= set(openqasm.supportedOperations)
    assert {q["queue"] for q in device["deviceQueueInfo"]} == {"QUANTUM_TASKS_QUEUE", "JOBS_QUEUE"}


def test_an_unknown_device_is_resource_not_found(braket: Callable[..., Any]) -> None:
    client = braket()

    with pytest.raises(client.exceptions.ResourceNotFoundException) as raised:
        client.get_device(deviceArn="arn:aws:braket:::device/quantum-simulator/amazon/tn9")

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_search_devices_filters_by_arn_and_pages(braket: Callable[..., Any]) -> None:
    client = braket()

    everything = client.search_devices(filters=[])["devices"]
    only_dm1 = client.search_devices(filters=[{"name": "deviceArn", "values": [DM1]}])["devices"]
    first = client.search_devices(filters=[], maxResults=2)
    second = client.search_devices(filters=[], maxResults=2, nextToken=first["nextToken"])

    assert {d["deviceArn"] for d in everything} == {SV1, DM1, TN1}
    assert all(d["providerName"] == "Amazon Braket" and d["deviceType"] == "SIMULATOR" for d in everything)
    assert [d["deviceArn"] for d in only_dm1] == [DM1]
    assert [d["deviceArn"] for d in first["devices"] + second["devices"]] == [d["deviceArn"] for d in everything]
    assert "nextToken" not in second


def test_search_devices_takes_only_the_device_arn_filter(braket: Callable[..., Any]) -> None:
    with pytest.raises(ClientError) as raised:
        braket().search_devices(filters=[{"name": "providerName", "values": ["Amazon Braket"]}])

    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_dm1_runs_on_the_density_matrix_simulator(braket: Callable[..., Any], aws: Callable[[str, str], Any]) -> None:
    client = braket()

    task = wait_for(client, create_task(client, device=DM1, shots=200), timeout=30)

    assert task["status"] == "COMPLETED"
    body = aws("s3", "us-east-1").get_object(
        Bucket=task["outputS3Bucket"], Key=f"{task['outputS3Directory']}/results.json"
    )
    result = BraketSchemaBase.parse_raw_schema(body["Body"].read())
    assert result.taskMetadata.deviceId == DM1
    assert {tuple(shot) for shot in result.measurements} <= {(0, 0), (1, 1)}
