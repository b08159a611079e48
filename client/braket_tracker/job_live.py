"""Following hybrid jobs on the live channel: `subscribeJobs` on the same WebSocket as task subscriptions
(README, "Live updates"), and the job documents it pushes, kept as the protocol asks: deduplicated by
`notificationId`, each job's highest status, a finished status final unless a correction comes. With
`include_tasks`, the job's tasks are pushed as task messages (the channel's `states` keeps them).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from braket_tracker.errors import LiveChannelUnavailable
from braket_tracker.live import LiveChannel, TaskUpdate

log = logging.getLogger("braket_tracker")

JOB_RANK = {"QUEUED": 0, "RUNNING": 1, "CANCELLING": 2, "COMPLETED": 3, "FAILED": 3, "CANCELLED": 3}
JOB_FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
MAX_JOBS_PER_MESSAGE = 20


@dataclass(frozen=True)
class JobUpdate(TaskUpdate):
    """A job's new status (its ARN in `task_arn`, as `job_arn`): from a push, a snapshot, or an API read."""

    @property
    def job_arn(self) -> str:
        return self.task_arn

    @property
    def finished(self) -> bool:
        return self.status in JOB_FINISHED


class JobStates:
    def __init__(self) -> None:
        self._seen: set[str] = set()
        self.latest: dict[str, JobUpdate] = {}

    def accept(self, document: dict[str, Any], source: str) -> JobUpdate | None:
        arn, status = document.get("jobArn"), document.get("status")
        if not isinstance(arn, str) or status not in JOB_RANK:
            return None
        notification_id = document.get("notificationId") or f"{arn}#{status}"
        if notification_id in self._seen:
            return None
        self._seen.add(notification_id)
        current = self.latest.get(arn)
        if current is not None:
            corrects = status in JOB_FINISHED and document.get("correction") is True and status != current.status
            if not corrects and (current.finished or JOB_RANK[status] <= JOB_RANK[current.status]):
                return None
        update = JobUpdate(arn, str(status), document, source)
        self.latest[arn] = update
        return update


class JobChannel(LiveChannel):
    """A LiveChannel that also follows jobs: `subscribe_jobs([arn], include_tasks=True)`; `updates()` yields
    JobUpdate for a job, TaskUpdate for a task."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jobs: list[str] = []
        self.include_tasks = False
        self.job_states = JobStates()

    def subscribe_jobs(self, jobs: Iterable[str], *, include_tasks: bool = False) -> None:
        with self._send_lock:
            new = [arn for arn in dict.fromkeys(jobs) if arn not in self.jobs]
            self.jobs.extend(new)
            self.include_tasks = self.include_tasks or include_tasks
            if new:
                self._send_jobs(new)

    def unsubscribe_jobs(self, jobs: Iterable[str]) -> None:
        with self._send_lock:
            gone = [arn for arn in dict.fromkeys(jobs) if arn in self.jobs]
            self.jobs = [arn for arn in self.jobs if arn not in set(gone)]
            for start in range(0, len(gone), MAX_JOBS_PER_MESSAGE):
                self._request += 1
                self._send({"action": "unsubscribeJobs", "jobs": gone[start : start + MAX_JOBS_PER_MESSAGE]})

    def _send_subscriptions(self, tasks: list[str] | None = None, *, mine: bool | None = None) -> None:
        super()._send_subscriptions(tasks, mine=mine)
        if tasks is None and self.jobs:  # a resubscription (after a reconnect or a quiet spell): jobs too
            self._send_jobs(list(self.jobs))

    def _send_jobs(self, jobs: list[str]) -> None:
        for start in range(0, len(jobs), MAX_JOBS_PER_MESSAGE):
            self._request += 1
            message = {
                "action": "subscribeJobs",
                "jobs": jobs[start : start + MAX_JOBS_PER_MESSAGE],
                "includeTasks": self.include_tasks,
                "id": f"j{self._request}",
            }
            self._send(message)

    def _handle(self, raw: str | bytes) -> TaskUpdate | None:
        try:
            message = json.loads(raw)
        except ValueError:
            return super()._handle(raw)
        if isinstance(message, dict) and message.get("type") == "job" and isinstance(message.get("document"), dict):
            return self.job_states.accept(message["document"], "snapshot" if message.get("snapshot") else "push")
        if isinstance(message, dict) and message.get("type") == "subscribedJobs":
            unknown = message.get("unknownJobs") or []
            if unknown:
                log.info("live channel: jobs not recorded (yet): %s", ", ".join(map(str, unknown)))
            return None
        if isinstance(message, dict) and message.get("type") in ("unsubscribedJobs",):
            return None
        return super()._handle(raw)


def job_channel(client: Any) -> JobChannel:
    """A job channel to this tracker (not yet open): LiveChannelUnavailable without a URL."""
    channel = client.live_channel()  # the same URL, credentials and settings as the task channel
    if not channel.url:
        raise LiveChannelUnavailable("this tracker has no live-updates URL")
    return JobChannel(
        channel.url,
        channel.region,
        channel.session,
        connector=channel.connector,
        unknown_grace=channel.unknown_grace,
        clock=channel.clock,
        sleep=channel.sleep,
    )
