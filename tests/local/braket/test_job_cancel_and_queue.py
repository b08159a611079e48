"""CancelJob, the job queue (queueInfo, GetDevice's JOBS_QUEUE, the Region's job slots) and the stopping
condition: a job that is stopped has its process stopped with it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.braket import LocalBraket
from tests.local.braket.conftest import SV1, EventSink
from tests.local.braket.jobs_support import create_job, job_statuses, log_lines, wait_for_log, wait_job

SLEEPER = """
    import signal, sys, time
    if "{ignore}" == "yes":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL, after the grace period, stops it
    print("started", flush=True)
    time.sleep(600)
"""
QUICK = {"algo.py": "print('done')"}


def sleeper(ignore_sigterm: bool = False) -> dict[str, str]:
    return {"algo.py": SLEEPER.replace("{ignore}", "yes" if ignore_sigterm else "no")}


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(condition: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


@pytest.mark.parametrize("ignore_sigterm", [False, True], ids=["stops on SIGTERM", "ignores SIGTERM"])
def test_cancel_of_a_running_job_stops_its_process(
    local_braket: LocalBraket,
    braket: Callable[..., Any],
    aws: Callable[[str, str], Any],
    sinks: dict[str, EventSink],
    ignore_sigterm: bool,
) -> None:
    client, logs = braket(), aws("logs", "us-east-1")
    arn = create_job(client, aws("s3", "us-east-1"), sleeper(ignore_sigterm), "algo")
    assert "started" in wait_for_log(logs, client, arn, "started")
    pid = local_braket.jobs.pids()[arn]

    answer = client.cancel_job(jobArn=arn)
    job = wait_job(client, arn)
    again = client.cancel_job(jobArn=arn)

    assert answer["cancellationStatus"] == "CANCELLING"
    assert job["status"] == "CANCELLED" and "failureReason" not in job
    assert not running(pid)
    assert again["cancellationStatus"] == "CANCELLED"  # CancelJob is idempotent
    assert job["startedAt"] <= job["endedAt"] and job["events"][-1]["eventType"] == "CANCELLED"
    events = sinks["us-east-1"].wait_for_status(arn, "CANCELLED")
    assert job_statuses(events) == ["QUEUED", "RUNNING", "CANCELLING", "CANCELLED"]
    assert sorted(events[2]["detail"]) == ["jobArn", "startedAt", "status"]
    assert sorted(events[3]["detail"]) == ["endedAt", "jobArn", "startedAt", "status"]
    assert "started" in log_lines(logs, job)


def test_queued_jobs_show_their_position_and_a_cancelled_one_never_runs(
    local_braket: LocalBraket,
    braket: Callable[..., Any],
    aws: Callable[[str, str], Any],
    sinks: dict[str, EventSink],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, s3 = braket(), aws("s3", "us-east-1")
    monkeypatch.setattr(local_braket.jobs, "queue_delay", 60.0)
    first, second = create_job(client, s3, QUICK, "algo"), create_job(client, s3, QUICK, "algo")

    plain = client.get_job(jobArn=first)
    infos = [client.get_job(jobArn=arn, additionalAttributeNames=["QueueInfo"])["queueInfo"] for arn in (first, second)]
    device = client.get_device(deviceArn=SV1)["deviceQueueInfo"]
    answers = [client.cancel_job(jobArn=arn)["cancellationStatus"] for arn in (first, second)]
    cancelled = [wait_job(client, arn) for arn in (first, second)]

    assert "queueInfo" not in plain and plain["status"] == "QUEUED"
    assert infos == [{"queue": "JOBS_QUEUE", "position": "1"}, {"queue": "JOBS_QUEUE", "position": "2"}]
    assert {"queue": "JOBS_QUEUE", "queueSize": "2"} in device
    assert answers == ["CANCELLING", "CANCELLING"]
    assert [job["status"] for job in cancelled] == ["CANCELLED", "CANCELLED"]
    assert all("startedAt" not in job and job["billableDuration"] == 0 for job in cancelled)
    assert [e["eventType"] for e in cancelled[0]["events"]] == ["QUEUED_FOR_EXECUTION", "CANCELLED"]
    info = client.get_job(jobArn=first, additionalAttributeNames=["QueueInfo"])["queueInfo"]
    assert info == {
        "queue": "JOBS_QUEUE",
        "position": "None",  # the SDK's queue_position() maps it to None
        "message": "Job is in CANCELLED status. AmazonBraket does not show queue position for this status.",
    }
    events = sinks["us-east-1"].wait_for_status(first, "CANCELLED")
    assert job_statuses(events) == ["QUEUED", "CANCELLING", "CANCELLED"]
    assert sorted(events[-1]["detail"]) == ["endedAt", "jobArn", "status"]  # never started: no startedAt


def test_a_finished_job_cannot_be_cancelled(braket: Callable[..., Any], aws: Callable[[str, str], Any]) -> None:
    client = braket()
    arn = create_job(client, aws("s3", "us-east-1"), QUICK, "algo")
    assert wait_job(client, arn)["status"] == "COMPLETED"

    with pytest.raises(ClientError) as raised:
        client.cancel_job(jobArn=arn)

    assert raised.value.response["Error"]["Code"] == "ConflictException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_a_job_waits_for_a_free_slot_of_its_region(
    local_braket: LocalBraket,
    braket: Callable[..., Any],
    aws: Callable[[str, str], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, s3 = braket(), aws("s3", "us-east-1")
    monkeypatch.setattr(local_braket.jobs, "slots", 1)
    busy = create_job(client, s3, sleeper(), "algo")
    wait_for_log(aws("logs", "us-east-1"), client, busy, "started")
    waiting = create_job(client, s3, QUICK, "algo")
    assert wait_until(lambda: waiting in local_braket.jobs.waiting())

    held = client.get_job(jobArn=waiting, additionalAttributeNames=["QueueInfo"])
    client.cancel_job(jobArn=busy)
    done = wait_job(client, waiting)

    assert held["status"] == "QUEUED" and held["queueInfo"]["position"] == "1"
    assert done["status"] == "COMPLETED"
    assert done["startedAt"] >= wait_job(client, busy)["endedAt"]


def test_the_stopping_condition_stops_a_job_that_runs_too_long(
    local_braket: LocalBraket, braket: Callable[..., Any], aws: Callable[[str, str], Any]
) -> None:
    client = braket()
    arn = create_job(client, aws("s3", "us-east-1"), sleeper(), "algo", stoppingCondition={"maxRuntimeInSeconds": 2})
    pid = wait_until(lambda: local_braket.jobs.pids().get(arn))  # the limit counts from the process's start

    job = wait_job(client, arn)

    assert job["status"] == "FAILED"
    assert job["failureReason"].startswith("MaxRuntimeExceeded:") and "maxRuntimeInSeconds 2" in job["failureReason"]
    assert [e["eventType"] for e in job["events"]][-2:] == ["MAX_RUNTIME_EXCEEDED", "FAILED"]
    assert (job["endedAt"] - job["startedAt"]).total_seconds() >= 2
    assert pid and not running(pid)


def test_stopping_the_service_stops_its_jobs_processes_and_starts_no_other(
    moto_url: str, sinks: dict[str, EventSink], aws: Callable[[str, str], Any]
) -> None:
    service = LocalBraket(moto_url, queue_delay=0.05, workers=0)
    client = boto3.client("braket", region_name="us-east-1", endpoint_url=service.start())
    service.jobs.slots = 1
    try:
        running_job = create_job(client, aws("s3", "us-east-1"), sleeper(ignore_sigterm=True), "algo")
        pid = wait_until(lambda: service.jobs.pids().get(running_job))
        waiting_job = create_job(client, aws("s3", "us-east-1"), QUICK, "algo")
        assert wait_until(lambda: waiting_job in service.jobs.waiting())
    finally:
        service.stop()

    ended = service.jobs.get_job("us-east-1", {"jobArn": running_job})
    assert pid and not running(pid)
    assert ended["status"] == "FAILED" and "stopped while the job ran" in ended["failureReason"]
    assert service.jobs.get_job("us-east-1", {"jobArn": waiting_job})["status"] == "QUEUED"
    assert service.jobs.pids() == {}
