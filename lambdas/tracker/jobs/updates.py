"""The job side of the two tables' streams:
- the jobs table's (the job-updates function): each status change of a job is pushed to the connections
  following it;
- the task table's, read by the live-updates pusher (a stream serves two readers per shard without
  throttling, and the notifier and the pusher are the task table's two): link a job's task as soon as it
  is recorded (one GetQuantumTask, under a rate limit of its own), count its end in its job
  (logic/ends.py through logic/job_tasks.py; once, by the task's ledger), and push its status changes to
  the connections following the job's tasks. Nothing here waits on Braket: a link that fails is left to
  the task's end (Braket's details name its job then), and a job not recorded yet is recorded from its
  task (it was RUNNING when it created it), for the reconciler and the job's own events to complete.
A failure of DynamoDB or @connections raises: the stream retries the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tracker.constants import OBSERVED_EVENT_PREFIX, ORIGIN_RECONCILER
from tracker.data.braket_jobs import TaskJobs
from tracker.data.connections import ConnectionsTable
from tracker.data.connections_api import ConnectionsApi, PostFailed
from tracker.data.job_tasks import JobNotRecorded, JobTasks, LedgerMoved
from tracker.data.task_table import StorageError
from tracker.domain import TaskArn, TaskRecord
from tracker.job_domain import JobArn, JobEvent, JobStatus
from tracker.jobs.recorder import JobRecorder
from tracker.logic import job_live, live
from tracker.logic.job_tasks import JobTaskRecord

MAX_COUNT_ATTEMPTS = 6
LINK_MAX_WAIT = 0.2
"""The longest a link waits for its GetQuantumTask limiter: the rest are linked at their end."""


@dataclass
class Pushed:
    sent: int = 0
    gone: list[str] = field(default_factory=list)


class Fanout:
    """Sends one message to every connection subscribed to any of some targets (each connection once)."""

    def __init__(self, connections: ConnectionsTable, api: ConnectionsApi, workers: int = 8) -> None:
        self.connections = connections
        self.api = api
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job-push")

    def send(self, targets: list[str], message: str) -> Pushed:
        seen = list(dict.fromkeys(c for target in targets for c in self.connections.subscribers(target)))
        result = Pushed()
        failed: list[str] = []
        for connection_id, outcome in zip(seen, self._pool.map(lambda c: self._post(c, message), seen), strict=True):
            if outcome == "sent":
                result.sent += 1
            elif outcome == "gone":
                result.gone.append(connection_id)
            else:
                failed.append(outcome)
        for connection_id in result.gone:
            self.connections.forget(connection_id)
        if failed:
            raise PostFailed(f"{len(failed)} of {len(seen)} push(es) failed, e.g. {failed[0]}")
        return result

    def _post(self, connection_id: str, message: str) -> str:
        try:
            return "sent" if self.api.post(connection_id, message) else "gone"
        except PostFailed as exc:
            return str(exc)


class JobUpdates:
    def __init__(
        self,
        tasks: JobTasks,
        recorder: JobRecorder,
        braket: TaskJobs,
        fanout: Fanout,
    ) -> None:
        self.tasks = tasks
        self.recorder = recorder
        self.braket = braket
        self.fanout = fanout

    def task_changed(self, change: JobTaskRecord, task: TaskRecord | None) -> dict[str, object]:
        """Link, count and push for one task record; `task`: the record's new image, read as a task."""
        done: dict[str, object] = {}
        job = change.job_arn
        if change.link:
            job = self.link(change.task_arn)
            done["linked"] = job
        if change.count and job:
            done["counted"] = self.count(change.task_arn, job, change.count)
        if change.push and job and task is not None:
            corrects = task.superseded if task.status.finished else None
            message = live.push(task, snapshot=False, corrects=corrects)
            done["pushed"] = self.fanout.send([job_live.job_tasks_target(job)], message).sent
        return done

    def link(self, task_arn: str) -> str | None:
        """Ask Braket for the task's job; note it on the task's item (the stream then counts and pushes).
        A redelivered record finds the item linked already, and asks nothing; Braket not answering, or a
        rate limit reached, leaves the link to the task's end."""
        if self.tasks.ledger(task_arn).job_arn is not None:
            return None
        job = self.braket.job_of(TaskArn.parse(task_arn), LINK_MAX_WAIT)
        if job is None:
            return None
        self.tasks.link(task_arn, job)
        return job  # the link's own stream record counts and pushes

    def count(self, task_arn: str, job_arn: str, status: str) -> bool:
        """Count the task's end under `status` in its job, once (True if this call counted it)."""
        ledger = self.tasks.ledger(task_arn)
        for _ in range(MAX_COUNT_ATTEMPTS):
            if ledger.counted == status or ledger.status != status or ledger.job_arn != job_arn:
                return False  # counted already, or the task moved on: a later record counts that
            try:
                self.tasks.count(task_arn, job_arn, status, ledger.counted)
                return True
            except LedgerMoved:
                ledger = self.tasks.ledger(task_arn)
            except JobNotRecorded:
                self.record_from_task(JobArn.parse(job_arn), ledger.created_at)
        raise StorageError(f"could not count {task_arn} in {job_arn}: its items kept changing")

    def record_from_task(self, job: JobArn, task_created_at: str | None) -> None:
        """The job's own events are lost or late: record it as its task shows it, RUNNING when it created the
        task (jobs create tasks only while they run). The reconciler asks GetJob once it is stale."""
        if task_created_at is None:
            raise StorageError(f"{job.arn} is not recorded, and its task has no creation time")
        event = JobEvent(
            f"{OBSERVED_EVENT_PREFIX}RUNNING", task_created_at, job, JobStatus.RUNNING, origin=ORIGIN_RECONCILER
        )
        self.recorder.write(self.recorder.table.get(job.arn), event, None, None)


def corrects_of(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> JobStatus | None:
    """A change from one final status to another (two stream images): the status the new one corrects."""
    old_status, new_status = (old or {}).get("status"), (new or {}).get("status")
    names = {s.value for s in JobStatus if s.finished}
    if old_status in names and new_status in names and old_status != new_status:
        return JobStatus(str(old_status))
    return None
