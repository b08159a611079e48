"""A task's result: the API's summary (counts, measured qubits, probabilities, the presigned link),
or, with amazon-braket-sdk installed, the SDK's own result object built from results.json."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from braket_tracker.errors import ApiError
from braket_tracker.transport import Transport


@dataclass(frozen=True)
class TaskResult:
    """GET /tasks/{id}/result. `counts` is most frequent first; a FAILED or CANCELLED task has
    no counts and, when failed, its `failure_reason`."""

    task_arn: str
    status: str
    kind: str | None = None
    shots: int | None = None
    measured_qubits: list[int] | None = None
    counts: dict[str, int] | None = None
    probabilities: dict[str, float] | None = None
    results_url: str | None = None
    url_expires_at: str | None = None
    failure_reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> TaskResult:
        return cls(
            task_arn=answer["taskArn"],
            status=answer["status"],
            kind=answer.get("kind"),
            shots=answer.get("shots"),
            measured_qubits=answer.get("measuredQubits"),
            counts=answer.get("counts"),
            probabilities=answer.get("probabilities"),
            results_url=answer.get("resultsUrl"),
            url_expires_at=answer.get("urlExpiresAt"),
            failure_reason=answer.get("failureReason"),
            raw=answer,
        )

    @property
    def measurement_counts(self) -> Counter[str]:
        """As the SDK's GateModelQuantumTaskResult.measurement_counts (empty without counts)."""
        return Counter(self.counts or {})

    @property
    def measurement_probabilities(self) -> dict[str, float]:
        """As the SDK's: the probabilities for shots=0, else the counts' frequencies."""
        if self.probabilities is not None:
            return dict(self.probabilities)
        total = sum((self.counts or {}).values())
        return {bits: count / total for bits, count in (self.counts or {}).items()} if total else {}

    def to_json(self) -> dict[str, Any]:
        return dict(self.raw) if self.raw else {"taskArn": self.task_arn, "status": self.status}


def sdk_available() -> bool:
    return importlib.util.find_spec("braket.tasks") is not None and importlib.util.find_spec("braket.ir") is not None


def download_results(transport: Transport, url: str, timeout: float = 60) -> str:
    """results.json through its presigned GET URL (no signing: the URL is the permission)."""
    response = transport.send("GET", url, {}, None, timeout)
    if response.status != 200:
        raise ApiError(
            f"downloading results.json failed: HTTP {response.status} (the link expires after 5 minutes)",
            status=response.status,
            error="ResultsDownloadFailed",
        )
    return response.body.decode()


def sdk_result(results_json: str) -> Any:
    """The Braket SDK's result object for results.json, as AwsQuantumTask.result() builds it:
    GateModelQuantumTaskResult for gate-model tasks, the matching class for the other kinds."""
    from braket.schema_common import BraketSchemaBase  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
    from braket.task_result import (  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
        AnalogHamiltonianSimulationTaskResult,
        GateModelTaskResult,
    )
    from braket.tasks import (  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
        AnalogHamiltonianSimulationQuantumTaskResult,
        GateModelQuantumTaskResult,
    )

    parsed = BraketSchemaBase.parse_raw_schema(results_json)
    if isinstance(parsed, GateModelTaskResult):
        GateModelQuantumTaskResult.cast_result_types(parsed)
        return GateModelQuantumTaskResult.from_object(parsed)
    if isinstance(parsed, AnalogHamiltonianSimulationTaskResult):
        return AnalogHamiltonianSimulationQuantumTaskResult.from_object(parsed)
    kind = json.loads(results_json).get("braketSchemaHeader", {}).get("name", "unknown")
    raise ValueError(f"no SDK result class for {kind} here: use sdk=False for the summary")
