"""CreateJob and GetJob refuse what Braket refuses (the service model's constraints, patterns over the whole
string, and Braket's own rules), with Braket's error shapes; SearchJobs filters as the model documents them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.local.braket.conftest import ACCOUNT, SV1
from tests.local.braket.jobs_support import IMAGE, ROLE_ARN, create_job, wait_job

PARAMETER_ID = "5f0c3a52-8d3e-4c6b-9a1e-2b7d4e6f8a90"  # fixed, so every collection names the tests alike

QUICK = {"algo.py": "print('done')"}
S3 = "s3://amazon-braket-us-east-1-123456789012/jobs/x"

CREATE_CASES: dict[str, tuple[dict[str, Any], str, int, str]] = {
    "job name starting with a hyphen": (
        {"jobName": "-bad"},
        "ValidationException",
        400,
        "Value '-bad' at 'jobName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,50}",
    ),
    "job name of 51 characters": ({"jobName": "a" * 51}, "ValidationException", 400, "length less than or equal to 50"),
    "a user, not a role": (
        {"roleArn": f"arn:aws:iam::{ACCOUNT}:user/someone"},
        "ValidationException",
        400,
        "at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern",
    ),
    "an account of non-ASCII digits": (
        {"roleArn": "arn:aws:iam::" + "\u0661" * 12 + ":role/service-role/AmazonBraketJobsExecutionRole"},
        "ValidationException",
        400,
        "at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern",
    ),
    "a role that does not exist": (
        {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/NoSuchRole"},
        "ValidationException",
        400,
        "does not exist or cannot be assumed",
    ),
    "a role of another account": (
        {"roleArn": "arn:aws:iam::210987654321:role/service-role/AmazonBraketJobsExecutionRole"},
        "ValidationException",
        400,
        f"is not in account {ACCOUNT}",
    ),
    "an unknown device": (
        {"deviceConfig": {"device": "arn:aws:braket:us-east-1::device/qpu/acme/Nope"}},
        "ValidationException",
        400,
        "does not exist or is not available in us-east-1",
    ),
    "two instances": (
        {"instanceConfig": {"instanceType": "ml.m5.large", "volumeSizeInGb": 30, "instanceCount": 2}},
        "ServiceQuotaExceededException",
        402,
        "compute instances for a hybrid job is 1",
    ),
    "an unknown instance type": (
        {"instanceConfig": {"instanceType": "ml.huge", "volumeSizeInGb": 30}},
        "ValidationException",
        400,
        "at 'instanceConfig.instanceType' failed to satisfy constraint: Member must satisfy enum value set",
    ),
    "an output path that is not S3": (
        {"outputDataConfig": {"s3Path": "ftp://bucket/data"}},
        "ValidationException",
        400,
        "at 'outputDataConfig.s3Path' failed to satisfy constraint: Member must satisfy regular expression pattern",
    ),
    "an image outside ECR": (
        {
            "algorithmSpecification": {
                "scriptModeConfig": {"entryPoint": "algo", "s3Uri": S3},
                "containerImage": {"uri": "python:3.11"},
            }
        },
        "ValidationException",
        400,
        "at 'algorithmSpecification.containerImage.uri'",
    ),
    "an image without a script": (
        {"algorithmSpecification": {"containerImage": {"uri": IMAGE}}},
        "ValidationException",
        400,
        "algorithmSpecification.scriptModeConfig is required in local mode",
    ),
    "an https URL that is not S3": (
        {"outputDataConfig": {"s3Path": "https://example.com/results"}},
        "ValidationException",
        400,
        "'https://example.com/results' is not an S3 URI",
    ),
    "a hyperparameter of 2501 characters": (
        {"hyperParameters": {"long": "x" * 2501}},
        "ValidationException",
        400,
        "at 'hyperParameters.long' failed to satisfy constraint: Member must have length less than or equal to 2500",
    ),
    "an empty hyperparameter": (
        {"hyperParameters": {"empty": ""}},
        "ValidationException",
        400,
        "greater than or equal to 1",
    ),
    "a runtime of 0 s": (
        {"stoppingCondition": {"maxRuntimeInSeconds": 0}},
        "ValidationException",
        400,
        "maxRuntimeInSeconds",
    ),
    "a runtime over 5 days": (
        {"stoppingCondition": {"maxRuntimeInSeconds": 432001}},
        "ValidationException",
        400,
        "value less than or equal to 432000",
    ),
    "a channel name with a space": (
        {"inputDataConfig": [{"channelName": "my data", "dataSource": {"s3DataSource": {"s3Uri": S3}}}]},
        "ValidationException",
        400,
        "at 'inputDataConfig.1.member.channelName'",
    ),
    "two channels of one name": (
        {"inputDataConfig": [{"channelName": "input", "dataSource": {"s3DataSource": {"s3Uri": S3}}}] * 2},
        "ValidationException",
        400,
        "Duplicate input data channel names are not allowed: input",
    ),
}


@pytest.mark.parametrize("case", CREATE_CASES)
def test_create_job_refuses_with_braket_s_errors(
    braket: Callable[..., Any], aws: Callable[[str, str], Any], case: str
) -> None:
    overrides, code, status, message = CREATE_CASES[case]
    client = braket(validate=False)  # what botocore's own validation would stop, the service must stop too

    with pytest.raises(ClientError) as raised:
        create_job(client, aws("s3", "us-east-1"), QUICK, "algo", **overrides)

    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert message in error["Error"]["Message"]


@pytest.mark.parametrize(
    ("arn", "code"),
    [
        ("arn:aws:braket:us-east-1:123:job/x", "ValidationException"),  # the account is 12 digits
        (f"arn:aws:braket:us-east-1:{ACCOUNT}:quantum-task/x", "ValidationException"),
        (f"arn:aws:braket:us-east-1:{ACCOUNT}:job/{PARAMETER_ID}", "ResourceNotFoundException"),
    ],
)
def test_get_and_cancel_job_refuse_what_is_not_a_known_job(braket: Callable[..., Any], arn: str, code: str) -> None:
    client = braket(validate=False)
    for call in (client.get_job, client.cancel_job):
        with pytest.raises(ClientError) as raised:
            call(jobArn=arn)
        assert raised.value.response["Error"]["Code"] == code


def test_a_job_is_found_only_in_its_region_and_a_client_token_creates_it_once(
    braket: Callable[..., Any], aws: Callable[[str, str], Any]
) -> None:
    client, s3 = braket(), aws("s3", "us-east-1")
    token = str(uuid.uuid4())
    arn = create_job(client, s3, QUICK, "algo", clientToken=token, jobName="once")
    again = create_job(client, s3, QUICK, "algo", clientToken=token, jobName="once")

    with pytest.raises(ClientError) as raised:
        braket("eu-north-1").get_job(jobArn=arn)

    assert again == arn and arn.startswith(f"arn:aws:braket:us-east-1:{ACCOUNT}:job/")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    named = client.search_jobs(filters=[{"name": "jobName", "operator": "EQUAL", "values": ["once"]}])["jobs"]
    assert [job["jobArn"] for job in named] == [arn]
    wait_job(client, arn)


def test_search_jobs_filters_and_pages(braket: Callable[..., Any], aws: Callable[[str, str], Any]) -> None:
    client, s3, tag = braket(), aws("s3", "us-east-1"), uuid.uuid4().hex[:8]
    start = datetime.now(UTC) - timedelta(seconds=1)
    older = create_job(client, s3, QUICK, "algo", jobName=f"alpha-{tag}", tags={"team": "a"})
    newer = create_job(client, s3, QUICK, "algo", jobName=f"beta-{tag}")
    end = datetime.now(UTC) + timedelta(seconds=1)

    def search(*filters: tuple[str, str, list[str]], **extra: Any) -> list[str]:
        answer = client.search_jobs(filters=[{"name": n, "operator": o, "values": v} for n, o, v in filters], **extra)
        return [job["jobArn"] for job in answer["jobs"]]

    window = [start.isoformat(), end.isoformat()]
    assert search(("jobName", "CONTAINS", [tag])) == [newer, older]  # newest first
    assert search(("jobName", "EQUAL", [f"alpha-{tag}", "none"])) == [older]
    assert search(("jobArn", "EQUAL", [newer])) == [newer]
    assert search(("jobName", "CONTAINS", [tag]), ("deviceArn", "EQUAL", [SV1]), ("createdAt", "BETWEEN", window)) == [
        newer,
        older,
    ]
    assert search(("jobName", "CONTAINS", [tag]), ("createdAt", "GT", [end.isoformat()])) == []
    assert search(("jobName", "CONTAINS", [tag]), ("deviceArn", "EQUAL", ["local:braket/default"])) == []
    first = client.search_jobs(filters=[{"name": "jobName", "operator": "CONTAINS", "values": [tag]}], maxResults=1)
    second = client.search_jobs(
        filters=[{"name": "jobName", "operator": "CONTAINS", "values": [tag]}],
        maxResults=1,
        nextToken=first["nextToken"],
    )
    assert [job["jobArn"] for job in first["jobs"] + second["jobs"]] == [newer, older] and "nextToken" not in second
    summary = next(job for job in client.search_jobs(filters=[])["jobs"] if job["jobArn"] == older)
    assert set(summary) <= {"status", "jobArn", "jobName", "device", "createdAt", "startedAt", "endedAt", "tags"}
    assert (summary["device"], summary["jobName"], summary["tags"]) == (SV1, f"alpha-{tag}", {"team": "a"})
    assert older not in [job["jobArn"] for job in braket("us-west-2").search_jobs(filters=[])["jobs"]]
    for arn in (older, newer):
        wait_job(client, arn)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([("status", "EQUAL", ["RUNNING"])], "Invalid filter name 'status'"),
        ([("jobArn", "EQUAL", ["arn"]), ("jobName", "EQUAL", ["x"])], "cannot be combined"),
        ([("deviceArn", "CONTAINS", ["sv1"])], "supports only EQUAL, not CONTAINS"),
        ([("createdAt", "BETWEEN", ["2026-01-01T00:00:00Z"])], "exactly 2 values"),
        ([("createdAt", "CONTAINS", ["2026-01-01T00:00:00Z"])], "does not support the CONTAINS operator"),
        ([("createdAt", "GT", ["yesterday"])], "RFC 3339"),
    ],
)
def test_search_jobs_refuses_filters_braket_does_not_take(
    braket: Callable[..., Any], filters: list[tuple[str, str, list[str]]], message: str
) -> None:
    with pytest.raises(ClientError) as raised:
        braket().search_jobs(filters=[{"name": n, "operator": o, "values": v} for n, o, v in filters])

    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert message in raised.value.response["Error"]["Message"]


def test_an_embedded_simulator_and_a_reservation_are_taken_and_a_missing_script_fails_the_job(
    braket: Callable[..., Any], aws: Callable[[str, str], Any]
) -> None:
    client = braket()
    reservation = [
        {"arn": f"arn:aws:braket:us-east-1:{ACCOUNT}:reservation/r-1", "type": "RESERVATION_TIME_WINDOW_ARN"}
    ]
    arn = create_job(
        client,
        aws("s3", "us-east-1"),
        QUICK,
        "algo",
        deviceConfig={"device": "local:braket/braket.local.qubit"},
        associations=reservation,
        algorithmSpecification={
            "scriptModeConfig": {"entryPoint": "algo", "s3Uri": S3},
            "containerImage": {"uri": IMAGE},
        },
        roleArn=ROLE_ARN,
    )

    job = client.get_job(jobArn=arn)

    assert job["deviceConfig"] == {"device": "local:braket/braket.local.qubit"}
    assert job["associations"] == reservation
    failed = wait_job(client, arn)  # no script at that S3 URI: the container's own words
    assert failed["status"] == "FAILED" and "Unable to download code." in failed["failureReason"]
