"""The job side of the two tables' streams (one function, two event sources):
- the jobs table: each status change of a job is pushed to the connections following it;
- the task table (filtered to a job's tasks, and to tasks that may be one): link a job's task as soon as
  it is recorded (one GetQuantumTask, under this function's rate limit), count its end in its job
  (logic/ends.py through logic/job_tasks.py; once, by the task's ledger), and push its status changes to
  the connections following the job's tasks.
A failure of DynamoDB, Braket or @connections raises: the stream retries the record.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tracker.data.braket_api import BraketApi, TaskNotFound
from tracker.data.braket_jobs import JobNotFound
from tracker.data.braket_tasks import BraketUnavailable
from tracker.data.connections import ConnectionsTable
from tracker.data.connections_api import ConnectionsApi, PostFailed
from tracker.data.job_tasks import JobNotRecorded, JobTasks, LedgerMoved
from tracker.domain import TaskArn, TaskRecord
from tracker.job_domain import JobArn, JobRecord, JobStatus
from tracker.jobs.recorder import JobRecorder
from tracker.logic import job_live, live
from tracker.logic.job_tasks import JobTaskRecord

MAX_COUNT_ATTEMPTS = 6


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
        braket: BraketApi,
        fanout: Fanout,
    ) -> None:
        self.tasks = tasks
        self.recorder = recorder
        self.braket = braket
        self.fanout = fanout

    # -- the jobs table's stream ---------------------------------------------------------------------

    def job_changed(self, record: JobRecord, corrects: JobStatus | None) -> Pushed:
        """Push the job's new status to its subscribers."""
        return self.fanout.send([job_live.job_target(record.job.arn)], job_live.push(record, False, corrects))

    # -- the task table's stream ---------------------------------------------------------------------

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
        A redelivered record finds the item linked already, and asks nothing."""
        if self.tasks.ledger(task_arn).job_arn is not None:
            return None
        try:
            answer = self.braket.get_task(TaskArn.parse(task_arn))
        except TaskNotFound:
            return None
        job = answer.get("jobArn")
        if not isinstance(job, str) or not job:
            return None
        JobArn.parse(job)  # Braket's word, but still a key of ours: refuse anything else
        self.tasks.link(task_arn, job)
        return None  # the link's own stream record counts and pushes

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
                self.observe_job(JobArn.parse(job_arn))
        raise BraketUnavailable(f"could not count {task_arn} in {job_arn}: its items kept changing")

    def observe_job(self, job: JobArn) -> None:
        """The job's own events are lost or late: record it from GetJob, so its tasks can be counted."""
        try:
            answer = self.recorder.braket.get(job)
        except JobNotFound as exc:
            raise BraketUnavailable(str(exc)) from exc
        self.recorder.observe(job, answer, "reconciler")


def corrects_of(old_status: object, new_status: object) -> JobStatus | None:
    """A change from one final status to another: the status the new one corrects."""
    names = {s.value for s in JobStatus if s.finished}
    if old_status in names and new_status in names and old_status != new_status:
        return JobStatus(str(old_status))
    return None
