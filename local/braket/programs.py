"""CreateQuantumTask's checks of an OpenQASM action against the device: what Braket refuses, refused here.

The program is parsed with the default simulator's interpreter (adjoint gradient pragmas with
local/braket/gradient.py), then checked against the device document (local/braket/devices.py): its qubit
count (Braket's, then the local simulator's), each result type and its shot range, the all-qubit
measurement rule, and the simulator's own checks of gates, inputs and result types. Every refusal is a
ValidationException with a reason; a program that passes runs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from braket.default_simulator.simulator import BaseLocalSimulator  # type: ignore[import-untyped]
from braket.device_schema import DeviceActionType  # type: ignore[import-untyped]
from braket.ir.openqasm import Program  # type: ignore[import-untyped]

from local.braket import gradient
from local.braket.devices import DENSITY_MATRIX_MAX_QUBITS, OPENQASM, PROBABILITY_MAX_QUBITS, Device
from local.braket.errors import ValidationException
from local.braket.results import SIMULATORS, qubit_resolver, runnable

# Braket's answer to a program that does not measure every qubit (amazon-braket-sdk
# test/integ_tests/test_measure.py::test_unsupported_devices, SV1).
PARTIAL_MEASUREMENT = (
    "Device requires all qubits in the program to be measured. "
    "This may be caused by declaring non-contiguous qubits or measuring partial qubits"
)
_NOISE_PRAGMA = re.compile(r"#pragma[ \t]+braket[ \t]+noise[ \t]+(?P<name>[a-z_]+)")
_RESULT_NAMES = {
    "expectation": "Expectation",
    "sample": "Sample",
    "variance": "Variance",
    "probability": "Probability",
    "amplitude": "Amplitude",
    "statevector": "StateVector",
    "densitymatrix": "DensityMatrix",
}


def parse_action(action: str, device: Device) -> dict[str, Any]:
    """The action as an OpenQASM program document, or a ValidationException saying why not."""
    try:
        document = json.loads(action)
    except json.JSONDecodeError as exc:
        raise ValidationException(f"The action is not valid JSON: {exc}") from exc
    header = document.get("braketSchemaHeader") if isinstance(document, dict) else None
    name = header.get("name") if isinstance(header, dict) else None
    if name != OPENQASM:
        raise ValidationException(
            f"Action type {name or '(missing braketSchemaHeader)'} is not supported by {device.arn}; "
            f"supported: {OPENQASM} version 1"
        )
    try:
        program = Program.parse_obj(document)
    except ValueError as exc:
        raise ValidationException(f"The action is not a valid {OPENQASM} document: {exc}") from exc
    return json.loads(program.json(exclude_none=True))  # type: ignore[no-any-return]


def check_program(program: dict[str, Any], device: Device, shots: int) -> int:
    """Parse the program as the device's simulator would and check it against the device: the qubits it uses."""
    simulator = SIMULATORS[device.simulator]()
    try:
        requests = gradient.requests(program["source"])
        stripped = {**program, "source": gradient.without_gradients(program["source"])}
        context = simulator.parse_program(runnable(stripped))
    except Exception as exc:  # the interpreter raises many types for a bad program
        raise ValidationException(f"Failed to parse the OpenQASM program: {describe(exc)}") from exc
    circuit = context.circuit
    _, declared = qubit_resolver(context)
    qubits = max(declared, int(circuit.num_qubits))
    if qubits > device.qubit_count:
        raise ValidationException(
            f"The program uses {qubits} qubits; {device.name} supports at most {device.qubit_count}"
        )
    if qubits > device.local_qubits:
        raise ValidationException(
            f"The program uses {qubits} qubits; {device.name} in local mode simulates at most {device.local_qubits} "
            f"(amazon-braket-default-simulator), fewer than Braket's {device.name} ({device.qubit_count})"
        )
    forbidden = set(device.action.get("forbiddenPragmas") or ())
    for found in _NOISE_PRAGMA.finditer(program["source"]):
        if f"braket_noise_{found['name']}" in forbidden:
            raise ValidationException(
                f"Noise pragmas (braket_noise_{found['name']}) are not supported by {device.name}: noise runs on DM1"
            )
    names = [_RESULT_NAMES.get(str(rt.type.value).replace("_", ""), str(rt.type.value)) for rt in circuit.results]
    for name in names + ["AdjointGradient"] * len(requests):
        _check_result_type(device, name, shots)
    for result in circuit.results:
        _check_result_size(result, qubits)
    if requests:
        _check_gradients(requests, context, program)
    measured = set(circuit.measured_qubits)
    if device.action.get("requiresAllQubitsMeasurement") and measured and measured != _all_qubits(declared, circuit):
        raise ValidationException(PARTIAL_MEASUREMENT)
    try:
        simulator._validate_ir_results_compatibility(circuit.results, device_action_type=DeviceActionType.OPENQASM)
        simulator._validate_ir_instructions_compatibility(circuit, device_action_type=DeviceActionType.OPENQASM)
        simulator._validate_input_provided(circuit)
        if not requests:
            BaseLocalSimulator._validate_shots_and_ir_results(shots, circuit.results, qubits)
    except (TypeError, ValueError, NameError) as exc:
        raise ValidationException(f"The program cannot run on {device.name}: {describe(exc)}") from exc
    return qubits


