"""The devices this service offers: Braket's managed simulators SV1, DM1 and TN1, as Braket advertises them.

Each device document (GetDevice's deviceCapabilities) carries what Braket documents for the device: its
qubit count, shot range, result types with their shot ranges, pragmas and measurement rules (sources in
README "Local mode", and below). The gates and modifiers are the local simulator's, which implements
Braket's gate set. Tasks run on amazon-braket-default-simulator in worker processes: SV1 and TN1 on its
state vector simulator, DM1 on its density matrix simulator, which hold fewer qubits than Braket's
devices (`local_qubits`); a program above that is refused at CreateQuantumTask with a clear reason.

Sources: SV1 34 qubits, result types and their shots: developer guide, braket-simulator-sv1.html and the
SV1 properties printed in braket-submit-tasks-to-braket.html; all-qubit measurement and contiguous indices:
braket-openqasm-device-support.html (SV1's OpenQASM action) and the SDK's integration test
test/integ_tests/test_measure.py; DM1 17 qubits and TN1 50 qubits with shots > 0 and Sample, Expectation,
Variance only: braket-simulator-dm1.html, braket-simulator-tn1.html, braket-result-types.html.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from braket.default_simulator import DensityMatrixSimulator, StateVectorSimulator  # type: ignore[import-untyped]
from braket.device_schema import DeviceActionType  # type: ignore[import-untyped]
from braket.device_schema.simulators import GateModelSimulatorDeviceCapabilities  # type: ignore[import-untyped]

OPENQASM = "braket.ir.openqasm.program"
MAX_SHOTS = 100_000  # SV1 and DM1 device properties: shotsRange [0, 100000]
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1 = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"
TN1 = "arn:aws:braket:::device/quantum-simulator/amazon/tn1"
DOCUMENTATION = "https://docs.aws.amazon.com/braket/latest/developerguide/braket-devices.html"
OBSERVABLES = ["x", "y", "z", "h", "i", "hermitian"]
# Result types that need no state beyond the measurements, by the pragma that asks for them.
RESULT_PRAGMAS = {
    "Sample": "braket_result_type_sample",
    "Expectation": "braket_result_type_expectation",
    "Variance": "braket_result_type_variance",
    "Probability": "braket_result_type_probability",
    "Amplitude": "braket_result_type_amplitude",
    "StateVector": "braket_result_type_state_vector",
    "DensityMatrix": "braket_result_type_density_matrix",
    "AdjointGradient": "braket_result_type_adjoint_gradient",
}
PROBABILITY_MAX_QUBITS = 15  # braket-result-types.html: managed simulators and QPUs, 15 qubits at most
DENSITY_MATRIX_MAX_QUBITS = 8  # braket-result-types.html: reduced density matrix, 8 target qubits at most


def _result_type(name: str, min_shots: int, max_shots: int, observables: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {"name": name, "minShots": min_shots, "maxShots": max_shots}
    if observables:
        answer["observables"] = list(OBSERVABLES)
    return answer


SV1_RESULT_TYPES = [
    _result_type("Sample", 1, MAX_SHOTS, observables=True),
    _result_type("Expectation", 0, MAX_SHOTS, observables=True),
    _result_type("Variance", 0, MAX_SHOTS, observables=True),
    _result_type("Probability", 1, MAX_SHOTS),
    _result_type("Amplitude", 0, 0),
    {**_result_type("AdjointGradient", 0, 0), "observables": ["x", "y", "z", "h", "i"]},
]
DM1_RESULT_TYPES = [
    _result_type("Sample", 1, MAX_SHOTS, observables=True),
    _result_type("Expectation", 0, MAX_SHOTS, observables=True),
    _result_type("Variance", 0, MAX_SHOTS, observables=True),
    _result_type("Probability", 0, MAX_SHOTS),
    _result_type("DensityMatrix", 0, 0),
]
TN1_RESULT_TYPES = [
    _result_type("Sample", 1, MAX_SHOTS, observables=True),
    _result_type("Expectation", 1, MAX_SHOTS, observables=True),
    _result_type("Variance", 1, MAX_SHOTS, observables=True),
]


@dataclass(frozen=True)
class Device:
    arn: str
    name: str
    simulator: str  # "sv" or "dm": the default simulator that runs its tasks (local/braket/simulator_worker.py)
    capabilities: dict[str, Any]  # GateModelSimulatorDeviceCapabilities, as JSON: what Braket advertises
    local_qubits: int  # what the local simulator holds (Braket's device may hold more)

    @property
    def shots_range(self) -> tuple[int, int]:
        low, high = self.capabilities["service"]["shotsRange"]
        return int(low), int(high)

    @property
    def qubit_count(self) -> int:
        return int(self.capabilities["paradigm"]["qubitCount"])

    @property
    def action(self) -> dict[str, Any]:
        return dict(self.capabilities["action"][OPENQASM])

    def result_type(self, name: str) -> dict[str, Any] | None:
        """The device's entry for a result type (Expectation, Probability, ...), None if it has none."""
        return next((rt for rt in self.action["supportedResultTypes"] if rt["name"] == name), None)

    def summary(self) -> dict[str, Any]:
        """DeviceSummary (SearchDevices)."""
        return {
            "deviceArn": self.arn,
            "deviceName": self.name,
            "providerName": "Amazon Braket",
            "deviceType": "SIMULATOR",
            "deviceStatus": "ONLINE",
        }

    def describe(self, queued_tasks: int, priority_tasks: int = 0, queued_jobs: int = 0) -> dict[str, Any]:
        """GetDeviceResponse; hybrid jobs' tasks wait in the Priority queue, the others in Normal; the jobs
        queued for the device in the JOBS_QUEUE."""
        return {
            **self.summary(),
            "deviceCapabilities": json.dumps(self.capabilities),
            "deviceQueueInfo": [
                {"queue": "QUANTUM_TASKS_QUEUE", "queueSize": str(queued_tasks), "queuePriority": "Normal"},
                {"queue": "QUANTUM_TASKS_QUEUE", "queueSize": str(priority_tasks), "queuePriority": "Priority"},
                {"queue": "JOBS_QUEUE", "queueSize": str(queued_jobs)},
            ],
        }


