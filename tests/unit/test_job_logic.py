"""Jobs, pure: what a task record means for its job (link, count, push), the job notification, and the
job actions of the live channel."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stacks.jobs import job_end_filters, job_tasks_stream_filters
from tracker.job_domain import JobArn, JobDetails, JobEvent, JobStatus
from tracker.logic import job_live, job_notification, job_tasks
from tracker.logic.job_merge import fold
from tracker.logic.live import BadRequest
from tracker.models.item import Item

JOB = "arn:aws:braket:us-east-1:012345678901:job/5b7a2c1e-9d3f-4e6a-8c2b-1f0e9d8c7b6a"
TASK = "arn:aws:braket:us-east-1:012345678901:quantum-task/a3e1f6d2-7c44-4f0b-8b1e-3d5c9e2f7a41"
STATUSES = ["CREATED", "QUEUED", "RUNNING", "CANCELLING", "COMPLETED", "FAILED", "CANCELLED"]


def image(status: str, job: str | None = JOB, directory: str = "jobs/vqe/tasks/a3e1") -> Item:
    found: Item = {"taskArn": TASK, "status": status, "outputS3Directory": directory}
    if job:
        found["jobArn"] = job
    return found


def test_a_new_task_under_jobs_is_linked_and_no_other() -> None:
    found = job_tasks.read("INSERT", None, image("CREATED", job=None))
    assert found is not None and (found.link, found.count, found.push) == (True, None, False)
    assert job_tasks.read("INSERT", None, image("CREATED", job=None, directory="tasks/a3e1")) is None


def test_ends_are_counted_per_the_ends_hook_and_a_late_link_counts_as_a_first_end() -> None:
    def count(name: str, old: Item | None, new: Item) -> str | None:
        found = job_tasks.read(name, old, new)
        return found.count if found else None

    assert count("MODIFY", image("RUNNING"), image("COMPLETED")) == "COMPLETED"  # a first end
    assert count("MODIFY", image("COMPLETED"), image("FAILED")) == "FAILED"  # a correction
    assert count("MODIFY", image("COMPLETED"), image("COMPLETED")) is None  # a notification mark, say
    assert count("MODIFY", image("COMPLETED", job=None), image("COMPLETED")) == "COMPLETED"  # linked after its end
    assert count("MODIFY", image("RUNNING", job=None), image("COMPLETED", job=None)) is None  # no job known


@settings(deadline=None)
@given(st.sampled_from(["INSERT", "MODIFY"]), st.sampled_from(STATUSES), st.sampled_from(STATUSES), st.booleans())
def test_the_synthesized_filter_passes_every_record_the_function_acts_on(
    name: str, old_status: str, new_status: str, linked_before: bool
) -> None:
    from local.runner.patterns import FilterCriteria

    old = image(old_status, job=JOB if linked_before else None) if name == "MODIFY" else None
    for new in (image(new_status), image(new_status, job=None)):
        record = {
            "eventName": name,
            "dynamodb": {"NewImage": _dynamo(new), **({"OldImage": _dynamo(old)} if old else {})},
        }
        if job_tasks.read(name, old, new) is not None:
            assert FilterCriteria([json.dumps(p) for p in job_tasks_stream_filters()]).matches(record)


def _dynamo(values: Item | None) -> dict[str, Any]:
    return {k: {"S": v} for k, v in (values or {}).items()}


def test_the_job_notifier_filter_passes_a_first_end_and_not_a_repeat() -> None:
    from local.runner.patterns import FilterCriteria

    filters = FilterCriteria([json.dumps(p) for p in job_end_filters(notify_imported=False)])
    end = {"eventName": "MODIFY", "dynamodb": {"OldImage": _dynamo({"status": "RUNNING"})}}
    end["dynamodb"]["NewImage"] = _dynamo({"status": "COMPLETED", "origin": "event"})
    assert filters.matches(end)
    backfilled = json.loads(json.dumps(end).replace('"event"', '"backfill"'))
    assert not filters.matches(backfilled)
    again = {"eventName": "MODIFY", "dynamodb": {"OldImage": _dynamo({"status": "COMPLETED"})}}
    again["dynamodb"]["NewImage"] = _dynamo({"status": "COMPLETED", "origin": "event"})
    assert not filters.matches(again)


def _job(status: JobStatus, **details: Any) -> Any:
    arn = JobArn.parse(JOB)
    record = fold(
        [
            JobEvent("e1", "2026-11-20T09:00:00.000Z", arn, JobStatus.QUEUED),
            JobEvent(
                "e2", "2026-11-20T09:06:12.000Z", arn, status, "2026-11-20T09:00:40.000Z", "2026-11-20T09:06:11.500Z"
            ),
        ],
        [JobDetails(complete=True, observed_at="2026-11-20T09:06:13.000Z", status=status, **details)],
    )
    assert record is not None
    return record


def test_the_job_notification_tells_its_tasks_and_filters_on_kind() -> None:
    record = _job(
        JobStatus.FAILED, job_name="vqe-h2", device_arn="arn:aws:braket:::device/quantum-simulator/amazon/sv1"
    )
    from dataclasses import replace

    record = replace(record, task_counts={"COMPLETED": 11, "FAILED": 1})

    message = job_notification.build(record)

    assert message.subject == "Braket job FAILED: vqe-h2, 12 tasks (1 failed), ran 5 min 31 s"
    assert message.attributes["kind"] == {"DataType": "String", "StringValue": "job"}
    assert message.attributes["type"] == {"DataType": "String", "StringValue": "job-finished"}
    assert message.attributes["device"]["StringValue"] == "sv1"
    assert (message.document["taskCount"], message.document["failedTaskCount"]) == (12, 1)
    assert message.notification_id == f"{JOB}#FAILED"
    assert "Tasks:       12 ended (11 completed, 1 failed)" in message.text
    with pytest.raises(ValueError, match="has not finished"):
        job_notification.build(_job(JobStatus.RUNNING))


def test_a_correction_names_the_status_it_corrects() -> None:
    message = job_notification.build(_job(JobStatus.FAILED, job_name="vqe"), corrects=JobStatus.COMPLETED)
    assert message.subject.startswith("Correction: Braket job FAILED, not COMPLETED: vqe")
    assert message.attributes["previousStatus"]["StringValue"] == "COMPLETED"


def test_subscribe_jobs_requests_are_strict() -> None:
    request = job_live.parse_request(json.dumps({"action": "subscribeJobs", "jobs": [JOB, JOB], "includeTasks": True}))
    assert request.jobs == (JOB,)
    assert request.targets() == [f"job#{JOB}", f"jobtasks#{JOB}"]
    for bad in (
        {"action": "subscribeJobs", "jobs": [TASK]},
        {"action": "subscribeJobs", "jobs": []},
        {"action": "subscribeJobs", "jobs": [JOB], "includeTasks": "yes"},
        {"action": "subscribeJobs", "jobs": [JOB], "mine": True},
        {"action": "subscribeJobs", "jobs": [JOB + "\n"]},
        {"action": "subscribeJobs", "jobs": [JOB] * 21},
    ):
        with pytest.raises(BadRequest):
            job_live.parse_request(json.dumps(bad))