def _all_qubits(declared: int, circuit: Any) -> set[int]:
    return set(range(declared)) | set(circuit.qubit_set)


def _check_result_type(device: Device, name: str, shots: int) -> None:
    supported = device.result_type(name)
    if supported is None:
        offered = ", ".join(rt["name"] for rt in device.action["supportedResultTypes"])
        raise ValidationException(f"Result type {name} is not supported by {device.name}; supported: {offered}")
    low, high = int(supported["minShots"]), int(supported["maxShots"])
    if not low <= shots <= high:
        allowed = f"shots = {low}" if low == high else f"shots from {low} to {high}"
        raise ValidationException(f"Result type {name} on {device.name} needs {allowed}, not shots = {shots}")


def _check_result_size(result: Any, qubits: int) -> None:
    kind = str(result.type.value)
    targets = getattr(result, "targets", None)
    size = len(targets) if targets else qubits
    if kind == "probability" and size > PROBABILITY_MAX_QUBITS:
        raise ValidationException(
            f"Probability on {size} qubits: managed simulators return probabilities of at most "
            f"{PROBABILITY_MAX_QUBITS} qubits; name the targets"
        )
    if kind == "densitymatrix" and size > DENSITY_MATRIX_MAX_QUBITS:
        raise ValidationException(
            f"Density matrix of {size} qubits: Braket returns reduced density matrices of at most "
            f"{DENSITY_MATRIX_MAX_QUBITS} target qubits"
        )


def _check_gradients(requests: list[gradient.GradientRequest], context: Any, program: dict[str, Any]) -> None:
    inputs = set(program.get("inputs") or {})
    qubit, _ = qubit_resolver(context)
    for request in requests:
        missing = [name for name in request.parameters or () if name not in inputs]
        if missing:
            raise ValidationException(f"adjoint_gradient: parameters {missing} have no value in the inputs")
        try:
            gradient.targets(request, qubit)
        except gradient.GradientError as exc:
            raise ValidationException(str(exc)) from exc


def device_parameters(raw: str | None, qubits: int) -> str:
    """As given (it must be JSON), or what the SDK sends for a circuit on a simulator."""
    if raw is None:
        return json.dumps(
            {
                "braketSchemaHeader": {
                    "name": "braket.device_schema.simulators.gate_model_simulator_device_parameters",
                    "version": "1",
                },
                "paradigmParameters": {
                    "braketSchemaHeader": {"name": "braket.device_schema.gate_model_parameters", "version": "1"},
                    "qubitCount": qubits,
                    "disableQubitRewiring": False,
                },
            }
        )
    try:
        json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValidationException(f"deviceParameters is not valid JSON: {exc}") from exc
    return raw


def describe(exc: BaseException) -> str:
    """A readable reason, also for the OpenQASM parser's errors that carry no message."""
    text = str(exc)
    if text:
        return text
    cause = exc.__cause__
    recognition = cause.args[0] if cause is not None and cause.args else cause
    token = getattr(recognition, "offendingToken", None)
    if token is not None:
        return f"syntax error at line {token.line}, column {token.column} near {token.text!r}"
    return f"{type(exc).__name__} (syntax error)"
