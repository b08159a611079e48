"""Mapping the domain to the API's answers: a task is shown as its item, with JSON numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tracker.api.models import QueueInfo, TaskResult, TaskView
from tracker.api.service import QueueAnswer, ResultAnswer
from tracker.domain import TaskRecord
from tracker.models.item import to_item

_QUEUE_FIELDS = frozenset({"queueInfo", "queueInfoReadAt"})
_FIELDS = frozenset(TaskView.model_fields) - _QUEUE_FIELDS
_SUMMARY_FIELDS = _FIELDS - {"deviceParameters"}


def task_view(record: TaskRecord, queue: QueueAnswer | None = None, *, summary: bool = False) -> TaskView:
    """The task as its item shows it. A listing's `summary` leaves out deviceParameters (up to 48 KB
    each, as Braket's SearchQuantumTasks does); the queue position only when asked for."""
    fields = _SUMMARY_FIELDS if summary else _FIELDS
    item = to_item(record)
    values = {name: _plain(value) for name, value in item.items() if name in fields}
    if record.cost_usd is not None:
        values["costUsd"] = f"{record.cost_usd.normalize():f}"  # money stays exact: a decimal string
    view = TaskView.model_validate(values)
    if queue is not None:
        info = {key: value for key, value in queue.info.items() if key in QueueInfo.model_fields}
        view.queueInfo = QueueInfo.model_validate(info)
        view.queueInfoReadAt = queue.read_at
    return view


def task_result(answer: ResultAnswer) -> TaskResult:
    record, summary = answer.record, answer.summary
    failure = record.enrichment.failure_reason if record.enrichment else None
    return TaskResult(
        taskArn=record.task.arn,
        status=record.status.value,
        kind=summary.kind if summary else None,
        shots=summary.shots if summary and summary.shots is not None else record.shots,
        measuredQubits=summary.measured_qubits if summary else None,
        counts=summary.counts if summary else None,
        probabilities=summary.probabilities if summary else None,
        resultsUrl=answer.url,
        urlExpiresAt=answer.url_expires_at,
        failureReason=failure,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
