"""The job side of the streams against moto server: a job's tasks linked early, their ends counted once
(corrections move a count), by the live-updates pusher's mapping of the task table's stream (its two
readers are the notifier and the pusher); a job's end notified once on the topic (kind=job); through the
synthesized stream filters, with every record delivered twice."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.integration.conftest import Recorder
from tests.integration.test_job_recording import job_item, jobs  # noqa: F401 (a fixture)
from tests.integration.test_notifier import Subscriber, topic_arn  # noqa: F401 (a fixture)
from tests.support.app import SynthesizedApp
from tests.support.braket_jobs import DocumentedJobs
from tests.support.events import job_arn, job_state_change, state_change, task_arn
from tests.support.lambda_context import FakeLambdaContext
from tests.support.streams import FilteredStream
from tracker.data.braket_jobs import TaskJobs
from tracker.jobs import task_side

pytestmark = pytest.mark.integration


class JobTaskBraket:
    """GetQuantumTask as Braket answers it for a job's task: with its jobArn."""

    def __init__(self) -> None:
        self.jobs: dict[str, str] = {}
        self.calls: list[str] = []

    def get_quantum_task(self, quantumTaskArn: str, **_: Any) -> dict[str, Any]:
        self.calls.append(quantumTaskArn)
        return {"quantumTaskArn": quantumTaskArn, "status": "QUEUED", "jobArn": self.jobs.get(quantumTaskArn)}


@pytest.fixture(scope="module")
def modules(recorder_module: ModuleType, table_names: dict[str, str], topic_arn: str) -> tuple[Any, Any]:  # noqa: F811
    os.environ["CONNECTIONS_TABLE_NAME"] = table_names["connectionId"]
    os.environ.setdefault("CONNECTIONS_ENDPOINT", "http://127.0.0.1:9/live")
    os.environ["NOTIFICATION_TOPIC_ARN"] = topic_arn
    # A cold start: another module (test_live_updates) may have imported the pusher with its own endpoint.
    for name in ("tracker.live.pusher_handler", "tracker.jobs.notifier_handler"):
        sys.modules.pop(name, None)
    return (
        importlib.import_module("tracker.live.pusher_handler"),
        importlib.import_module("tracker.jobs.notifier_handler"),
    )


@pytest.fixture
def braket(modules: tuple[Any, Any]) -> Iterator[JobTaskBraket]:
    updates = task_side.updates()
    fake, original = JobTaskBraket(), updates.braket
    updates.braket = TaskJobs(100, client_factory=lambda region: fake)
    yield fake
    updates.braket = original


def deliver(module: ModuleType, records: list[dict[str, Any]]) -> None:
    for _ in range(2):  # every record delivered twice, as a retried batch does
        assert module.lambda_handler({"Records": records}, FakeLambdaContext()) == {"batchItemFailures": []}


def job_task_events(arn: str, job_name: str, status: str, time: str, **kwargs: Any) -> str:
    event = state_change(arn, status, time, **kwargs)
    event["detail"]["outputS3Directory"] = f"jobs/{job_name}/tasks/{arn.rsplit('/', 1)[-1]}"
    return json.dumps(event)


