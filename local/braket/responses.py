"""Tasks as the API answers them: QuantumTaskSummary, GetQuantumTaskResponse, QuantumTaskQueueInfo."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from local.braket.devices import OPENQASM
from local.braket.models import COMPLETED, QUEUED, Task, iso_ms


def summary(task: Task) -> dict[str, Any]:
    """QuantumTaskSummary (SearchQuantumTasks)."""
    answer: dict[str, Any] = {
        "quantumTaskArn": task.arn,
        "status": task.status,
        "deviceArn": task.device_arn,
        "shots": task.shots,
        "outputS3Bucket": task.output_bucket,
        "outputS3Directory": task.output_directory,
        "createdAt": iso_ms(task.created_at),
        "tags": dict(task.tags),
    }
    if task.ended_at is not None:
        answer["endedAt"] = iso_ms(task.ended_at)
    return answer


def quantum_task(task: Task, queue: Iterable[Task] | None) -> dict[str, Any]:
    """GetQuantumTaskResponse; with queueInfo when the caller asked for it (then `queue` is every task)."""
    answer = summary(task)
    optional = {
        "deviceParameters": task.device_parameters,
        "actionMetadata": {"actionType": OPENQASM},
        "failureReason": task.failure_reason,
        "jobArn": task.job_arn,
        "associations": task.associations or None,
        "experimentalCapabilities": task.experimental_capabilities,
        "numSuccessfulShots": task.shots if task.status == COMPLETED else None,
    }
    answer.update({k: v for k, v in optional.items() if v is not None})
    if queue is not None:
        answer["queueInfo"] = queue_info(task, queue)
    return answer


def queue_info(task: Task, tasks: Iterable[Task]) -> dict[str, str]:
    """Position among the QUEUED tasks of the same device and Region. Once not queued, the position is the
    string "None" (the model requires it; the SDK's queue_position() maps "None" to None) and a message.
    A hybrid job's tasks have their own queue, Priority, ahead of the Normal one."""
    info = {"queue": "QUANTUM_TASKS_QUEUE", "queuePriority": priority(task)}
    if task.status != QUEUED:
        message = f"Task is in {task.status} status. AmazonBraket does not show queue position for this status."
        return {**info, "position": "None", "message": message}
    ahead = sum(
        other.status == QUEUED
        and other.device_arn == task.device_arn
        and other.region == task.region
        and priority(other) == info["queuePriority"]
        and (other.created_at, other.arn) < (task.created_at, task.arn)
        for other in tasks
    )
    return {**info, "position": str(ahead + 1)}


def priority(task: Task) -> str:
    """The queue a task waits in: Priority for a hybrid job's tasks, Normal for the others."""
    return "Priority" if task.job_arn is not None else "Normal"
