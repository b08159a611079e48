"""A task's simulation and its results.json, written as Braket writes a GateModelTaskResult.

Runs in a simulator worker process (local/braket/simulator_worker.py). With shots = 0 the result types
carry the simulator's exact values. With shots > 0 Braket's results.json lists every requested result type
with its value computed from the measurements (the schema requires a value: amazon-braket-schemas
`ResultTypeValue`; amazon-braket-sdk's test_result_type_skips_computation_already_populated is modelled on
a DM1 document with shots): the default simulator returns the requested types without values, so their
values are computed here from its measurements, with the SDK's own routine for measured result types
(`GateModelQuantumTaskResult._calculate_result_types`). Adjoint gradients (SV1, shots = 0) come from
local/braket/gradient.py.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
from braket.default_simulator import DensityMatrixSimulator, StateVectorSimulator  # type: ignore[import-untyped]
from braket.device_schema.simulators import GateModelSimulatorDeviceParameters  # type: ignore[import-untyped]
from braket.ir.openqasm import Program  # type: ignore[import-untyped]
from braket.task_result import GateModelTaskResult, ResultTypeValue  # type: ignore[import-untyped]

from local.braket import gradient
from local.braket.models import iso_ms

RESULT_HEADER = {"name": "braket.task_result.gate_model_task_result", "version": "1"}
SIMULATORS = {"sv": StateVectorSimulator, "dm": DensityMatrixSimulator}
_RESULT_PRAGMA = re.compile(r"#pragma[ \t]+braket[ \t]+result[ \t]+(?P<kind>[a-z_]+)")


def simulate(job: dict[str, Any]) -> dict[str, Any]:
    """job: taskArn, deviceArn, simulator ("sv" or "dm"), shots, program ({"source", "inputs"}), createdAt
    (ISO 8601), deviceParameters (the task's, as given). Answers the results.json document."""
    started = time.perf_counter()
    program, shots = job["program"], int(job["shots"])
    simulator = SIMULATORS[job["simulator"]]()
    requests = gradient.requests(program["source"])
    document: dict[str, Any] = {"braketSchemaHeader": RESULT_HEADER}
    if requests:
        document["resultTypes"] = _with_gradients(simulator, program, requests)
    else:
        result = simulator.run_openqasm(runnable(program), shots=shots)
        measurements = [[int(bit) for bit in shot] for shot in result.measurements or []]
        if shots and measurements:
            document["measurements"] = measurements
        if result.measuredQubits:
            document["measuredQubits"] = [int(q) for q in result.measuredQubits]
        result_types = _result_types(result, shots, measurements)
        if result_types:
            document["resultTypes"] = result_types
        if getattr(result, "outputs", None):
            document["outputs"] = plain(result.outputs)
    metadata: dict[str, Any] = {
        "braketSchemaHeader": {"name": "braket.task_result.task_metadata", "version": "1"},
        "id": job["taskArn"],
        "shots": shots,
        "deviceId": job["deviceArn"],
        "createdAt": job["createdAt"],
        "endedAt": iso_ms(datetime.now(UTC)),
        "status": "COMPLETED",
    }
    parameters = _device_parameters(job["deviceParameters"])
    if parameters is not None:
        metadata["deviceParameters"] = parameters
    document["taskMetadata"] = metadata
    document["additionalMetadata"] = {
        "action": program,
        "simulatorMetadata": {
            "braketSchemaHeader": {"name": "braket.task_result.simulator_metadata", "version": "1"},
            "executionDuration": int((time.perf_counter() - started) * 1000),
        },
    }
    GateModelTaskResult.parse_obj(document)
    return document


def _result_types(result: Any, shots: int, measurements: list[list[int]]) -> list[dict[str, Any]]:
    requested = list(result.resultTypes or [])
    if not requested:
        return []
    if isinstance(requested[0], ResultTypeValue):  # shots = 0: exact values
        return [_value(rt.type, rt.value) for rt in requested]
    from braket.tasks import GateModelQuantumTaskResult  # type: ignore[import-untyped]  # noqa: PLC0415 (the SDK: loaded once per worker, when needed)

    computed = GateModelQuantumTaskResult._calculate_result_types(
        json.dumps({"results": [rt.dict() for rt in requested]}),
        np.asarray(measurements, dtype=int),
        list(result.measuredQubits),
    )
    return [_value(rt.type, rt.value) for rt in computed]


def _value(kind: Any, value: Any) -> dict[str, Any]:
    return {"type": json.loads(kind.json(exclude_none=True)), "value": plain(value)}


def _with_gradients(simulator: Any, program: dict[str, Any], requests: list[gradient.GradientRequest]) -> list[Any]:
    """Result types of a program with adjoint gradients (shots = 0), in the order its pragmas are written."""
    inputs = dict(program.get("inputs") or {})
    source = gradient.without_gradients(program["source"])
    others: list[dict[str, Any]] = []
    if any(m["kind"] != "adjoint_gradient" for m in _RESULT_PRAGMA.finditer(program["source"])):
        result = simulator.run_openqasm(runnable({"source": source, "inputs": inputs}), shots=0)
        others = [_value(rt.type, rt.value) for rt in result.resultTypes or []]
    computed = []
    for request in requests:
        names = list(request.parameters or inputs)
        missing = [name for name in names if name not in inputs]
        if missing:
            raise gradient.GradientError(f"adjoint_gradient: parameters {missing} have no value in the inputs")
        fixed = {k: v for k, v in inputs.items() if k not in names}
        context = simulator.parse_program(runnable({"source": source, "inputs": fixed}))
        qubit, count = qubit_resolver(context)
        value = gradient.compute(
            context.circuit.instructions,
            qubit_count=count,
            request=request,
            qubit=qubit,
            values=inputs,
            parameters=names,
        )
        computed.append({"type": gradient.result_type(request, qubit, names), "value": value})
    ordered, gradients = [], iter(computed)
    remaining = iter(others)
    for found in _RESULT_PRAGMA.finditer(program["source"]):
        ordered.append(next(gradients) if found["kind"] == "adjoint_gradient" else next(remaining, None))
    return [item for item in ordered if item is not None]


def qubit_resolver(context: Any) -> tuple[Any, int]:
    """How a program names its qubits (`q[1]`, `a`, `$2`) -> their indices, and how many it declares."""
    names: dict[str, int] = {}
    for register, mapped in context.qubit_mapping.items():
        indices = (mapped,) if isinstance(mapped, int) else tuple(mapped)
        for position, index in enumerate(indices):
            names[f"{register}[{position}]"] = int(index)
        if len(indices) == 1:
            names[register] = int(indices[0])
    used = set(context.circuit.qubit_set)
    count = max([*names.values(), *used, -1]) + 1

    def qubit(name: str) -> int:
        if name.startswith("$") and name[1:].isdigit():
            return int(name[1:])
        if name not in names:
            raise gradient.GradientError(f"adjoint_gradient: the program declares no qubit {name}")
        return names[name]

    return qubit, count


def runnable(program: dict[str, Any]) -> Any:
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
