"""The Task API's job routes through the handler against moto server: get by ARN or id, list by status
and time with tokens, a job's tasks newest first, and cancel with the task routes' authorization and errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from types import ModuleType
from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.test_task_api import ACCOUNT, ADA, ADMIN_ROLE, api, braket, call  # noqa: F401 (fixtures)
from tests.support.braket_jobs import DocumentedJobs
from tests.support.events import job_arn
from tracker.data.braket_jobs import BraketJobs
from tracker.data.job_table import JobTable
from tracker.data.task_table import TaskTable
from tracker.domain import Status, TaskArn, TaskEvent
from tracker.job_domain import JobArn, JobDetails, JobEvent, JobStatus
from tracker.logic.job_merge import fold
from tracker.logic.merge import merge

pytestmark = pytest.mark.integration


@pytest.fixture
def jobs_api(api: ModuleType) -> Iterator[DocumentedJobs]:  # noqa: F811
    fake = DocumentedJobs(status="RUNNING")
    service = api.jobs_routes._service()
    original = service.braket
    service.braket = BraketJobs(100, client_factory=lambda region: fake)
    yield fake
    service.braket = original


def record_job(table_names: dict[str, str], status: JobStatus, created: str, **details: Any) -> str:
    arn = job_arn(region="us-west-1")
    job = JobArn.parse(arn)
    record = fold(
        [JobEvent(str(uuid.uuid4()), created, job, status)],
        [JobDetails(complete=True, observed_at=created, status=status, created_at=created, **details)],
    )
    assert record is not None
    JobTable(table_names["jobArn"]).write(replace(record, task_counts={"COMPLETED": 3, "FAILED": 1}), None)
    return arn


def record_task(table_names: dict[str, str], job: str, created: str) -> str:
    arn = f"arn:aws:braket:us-west-1:{ACCOUNT}:quantum-task/{uuid.uuid4()}"
    event = TaskEvent(
        str(uuid.uuid4()),
        created,
        TaskArn.parse(arn),
        Status.CREATED,
        "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
        100,
        f"amazon-braket-us-west-1-{ACCOUNT}",
        f"jobs/vqe/tasks/{arn.rsplit('/', 1)[-1]}",
        created,
    )
    TaskTable(table_names["taskArn"]).insert_first(replace(merge(None, event), job_arn=job))
    return arn


def test_a_job_by_arn_or_id_with_its_counts(
    api: ModuleType,  # noqa: F811
    jobs_api: DocumentedJobs,
    table_names: dict[str, str],
) -> None:
    arn = record_job(table_names, JobStatus.RUNNING, "2026-11-20T09:00:00.000Z", job_name="vqe-h2")

    for reference in (quote(arn, safe=""), arn.rsplit("/", 1)[-1]):
        status, _, view = call(api, "GET", f"/jobs/{reference}")
        assert status == 200, view
        assert (view["jobArn"], view["jobName"], view["status"]) == (arn, "vqe-h2", "RUNNING")
        assert (view["taskCount"], view["failedTaskCount"]) == (4, 1)
    status, _, with_queue = call(api, "GET", f"/jobs/{quote(arn, safe='')}", query={"include": "queue"})
    assert status == 200 and jobs_api.get_calls == [arn]  # only when asked: one GetJob
    assert with_queue["queueInfo"]["position"] == "2"
    assert call(api, "GET", f"/jobs/{uuid.uuid4()}")[:1] == (404,)
    status, _, error = call(api, "GET", "/jobs/not%20a%20job")
    assert (status, error["error"]) == (400, "ValidationError")


def test_jobs_list_by_status_newest_first_with_tokens(
    api: ModuleType,  # noqa: F811
    table_names: dict[str, str],
) -> None:
    made = [record_job(table_names, JobStatus.CANCELLING, f"2026-11-2{day}T09:00:00.000Z") for day in (1, 2, 3)]

    status, _, first = call(api, "GET", "/jobs", query={"status": "CANCELLING", "limit": "2"})
    assert status == 200
    status, _, second = call(api, "GET", "/jobs", query={"status": "CANCELLING", "limit": "2", "next": first["next"]})
    listed = [job["jobArn"] for job in first["jobs"] + second["jobs"]]
    assert listed[:3] == made[::-1]
    status, _, error = call(api, "GET", "/jobs", query={"next": first["next"]})  # another query's token
    assert (status, error["error"]) == (400, "InvalidToken")
    status, _, after = call(api, "GET", "/jobs", query={"status": "CANCELLING", "createdAfter": "2026-11-22"})
    assert made[0] not in [job["jobArn"] for job in after["jobs"]]


def test_a_jobs_tasks_newest_first(
    api: ModuleType,  # noqa: F811
    table_names: dict[str, str],
) -> None:
    job = record_job(table_names, JobStatus.RUNNING, "2026-11-20T09:00:00.000Z")
    tasks = [record_task(table_names, job, f"2026-11-20T09:0{minute}:00.000Z") for minute in range(1, 4)]

    status, _, page = call(api, "GET", f"/jobs/{job.rsplit('/', 1)[-1]}/tasks", query={"limit": "2"})
    assert status == 200
    _, _, rest = call(api, "GET", f"/jobs/{job.rsplit('/', 1)[-1]}/tasks", query={"next": page["next"]})
    assert [t["taskArn"] for t in page["tasks"] + rest["tasks"]] == tasks[::-1]
    assert {t["jobArn"] for t in page["tasks"]} == {job}


def test_cancel_is_for_admins_and_not_for_a_finished_job(
    api: ModuleType,  # noqa: F811
    jobs_api: DocumentedJobs,
    table_names: dict[str, str],
) -> None:
    running = record_job(table_names, JobStatus.RUNNING, "2026-11-20T09:00:00.000Z")
    done = record_job(table_names, JobStatus.COMPLETED, "2026-11-20T09:00:00.000Z")

    status, _, refused = call(api, "POST", f"/jobs/{quote(running, safe='')}/cancel", caller=ADA)
    assert (status, refused["error"]) == (403, "Forbidden")
    assert "AwsQuantumJob(arn).cancel()" in refused["message"]
    status, _, answer = call(api, "POST", f"/jobs/{quote(running, safe='')}/cancel", caller=ADMIN_ROLE)
    assert (status, answer) == (202, {"jobArn": running, "status": "CANCELLING"})
    status, _, finished = call(api, "POST", f"/jobs/{quote(done, safe='')}/cancel", caller=ADMIN_ROLE)
    assert (status, finished["error"]) == (409, "JobAlreadyFinished")
