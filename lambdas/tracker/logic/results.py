"""Reading Braket's results.json: counts for gate-model tasks, probabilities for exact ones.

The document is Braket's task result schema (braketSchemaHeader names its kind). Gate-model
results carry `measurements` (one list of bits per shot) or `measurementProbabilities`; exact
(shots = 0) results carry result types, whose `probability` values are indexed by basis state.
Other kinds (analog Hamiltonian simulation, program sets) are reported by kind, with the link.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

GATE_MODEL = "braket.task_result.gate_model_task_result"
KINDS = {
    GATE_MODEL: "gate-model",
    "braket.task_result.analog_hamiltonian_simulation_task_result": "analog-hamiltonian-simulation",
    "braket.task_result.program_set_task_result": "program-set",
    "braket.task_result.annealing_task_result": "annealing",
    "braket.task_result.photonic_model_task_result": "photonic-model",
}
MAX_DISTINCT_OUTCOMES = 65_536
"""Beyond this many distinct bitstrings the answer would near Lambda's 6 MB limit: link only."""


class UnreadableResult(ValueError):
    """results.json is not a task result document that this API understands."""


@dataclass(frozen=True)
class ResultSummary:
    kind: str
    shots: int | None = None
    measured_qubits: list[int] | None = None
    counts: dict[str, int] | None = None
    probabilities: dict[str, float] | None = None


def summarize(document: Any) -> ResultSummary:
    if not isinstance(document, dict):
        raise UnreadableResult("results.json is not a JSON object")
    header = document.get("braketSchemaHeader")
    name = header.get("name") if isinstance(header, dict) else None
    if not isinstance(name, str):
        raise UnreadableResult("results.json has no braketSchemaHeader.name")
    kind = KINDS.get(name, name.rsplit(".", 1)[-1].replace("_", "-"))
    metadata = document.get("taskMetadata")
    shots = metadata.get("shots") if isinstance(metadata, dict) else None
    shots = shots if isinstance(shots, int) else None
    if name != GATE_MODEL:
        return ResultSummary(kind, shots)
    qubits = document.get("measuredQubits")
    measured = [int(q) for q in qubits] if isinstance(qubits, list) else None
    if document.get("measurements"):
        counts = _counts(document["measurements"])
        return ResultSummary(kind, shots, measured, counts=counts if len(counts) <= MAX_DISTINCT_OUTCOMES else None)
    if isinstance(document.get("measurementProbabilities"), dict):
        probabilities = {str(k): float(v) for k, v in document["measurementProbabilities"].items()}
        return ResultSummary(kind, shots, measured, probabilities=probabilities)
    return ResultSummary(kind, shots, measured, probabilities=_exact_probabilities(document, measured))


def _counts(measurements: Any) -> dict[str, int]:
    if not isinstance(measurements, list) or not all(isinstance(shot, list) for shot in measurements):
        raise UnreadableResult("measurements is not a list of shots")
    return dict(Counter("".join(str(int(bit)) for bit in shot) for shot in measurements).most_common())


def _exact_probabilities(document: dict[str, Any], measured: list[int] | None) -> dict[str, float] | None:
    """The first `probability` result type over all measured qubits (or with no targets)."""
    for result_type in document.get("resultTypes") or []:
        kind = result_type.get("type", {}) if isinstance(result_type, dict) else {}
        if kind.get("type") != "probability" or not isinstance(result_type.get("value"), list):
            continue
        targets = kind.get("targets")
        if targets and measured and sorted(targets) != sorted(measured):
            continue
        values = result_type["value"]
        width = max(1, (len(values) - 1).bit_length())
        return {format(i, f"0{width}b"): float(p) for i, p in enumerate(values) if p}
    return None
