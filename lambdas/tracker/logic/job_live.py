"""Live updates for hybrid jobs, pure: the two WebSocket actions a program sends to follow jobs, what the
server answers and pushes, and the connections table's targets (the task protocol is logic/live.py).

Client -> server (on the same WebSocket connection as task subscriptions):
    {"action": "subscribeJobs", "jobs": ["arn:aws:braket:...:job/..."], "includeTasks": true, "id": "j1"}
    {"action": "unsubscribeJobs", "jobs": [...], "id": "j2"}
`includeTasks` (default false) also follows the jobs' tasks: each status change of a task the job
created is pushed as a task message (`{"type": "task", ...}`, as for a task subscription).

Server -> client:
    {"type": "subscribedJobs", "id": "j1", "jobs": [...], "includeTasks": true, "unknownJobs": [...],
     "snapshot": {"jobs": 1, "tasks": 12, "tasksTruncated": false}}
    {"type": "unsubscribedJobs", "id": "j2", "jobs": [...]}
    {"type": "job", "snapshot": false, "document": {<the job notification's document>}}
    {"type": "error", "id": "j1", "code": "BadRequest", "message": "..."}
A job's finished status is final unless a correction comes (`"correction": true`), as for tasks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tracker.job_domain import JobArn, JobRecord, JobStatus
from tracker.logic.job_notification import document
from tracker.logic.live import MAX_ID_LENGTH, BadRequest

JOB_TARGET = "job#"
JOB_TASKS_TARGET = "jobtasks#"
ACTIONS = ("subscribeJobs", "unsubscribeJobs")
MAX_JOBS_PER_REQUEST = 20
MAX_JOB_SUBSCRIPTIONS = 100
"""Job subscriptions (a job, or a job's tasks) one connection may hold."""
TASK_SNAPSHOT_LIMIT = 100
"""With includeTasks, the snapshot holds each job's most recently created tasks, at most this many."""


@dataclass(frozen=True)
class JobRequest:
    action: str
    jobs: tuple[str, ...]
    include_tasks: bool
    request_id: str | None

    def targets(self) -> list[str]:
        found = [job_target(arn) for arn in self.jobs]
        if self.include_tasks or self.action == "unsubscribeJobs":  # unsubscribing drops both
            found += [job_tasks_target(arn) for arn in self.jobs]
        return found


def job_target(job_arn: str) -> str:
    return JOB_TARGET + job_arn


def job_tasks_target(job_arn: str) -> str:
    return JOB_TASKS_TARGET + job_arn


def parse_request(body: str | None) -> JobRequest:
    try:
        message = json.loads(body or "")
    except (ValueError, RecursionError):
        raise BadRequest("the message is not JSON") from None
    if not isinstance(message, dict):
        raise BadRequest("the message must be a JSON object")
    request_id = message.get("id")
    if request_id is not None and (not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_ID_LENGTH):
        raise BadRequest(f"id must be a string of 1 to {MAX_ID_LENGTH} characters")
    action = message.get("action")
    if action not in ACTIONS:
        raise BadRequest(f"unknown action {action!r}; job actions: {', '.join(ACTIONS)}", request_id, "UnknownAction")
    unknown = sorted(set(message) - {"action", "jobs", "includeTasks", "id"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", request_id)
    jobs, include = message.get("jobs"), message.get("includeTasks", False)
    if not isinstance(include, bool):
        raise BadRequest("includeTasks must be true or false", request_id)
    if not isinstance(jobs, list) or not jobs or not all(isinstance(arn, str) for arn in jobs):
        raise BadRequest("jobs must be a non-empty list of hybrid job ARNs", request_id)
    if len(jobs) > MAX_JOBS_PER_REQUEST:
        raise BadRequest(f"at most {MAX_JOBS_PER_REQUEST} jobs per message; send several messages", request_id)
    for arn in jobs:
        try:
            JobArn.parse(arn)
        except ValueError as exc:
            raise BadRequest(str(exc), request_id) from None
    return JobRequest(action, tuple(dict.fromkeys(jobs)), include, request_id)


def push(record: JobRecord, snapshot: bool, corrects: JobStatus | None = None) -> str:
    return _encode({"type": "job", "snapshot": snapshot, "document": document(record, corrects)})


def subscribed(request: JobRequest, unknown: Iterable[str], jobs: int, tasks: int, truncated: bool) -> str:
    return _encode(
        {
            "type": "subscribedJobs",
            "id": request.request_id,
            "jobs": list(request.jobs),
            "includeTasks": request.include_tasks,
            "unknownJobs": list(unknown),
            "snapshot": {"jobs": jobs, "tasks": tasks, "tasksTruncated": truncated},
        }
    )


def unsubscribed(request: JobRequest) -> str:
    return _encode({"type": "unsubscribedJobs", "id": request.request_id, "jobs": list(request.jobs)})


def job_status_changed(event_name: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    if new is None or "status" not in new:
        return False
    return event_name == "INSERT" or (event_name == "MODIFY" and (old or {}).get("status") != new["status"])


def _encode(message: dict[str, Any]) -> str:
    return json.dumps(message, sort_keys=True, separators=(",", ":"))
