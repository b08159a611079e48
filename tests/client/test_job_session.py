"""Hybrid jobs in the client: the unmodified SDK's AwsQuantumJob over TrackerSession (GetJob answered by
the tracker: 0 GetJob at Braket), GetJob's shape from a job item, and the job routes' pagination."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

pytest.importorskip("braket.aws", reason="amazon-braket-sdk (the [sdk] extra) is not installed")

from braket.aws import AwsQuantumJob
from braket_tracker import TrackerClient, TrackerSession
from braket_tracker.job_live import JobStates
from braket_tracker.jobs import get_job_response

from tests.client.braket_fake import FakeBraket
from tests.client.fakes import ACCOUNT, REGION, FakeTaskApi, answer
from tests.client.test_sdk_session import boto_session, braket  # noqa: F401 (a fixture)

JOB = f"arn:aws:braket:{REGION}:{ACCOUNT}:job/5b7a2c1e-9d3f-4e6a-8c2b-1f0e9d8c7b6a"


def job_item(status: str, **fields: Any) -> dict[str, Any]:
    """A job as GET /jobs/{id} shows it (JobView)."""
    return {
        "jobArn": JOB,
        "jobId": JOB.rsplit("/", 1)[-1],
        "jobName": "vqe-h2",
        "region": REGION,
        "account": ACCOUNT,
        "status": status,
        "statusTimes": {"QUEUED": "2026-11-20T09:00:00.000Z", status: "2026-11-20T09:00:41.000Z"},
        "createdAt": "2026-11-20T08:59:59.120Z",
        "startedAt": "2026-11-20T09:00:40.120Z",
        "lastEventAt": "2026-11-20T09:00:41.000Z",
        "eventCount": 2,
        "origin": "event",
        "taskCounts": {"COMPLETED": 3, "FAILED": 0, "CANCELLED": 0},
        "taskCount": 3,
        "failedTaskCount": 0,
        "enriched": True,
        "deviceArn": "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
        "instanceType": "ml.m5.large",
        "instanceCount": 1,
        "volumeSizeInGb": 30,
        "outputS3Path": "s3://amazon-braket-us-east-1-123456789012/jobs/vqe-h2/1763629199120/data",
        "hyperParameters": {"iterations": "10"},
        "tags": {},
        **fields,
    }


@pytest.fixture
def session(braket: FakeBraket, make_client: Callable[..., TrackerClient]) -> Iterator[TrackerSession]:  # noqa: F811
    tracker = make_client(live_url=None, clock=time.monotonic, sleep=time.sleep)  # no live channel: API reads
    made = TrackerSession(boto_session=boto_session(), tracker=tracker)
    yield made
    made.close()


def test_the_unmodified_sdk_reads_a_job_from_the_tracker_with_no_getjob(
    session: TrackerSession,
    api: FakeTaskApi,
    braket: FakeBraket,  # noqa: F811
) -> None:
    api.scripted.append(answer(200, job_item("RUNNING")))
    job = AwsQuantumJob(JOB, aws_session=session)

    assert job.state() == "RUNNING"
    metadata = job.metadata()
    assert (metadata["jobName"], metadata["instanceConfig"]["instanceCount"]) == ("vqe-h2", 1)
    assert isinstance(metadata["createdAt"], datetime) and metadata["createdAt"].tzinfo is not None
    assert metadata["outputDataConfig"]["s3Path"].endswith("/data")
    assert job.queue_position().queue_position is None
    assert job.name == "vqe-h2"
    assert braket.count("GetJob") == 0
    assert metadata["ResponseMetadata"]["HTTPHeaders"]["x-braket-tracker-source"] == "api"


def test_a_job_the_tracker_never_recorded_is_asked_of_braket_once(
    session: TrackerSession,
    api: FakeTaskApi,
    braket: FakeBraket,  # noqa: F811
) -> None:
    braket.jobs[JOB] = {"jobArn": JOB, "jobName": "elsewhere", "status": "RUNNING", "createdAt": "2026-11-20T09:00:00Z"}
    api.scripted.append(answer(404, {"error": "JobNotFound", "message": "no hybrid job", "details": {}}))

    assert AwsQuantumJob(JOB, aws_session=session).state() == "RUNNING"

    assert braket.count("GetJob") == 1


def test_cancel_goes_to_braket_as_the_researchers_own_call_and_reads_cancelling(
    session: TrackerSession,
    api: FakeTaskApi,
    braket: FakeBraket,  # noqa: F811
) -> None:
    braket.jobs[JOB] = {"jobArn": JOB, "status": "RUNNING"}
    api.scripted.append(answer(200, job_item("RUNNING")))
    job = AwsQuantumJob(JOB, aws_session=session)
    assert job.state() == "RUNNING"

    assert job.cancel() == "CANCELLING"

    assert job.state() == "CANCELLING"  # the session's own cancel, until the tracker says more
    assert (braket.count("CancelJob"), braket.count("GetJob")) == (1, 0)


def test_getjobs_shape_from_a_job_item_has_what_the_sdk_reads() -> None:
    found = get_job_response(job_item("COMPLETED", endedAt="2026-11-20T09:06:11.120Z", billableDuration=331000))

    assert found["status"] == "COMPLETED" and found["billableDuration"] == 331000
    assert found["endedAt"].isoformat() == "2026-11-20T09:06:11.120000+00:00"
    assert found["deviceConfig"] == {"device": "arn:aws:braket:::device/quantum-simulator/amazon/sv1"}
    assert found["hyperParameters"] == {"iterations": "10"}
    sparse = get_job_response({"jobArn": JOB, "status": "QUEUED"})  # a pushed document with nothing else
    assert sparse == {"jobArn": JOB, "status": "QUEUED", "jobName": JOB.rsplit("/", 1)[-1], "tags": {}}


def test_job_states_keep_the_highest_status_and_take_a_correction() -> None:
    states = JobStates()
    assert states.accept({"jobArn": JOB, "status": "RUNNING"}, "push") is not None
    assert states.accept({"jobArn": JOB, "status": "QUEUED"}, "push") is None  # older
    assert states.accept({"jobArn": JOB, "status": "COMPLETED"}, "push") is not None
    assert states.accept({"jobArn": JOB, "status": "FAILED"}, "push") is None  # final
    corrected = states.accept({"jobArn": JOB, "status": "FAILED", "correction": True, "notificationId": "x"}, "push")
    assert corrected is not None and states.latest[JOB].status == "FAILED"


def test_job_lists_and_a_jobs_tasks_page_through_the_api(client: TrackerClient, api: FakeTaskApi) -> None:
    api.scripted += [
        answer(200, {"jobs": [job_item("RUNNING")], "next": "t1"}),
        answer(200, {"jobs": [job_item("QUEUED")]}),
        answer(200, {"tasks": [{"taskArn": "a"}, {"taskArn": "b"}], "next": "t2"}),
    ]

    assert [job["status"] for job in client.jobs.list(status="RUNNING")] == ["RUNNING", "QUEUED"]
    assert [task["taskArn"] for task in client.jobs.tasks(JOB, limit=2)] == ["a", "b"]
    assert api.requests[1].query["next"] == "t1"
    assert api.requests[2].path == f"jobs/{JOB.replace(':', '%3A').replace('/', '%2F')}/tasks"


# -- the CLI's jobs commands --------------------------------------------------------------------------


def test_the_cli_lists_shows_and_lists_a_jobs_tasks(client: TrackerClient, api: FakeTaskApi) -> None:
    import io

    from braket_tracker.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        return (
            main(list(argv), client_factory=lambda args: client, stdout=out, stderr=err),
            out.getvalue(),
            err.getvalue(),
        )

    api.scripted += [
        answer(200, {"jobs": [job_item("RUNNING")]}),
        answer(200, job_item("FAILED", failureReason="AlgorithmError: ValueError: no ansatz, exit code: 1")),
        answer(
            200, {"tasks": [{"taskArn": "arn:aws:braket:us-east-1:123456789012:quantum-task/t1", "status": "QUEUED"}]}
        ),
    ]

    code, out, _ = run("jobs", "list", "--status", "RUNNING", "-o", "json")
    assert code == 0 and [job["jobName"] for job in json.loads(out)] == ["vqe-h2"]
    assert api.requests[-1].query == {"status": "RUNNING", "limit": "25"}
    code, out, _ = run("jobs", "show", JOB.rsplit("/", 1)[-1])
    assert code == 0 and "AlgorithmError: ValueError: no ansatz" in out
    code, out, _ = run("list", "--job", JOB, "-o", "json")
    assert code == 0 and json.loads(out)[0]["status"] == "QUEUED"
    assert run("list", "--job", JOB, "--status", "QUEUED")[0] == 2
    assert run("jobs", "list", "--status", "DONE")[0] == 2
