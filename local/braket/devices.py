"""The devices this service offers: Braket's managed simulators SV1 and DM1, run on the default simulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from braket.default_simulator import DensityMatrixSimulator, StateVectorSimulator  # type: ignore[import-untyped]
from braket.device_schema import DeviceActionType  # type: ignore[import-untyped]
from braket.device_schema.simulators import GateModelSimulatorDeviceCapabilities  # type: ignore[import-untyped]

OPENQASM = "braket.ir.openqasm.program"
MAX_SHOTS = 100_000  # SV1 and DM1 device properties: shotsRange [0, 100000]
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1 = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"


@dataclass(frozen=True)
class Device:
    arn: str
    name: str
    simulator: Callable[[], Any]  # a fresh braket.default_simulator BaseLocalSimulator
    capabilities: dict[str, Any]  # GateModelSimulatorDeviceCapabilities, as JSON

    @property
    def shots_range(self) -> tuple[int, int]:
        low, high = self.capabilities["service"]["shotsRange"]
        return int(low), int(high)

    @property
    def qubit_count(self) -> int:
        return int(self.capabilities["paradigm"]["qubitCount"])

    def summary(self) -> dict[str, Any]:
        """DeviceSummary (SearchDevices)."""
        return {
            "deviceArn": self.arn,
            "deviceName": self.name,
            "providerName": "Amazon Braket",
            "deviceType": "SIMULATOR",
            "deviceStatus": "ONLINE",
        }

    def describe(self, queued_tasks: int, priority_tasks: int = 0) -> dict[str, Any]:
        """GetDeviceResponse; hybrid jobs' tasks wait in the Priority queue, the others in Normal."""
        return {
            **self.summary(),
            "deviceCapabilities": json.dumps(self.capabilities),
            "deviceQueueInfo": [
                {"queue": "QUANTUM_TASKS_QUEUE", "queueSize": str(queued_tasks), "queuePriority": "Normal"},
                {"queue": "QUANTUM_TASKS_QUEUE", "queueSize": str(priority_tasks), "queuePriority": "Priority"},
                {"queue": "JOBS_QUEUE", "queueSize": "0"},
            ],
        }


def _capabilities(simulator: Any, summary: str) -> dict[str, Any]:
    """The managed simulator's capabilities, with the operations and result types the local simulator supports."""
    local = simulator.properties
    capabilities = GateModelSimulatorDeviceCapabilities.parse_obj(
        {
            "braketSchemaHeader": {
                "name": "braket.device_schema.simulators.gate_model_simulator_device_capabilities",
                "version": "1",
            },
            "service": {
                "braketSchemaHeader": {"name": "braket.device_schema.device_service_properties", "version": "1"},
                "executionWindows": [
                    {"executionDay": "Everyday", "windowStartHour": "00:00", "windowEndHour": "23:59:59"}
                ],
                "shotsRange": [0, MAX_SHOTS],
                "deviceCost": {"price": 0.075, "unit": "minute"},
                "deviceDocumentation": {
                    "imageUrl": "",
                    "summary": summary,
                    "externalDocumentationUrl": "https://docs.aws.amazon.com/braket/latest/developerguide/braket-devices.html",
                },
                "deviceLocation": "Local (amazon-braket-default-simulator)",
            },
            "action": {OPENQASM: local.action[DeviceActionType.OPENQASM].dict()},
            "paradigm": local.paradigm.dict(),
            "deviceParameters": local.deviceParameters,
        }
    )
    return json.loads(capabilities.json(exclude_none=True))  # type: ignore[no-any-return]


def managed_simulators() -> dict[str, Device]:
    return {
        SV1: Device(
            SV1,
            "SV1",
            StateVectorSimulator,
            _capabilities(StateVectorSimulator(), "State vector simulator (local amazon-braket-default-simulator)"),
        ),
        DM1: Device(
            DM1,
            "DM1",
            DensityMatrixSimulator,
            _capabilities(DensityMatrixSimulator(), "Density matrix simulator (local amazon-braket-default-simulator)"),
        ),
    }
