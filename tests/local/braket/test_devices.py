"""GetDevice and SearchDevices: SV1 and DM1 with capabilities built from the default simulator's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from braket.default_simulator import DensityMatrixSimulator, StateVectorSimulator
from braket.device_schema import DeviceActionType
from braket.device_schema.simulators import GateModelSimulatorDeviceCapabilities
from braket.schema_common import BraketSchemaBase

from tests.local.braket.conftest import DM1, SV1, create_task, wait_for


@pytest.mark.parametrize(
    ("arn", "name", "simulator"), [(SV1, "SV1", StateVectorSimulator), (DM1, "DM1", DensityMatrixSimulator)]
)
def test_get_device_describes_the_managed_simulator(
    braket: Callable[..., Any], arn: str, name: str, simulator: Any
) -> None:
    device = braket().get_device(deviceArn=arn)

    capabilities = BraketSchemaBase.parse_raw_schema(device["deviceCapabilities"])
    local = simulator().properties.action[DeviceActionType.OPENQASM]
    assert (device["deviceArn"], device["deviceName"], device["providerName"]) == (arn, name, "Amazon Braket")
    assert (device["deviceType"], device["deviceStatus"]) == ("SIMULATOR", "ONLINE")
    assert isinstance(capabilities, GateModelSimulatorDeviceCapabilities)
    assert capabilities.service.shotsRange == (0, 100_000)
    assert list(capabilities.action) == [DeviceActionType.OPENQASM]
    openqasm = capabilities.action[DeviceActionType.OPENQASM]
    assert openqasm.supportedOperations == local.supportedOperations
    assert [rt.name for rt in openqasm.supportedResultTypes] == [rt.name for rt in local.supportedResultTypes]
    assert capabilities.paradigm.qubitCount == simulator().properties.paradigm.qubitCount
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
    first = client.search_devices(filters=[], maxResults=1)
    second = client.search_devices(filters=[], maxResults=1, nextToken=first["nextToken"])

    assert {d["deviceArn"] for d in everything} == {SV1, DM1}
    assert all(d["providerName"] == "Amazon Braket" and d["deviceType"] == "SIMULATOR" for d in everything)
    assert [d["deviceArn"] for d in only_dm1] == [DM1]
    assert [first["devices"][0]["deviceArn"], second["devices"][0]["deviceArn"]] == [d["deviceArn"] for d in everything]
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