def test_a_jobs_tasks_are_linked_early_and_their_ends_counted_once(  # noqa: PLR0917 (fixtures)
    recorder: Recorder,
    modules: tuple[Any, Any],
    braket: JobTaskBraket,
    jobs: DocumentedJobs,  # noqa: F811
    dynamodb: Any,
    table_names: dict[str, str],
    synthesized: SynthesizedApp,
) -> None:
    updates = modules[0]
    stream = FilteredStream(table_names["taskArn"], synthesized, "Pusher").tail()
    job, tasks = job_arn(), [task_arn() for _ in range(3)]
    braket.jobs = dict.fromkeys(tasks, job)
    jobs.status = "RUNNING"
    recorder.deliver([json.dumps(job_state_change(job, "RUNNING", "2026-11-20T09:00:41Z"))])

    recorder.deliver([job_task_events(arn, "vqe", "CREATED", "2026-11-20T09:01:00Z") for arn in tasks])
    deliver(updates, stream.records(set(tasks)))  # the new tasks: linked (one GetQuantumTask each)
    assert sorted(braket.calls) == sorted(tasks)
    deliver(updates, stream.records(set(tasks)))  # the link's records: pushed (no subscriber), nothing to count

    ends = ["COMPLETED", "COMPLETED", "FAILED"]
    recorder.deliver([job_task_events(a, "vqe", s, "2026-11-20T09:02:00Z") for a, s in zip(tasks, ends, strict=True)])
    deliver(updates, stream.records(set(tasks)))
    assert job_item(dynamodb, table_names, job)["taskCounts"] == {"COMPLETED": 2, "FAILED": 1, "CANCELLED": 0}  # type: ignore[index]

    # A correction: Braket reports the first task FAILED, with an earlier end: the count moves.
    recorder.deliver([job_task_events(tasks[0], "vqe", "FAILED", "2026-11-20T09:01:59Z")])
    deliver(updates, stream.records(set(tasks)))
    assert job_item(dynamodb, table_names, job)["taskCounts"] == {"COMPLETED": 1, "FAILED": 2, "CANCELLED": 0}  # type: ignore[index]
    assert len(braket.calls) == 3  # linked once each


def test_a_task_of_a_job_never_seen_records_the_job_as_its_task_shows_it(  # noqa: PLR0917 (fixtures)
    recorder: Recorder,
    modules: tuple[Any, Any],
    braket: JobTaskBraket,
    jobs: DocumentedJobs,  # noqa: F811
    dynamodb: Any,
    table_names: dict[str, str],
    synthesized: SynthesizedApp,
) -> None:
    stream = FilteredStream(table_names["taskArn"], synthesized, "Pusher").tail()
    job, task = job_arn(), task_arn()
    braket.jobs = {task: job}

    recorder.deliver([job_task_events(task, "lost", "COMPLETED", "2026-11-20T09:02:00Z")])
    deliver(modules[0], stream.records({task}))
    deliver(modules[0], stream.records({task}))

    item = job_item(dynamodb, table_names, job)
    assert item is not None  # RUNNING when it created the task; the reconciler asks GetJob once it is stale
    assert (item["status"], item["origin"], item["taskCounts"]["COMPLETED"]) == ("RUNNING", "reconciler", 1)
    assert (item["unfinishedRegion"], item["createdAt"]) == ("us-east-1", "2026-11-20T08:00:00.250Z")


def test_a_jobs_end_is_notified_once_with_its_counts_and_kind_job(  # noqa: PLR0917 (fixtures)
    recorder: Recorder,
    modules: tuple[Any, Any],
    braket: JobTaskBraket,
    jobs: DocumentedJobs,  # noqa: F811
    table_names: dict[str, str],
    synthesized: SynthesizedApp,
    topic_arn: str,  # noqa: F811
) -> None:
    notifier = modules[1]
    stream = FilteredStream(table_names["jobArn"], synthesized, "JobFunctionsNotifier", key="jobArn").tail()
    only_jobs, only_tasks = Subscriber(topic_arn, {"kind": ["job"]}), Subscriber(topic_arn, {"kind": ["task"]})
    job_ends, task_ends = (
        Subscriber(topic_arn, {"type": ["job-finished"]}),
        Subscriber(topic_arn, {"type": ["task-finished"]}),
    )
    job = job_arn()
    jobs.status = "FAILED"

    recorder.deliver([json.dumps(job_state_change(job, "FAILED", "2026-11-20T09:06:12Z"))])
    records = stream.records({job})
    deliver(notifier, records)
    deliver(notifier, records)

    received = [json.loads(m["Message"]) for m in only_jobs.drain()]
    assert [(m["type"], m["kind"], m["jobArn"], m["status"]) for m in received] == [
        ("braket-task-tracker.job-finished", "job", job, "FAILED")
    ]
    assert received[0]["failureReason"].startswith("AlgorithmError: ValueError")
    assert received[0]["taskCount"] == 0 and received[0]["jobName"] == "vqe-h2-bond-0-74"
    assert only_tasks.drain() == []
    assert [json.loads(m["Message"])["jobArn"] for m in job_ends.drain()] == [job]
    assert task_ends.drain() == []
