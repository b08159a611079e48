"""Mapping the domain to the API's answers: a task is shown as its item, with JSON numbers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tracker.api.models import QueueInfo, TaskResult, TaskView
from tracker.api.service import ResultAnswer
from tracker.domain import TaskRecord
from tracker.models.item import to_item

_FIELDS = frozenset(TaskView.model_fields) - {"queueInfo"}


def task_view(record: TaskRecord, queue_info: dict[str, Any] | None = None) -> TaskView:
    item = to_item(record)
    fields = {name: _plain(value) for name, value in item.items() if name in _FIELDS}
    if record.cost_usd is not None:
        fields["costUsd"] = f"{record.cost_usd.normalize():f}"  # money stays exact: a decimal string
    view = TaskView.model_validate(fields)
    if queue_info is not None:
        view.queueInfo = QueueInfo.model_validate({k: v for k, v in queue_info.items() if k in QueueInfo.model_fields})
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