def _capabilities(
    local: Any,
    *,
    summary: str,
    qubits: int,
    shots: tuple[int, int],
    price: float,
    result_types: list[dict[str, Any]],
    noise: bool,
    noise_pragmas: list[str],
) -> dict[str, Any]:
    """A managed simulator's document: Braket's figures, with the gates and modifiers the local simulator runs."""
    properties = local.properties
    own = properties.action[DeviceActionType.OPENQASM]
    supported = {rt["name"] for rt in result_types}
    operations = [op for op in own.supportedOperations if noise or op not in _NOISE_OPERATIONS]
    action = {
        "version": ["1"],
        "actionType": OPENQASM,
        "supportedOperations": operations,
        "supportedModifiers": [json.loads(m.json()) for m in own.supportedModifiers],
        "supportedPragmas": ["braket_unitary_matrix"]
        + [pragma for name, pragma in RESULT_PRAGMAS.items() if name in supported]
        + (noise_pragmas if noise else []),
        "forbiddenPragmas": [pragma for name, pragma in RESULT_PRAGMAS.items() if name not in supported]
        + ([] if noise else noise_pragmas),
        "forbiddenArrayOperations": [],
        "requiresAllQubitsMeasurement": True,
        "supportPhysicalQubits": False,
        "requiresContiguousQubitIndices": True,
        "supportsPartialVerbatimBox": False,
        "supportsUnassignedMeasurements": True,
        "disabledQubitRewiringSupported": False,
        "supportedResultTypes": result_types,
    }
    document = GateModelSimulatorDeviceCapabilities.parse_obj(
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
                "shotsRange": list(shots),
                "deviceCost": {"price": price, "unit": "minute"},
                "deviceDocumentation": {"imageUrl": "", "summary": summary, "externalDocumentationUrl": DOCUMENTATION},
                "deviceLocation": "Amazon Web Services (served locally by amazon-braket-default-simulator)",
            },
            "action": {OPENQASM: action},
            "paradigm": {
                "braketSchemaHeader": {
                    "name": "braket.device_schema.simulators.gate_model_simulator_paradigm_properties",
                    "version": "1",
                },
                "qubitCount": qubits,
            },
            "deviceParameters": properties.deviceParameters,
        }
    )
    return json.loads(document.json(exclude_none=True))  # type: ignore[no-any-return]


_NOISE_OPERATIONS = frozenset(
    {
        "amplitude_damping",
        "bit_flip",
        "depolarizing",
        "generalized_amplitude_damping",
        "kraus",
        "pauli_channel",
        "phase_damping",
        "phase_flip",
        "two_qubit_dephasing",
        "two_qubit_depolarizing",
    }
)


def managed_simulators() -> dict[str, Device]:
    state_vector, density_matrix = StateVectorSimulator(), DensityMatrixSimulator()
    pragmas = density_matrix.properties.action[DeviceActionType.OPENQASM].supportedPragmas
    noise_pragmas = [pragma for pragma in pragmas if pragma.startswith("braket_noise_")]
    sv_qubits = int(state_vector.properties.paradigm.qubitCount)
    dm_qubits = int(density_matrix.properties.paradigm.qubitCount)
    return {
        SV1: Device(
            SV1,
            "SV1",
            "sv",
            _capabilities(
                state_vector,
                summary="Amazon Braket state vector simulator (SV1), up to 34 qubits",
                qubits=34,
                shots=(0, MAX_SHOTS),
                price=0.075,
                result_types=SV1_RESULT_TYPES,
                noise=False,
                noise_pragmas=noise_pragmas,
            ),
            sv_qubits,
        ),
        DM1: Device(
            DM1,
            "DM1",
            "dm",
            _capabilities(
                density_matrix,
                summary="Amazon Braket density matrix simulator (DM1), up to 17 qubits, with noise",
                qubits=17,
                shots=(0, MAX_SHOTS),
                price=0.075,
                result_types=DM1_RESULT_TYPES,
                noise=True,
                noise_pragmas=noise_pragmas,
            ),
            dm_qubits,
        ),
        TN1: Device(
            TN1,
            "TN1",
            "sv",
            _capabilities(
                state_vector,
                summary="Amazon Braket tensor network simulator (TN1), up to 50 qubits, shots > 0",
                qubits=50,
                shots=(1, MAX_SHOTS),
                price=0.275,
                result_types=TN1_RESULT_TYPES,
                noise=False,
                noise_pragmas=noise_pragmas,
            ),
            sv_qubits,
        ),
    }
