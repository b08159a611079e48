"""OpenQASM actions: checked when a task is created, run on the default simulator, written as GateModelTaskResult."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from braket.device_schema.simulators import GateModelSimulatorDeviceParameters  # type: ignore[import-untyped]
from braket.ir.openqasm import Program  # type: ignore[import-untyped]
from braket.task_result import GateModelTaskResult, ResultTypeValue  # type: ignore[import-untyped]

from local.braket.devices import OPENQASM, Device
from local.braket.errors import ValidationException
from local.braket.models import COMPLETED, Task, iso_ms

RESULT_HEADER = {"name": "braket.task_result.gate_model_task_result", "version": "1"}


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


def check_program(program: dict[str, Any], device: Device) -> int:
    """Parse the program as the device's simulator would; the number of qubits it uses."""
    try:
        context = device.simulator().parse_program(_runnable(program))
        qubits = int(context.circuit.num_qubits)
    except Exception as exc:  # the interpreter raises many types for a bad program
        raise ValidationException(f"Failed to parse the OpenQASM program: {describe(exc)}") from exc
    if qubits > device.qubit_count:
        raise ValidationException(
            f"The program uses {qubits} qubits; {device.name} supports at most {device.qubit_count}"
        )
    return qubits


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


def run(task: Task, device: Device, ended_at: datetime | None = None) -> dict[str, Any]:
    """Simulate the task's program; its results.json document, checked against GateModelTaskResult."""
    started = time.perf_counter()
    result = device.simulator().run_openqasm(_runnable(task.program), shots=task.shots)
    duration_ms = int((time.perf_counter() - started) * 1000)
    metadata: dict[str, Any] = {
        "braketSchemaHeader": {"name": "braket.task_result.task_metadata", "version": "1"},
        "id": task.arn,
        "shots": task.shots,
        "deviceId": task.device_arn,
        "createdAt": iso_ms(task.created_at),
        "endedAt": iso_ms(ended_at or datetime.now(task.created_at.tzinfo)),
        "status": COMPLETED,
    }
    parameters = _device_parameters(task.device_parameters)
    if parameters is not None:
        metadata["deviceParameters"] = parameters
    document: dict[str, Any] = {"braketSchemaHeader": RESULT_HEADER}
    if task.shots and result.measurements:
        document["measurements"] = [[int(bit) for bit in shot] for shot in result.measurements]
    if result.measuredQubits:
        document["measuredQubits"] = [int(q) for q in result.measuredQubits]
    values = [rt for rt in result.resultTypes or [] if isinstance(rt, ResultTypeValue)]
    if values:
        document["resultTypes"] = [
            {"type": json.loads(rt.type.json(exclude_none=True)), "value": plain(rt.value)} for rt in values
        ]
    if getattr(result, "outputs", None):
        document["outputs"] = plain(result.outputs)
    document["taskMetadata"] = metadata
    document["additionalMetadata"] = {
        "action": task.program,
        "simulatorMetadata": {
            "braketSchemaHeader": {"name": "braket.task_result.simulator_metadata", "version": "1"},
            "executionDuration": duration_ms,
        },
    }
    GateModelTaskResult.parse_obj(document)
    return document


def _runnable(program: dict[str, Any]) -> Any:
    """The program as the simulator takes it; a source ending in '.qasm' would be read as a file path."""
    source = program["source"]
    return Program(source=source + "\n" if source.endswith(".qasm") else source, inputs=program.get("inputs"))


def _device_parameters(raw: str) -> dict[str, Any] | None:
    try:
        return json.loads(GateModelSimulatorDeviceParameters.parse_raw(raw).json(exclude_none=True))  # type: ignore[no-any-return]
    except ValueError:
        return None


def plain(value: Any) -> Any:
    """Numbers, lists and dicts only: numpy arrays to lists, complex numbers to [real, imaginary]."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, complex):
        return [value.real, value.imag]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


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
