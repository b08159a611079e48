"""Hybrid jobs end to end in local mode (issue 18), with the unmodified Braket SDK: `AwsQuantumJob.create` runs
a small variational script that creates 10 tasks on the local SV1 and saves a result. The tracker records
the job and its tasks (GET /jobs/{id}/tasks lists them), notifies the job's end once and pushes it, and
`AwsQuantumJob(arn, aws_session=TrackerSession()).result()` returns the saved result while the local
Braket service counts no GetJob signed with the researcher's key. (Under the fault mode, with job events
dropped, duplicated and reordered, one reconciler run sets every job right: tests/e2e/test_fault_mode.py.)"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("braket.aws", reason="amazon-braket-sdk (the [sdk] extra) is not installed")

from braket.aws import AwsQuantumJob, AwsSession
from braket_tracker import TrackerClient, TrackerSession
from braket_tracker.job_live import JobUpdate
from braket_tracker.live import TaskUpdate

from local.tracker import LocalTracker
from tests.e2e.conftest import SV1, wait_for, wait_until_recorded
from tests.e2e.test_sdk_workflow import RESEARCHER, request_counts

pytestmark = pytest.mark.e2e
TASKS = 10
VQE = '''
"""A one-parameter variational sweep: <Z> of RX(theta)|0> on the job's device, one task per step."""
import math

from braket.aws import AwsDevice
from braket.circuits import Circuit
from braket.jobs import save_job_result
from braket.jobs.environment_variables import get_job_device_arn


def main(steps: int = 10) -> None:
    device = AwsDevice(get_job_device_arn())
    energies = []
    for step in range(steps):
        theta = math.pi * step / (steps - 1)
        task = device.run(Circuit().rx(0, theta), shots=200, poll_interval_seconds=0.05)
        counts = task.result().measurement_counts
        energies.append((counts.get("0", 0) - counts.get("1", 0)) / 200)
    best = min(range(steps), key=lambda i: energies[i])
    save_job_result({"energies": energies, "best_step": best, "best_energy": energies[best]})
'''


@pytest.fixture
def researcher(tracker: LocalTracker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The researcher's shell (local mode's environment) in a folder of its own (result() writes there)."""
    for name, value in tracker.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BRAKET_ENDPOINT", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vqe.py").write_text(VQE)
    return tmp_path


def create_job(folder: Path, steps: int = TASKS, session: AwsSession | None = None) -> AwsQuantumJob:
    return AwsQuantumJob.create(
        SV1,
        source_module=str(folder / "vqe.py"),
        entry_point="vqe:main",
        hyperparameters={"steps": steps},
        wait_until_complete=False,
        aws_session=session or AwsSession(),
    )


def test_a_variational_job_is_tracked_notified_pushed_and_waited_on_without_getjob(
    tracker: LocalTracker, researcher: Path
) -> None:
    subscriber = Subscriber(tracker, {"kind": ["job"]})
    client = TrackerClient()
    before = request_counts(tracker)

    job = create_job(researcher)
    wait_for(lambda: recorded(client, job.arn))  # the job's QUEUED event, recorded
    pushed: list[TaskUpdate] = []
    watcher = threading.Thread(target=lambda: client.jobs.watch(job.arn, include_tasks=True, on_update=pushed.append))
    watcher.start()
    session = TrackerSession()
    result = AwsQuantumJob(job.arn, aws_session=session).result(poll_interval_seconds=0.05)
    watcher.join(timeout=60)
    session.close()

    # The saved result, read through the tracker: no GetJob signed with the researcher's key.
    assert len(result["energies"]) == TASKS and result["best_step"] == TASKS - 1
    counted = researcher_counts(before, request_counts(tracker))
    assert counted.get("GetJob", 0) == 0, counted
    assert counted.get("CreateJob") == 1
    # The job and its tasks, as the tracker records them.
    final = wait_for(lambda: (item := client.jobs.get(job.arn))["taskCount"] == TASKS and item, timeout=60)
    assert (final["status"], final["failedTaskCount"], final["enriched"]) == ("COMPLETED", 0, True)
    assert final["hyperParameters"] == {"steps": str(TASKS)} and final["deviceArn"] == SV1
    tasks = list(client.jobs.tasks(job.arn))
    assert len(tasks) == TASKS and {t["jobArn"] for t in tasks} == {job.arn}
    assert {t["status"] for t in tasks} == {"COMPLETED"}
    assert [t["createdAt"] for t in tasks] == sorted((t["createdAt"] for t in tasks), reverse=True)
    # Pushed: the job's statuses up to COMPLETED, and its tasks' changes.
    assert not watcher.is_alive()
    job_statuses = [u.status for u in pushed if isinstance(u, JobUpdate)]
    assert job_statuses[-1] == "COMPLETED" and any(u.source == "push" for u in pushed if isinstance(u, JobUpdate))
    # the oldest task: its pushes came long before the job's end (the newest's may follow the end's push)
    assert {u.task_arn for u in pushed if not isinstance(u, JobUpdate)} >= {t["taskArn"] for t in tasks[-1:]}
    # Notified once, with its tasks counted.
    wait_until_recorded(tracker)
    notes = [d for d in subscriber.collect(seconds=3) if d["jobArn"] == job.arn]
    assert [(d["type"], d["status"]) for d in notes] == [("braket-task-tracker.job-finished", "COMPLETED")]
    assert notes[0]["taskCount"] == TASKS and notes[0]["jobName"] == job.name


def recorded(client: TrackerClient, arn: str) -> dict[str, Any] | None:
    from braket_tracker.errors import TaskNotFound

    try:
        return client.jobs.get(arn)
    except TaskNotFound:
        return None


def researcher_counts(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, int]:
    assert before is not None and after is not None, "the local Braket service counts requests per access key"
    old, new = before["byAccessKey"].get(RESEARCHER, {}), after["byAccessKey"].get(RESEARCHER, {})
    return {operation: count - old.get(operation, 0) for operation, count in new.items()}


class Subscriber:
    """An SQS queue subscribed to the notification topic with a filter policy, as a program subscribes."""

    def __init__(self, tracker: LocalTracker, policy: dict[str, Any]) -> None:
        self.sqs, sns = tracker.client("sqs"), tracker.client("sns")
        self.url = self.sqs.create_queue(QueueName=f"jobs-{time.monotonic_ns()}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=tracker.output("NotificationTopicArn"),
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"FilterPolicy": json.dumps(policy)},
        )

    def collect(self, seconds: float) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", []):
                found.append(json.loads(json.loads(message["Body"])["Message"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            time.sleep(0.2)
        return found
