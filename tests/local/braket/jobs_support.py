"""Hybrid jobs against the local Braket service: a source module uploaded as the SDK uploads it, CreateJob
as the SDK calls it (braket/jobs/quantum_job_creation.py, prepare_quantum_job), and what a job leaves behind."""

from __future__ import annotations

import io
import tarfile
import textwrap
import time
import uuid
from typing import Any

from tests.local.braket.conftest import ACCOUNT, SV1, bucket_for

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonBraketJobsExecutionRole"
ROLE_KEY = "AmazonBraketJobsExecutionRole"  # the job's access key id: its role's name
IMAGE = "292282985366.dkr.ecr.us-east-1.amazonaws.com/amazon-braket-base-jobs:latest"
LOG_GROUP = "/aws/braket/jobs"
JOB_FINISHED = {"COMPLETED", "FAILED", "CANCELLED"}


def source_archive(files: dict[str, str], folder: str | None = None) -> bytes:
    """source.tar.gz as the SDK builds it: one file at the root, or one folder (`folder`) holding the files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = textwrap.dedent(text).encode()
            info = tarfile.TarInfo(f"{folder}/{name}" if folder else name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def create_job(
    client: Any,
    s3: Any,
    files: dict[str, str],
    entry_point: str,
    *,
    folder: str | None = None,
    **overrides: Any,
) -> str:
    """Upload the source and call CreateJob with the SDK's defaults (overridable per parameter)."""
    region = client.meta.region_name
    bucket = bucket_for(region)
    name = overrides.pop("jobName", f"test-{uuid.uuid4().hex[:12]}")
    prefix = f"jobs/{name}/{int(time.time() * 1000)}"
    s3.put_object(Bucket=bucket, Key=f"{prefix}/script/source.tar.gz", Body=source_archive(files, folder))
    params: dict[str, Any] = {
        "jobName": name,
        "roleArn": ROLE_ARN,
        "algorithmSpecification": {
            "scriptModeConfig": {
                "entryPoint": entry_point,
                "s3Uri": f"s3://{bucket}/{prefix}/script/source.tar.gz",
                "compressionType": "GZIP",
            },
            "containerImage": {"uri": IMAGE},
        },
        "inputDataConfig": [],
        "instanceConfig": {"instanceType": "ml.m5.large", "volumeSizeInGb": 30, "instanceCount": 1},
        "outputDataConfig": {"s3Path": f"s3://{bucket}/{prefix}/data"},
        "checkpointConfig": {"localPath": "/opt/jobs/checkpoints", "s3Uri": f"s3://{bucket}/{prefix}/checkpoints"},
        "deviceConfig": {"device": SV1},
        "hyperParameters": {},
        "stoppingCondition": {"maxRuntimeInSeconds": 432000},
        "tags": {},
    }
    params.update(overrides)
    return str(client.create_job(**params)["jobArn"])


def wait_job(client: Any, arn: str, statuses: set[str] | None = None, timeout: float = 60) -> dict[str, Any]:
    """Poll GetJob until the job reaches one of the statuses."""
    wanted = statuses or JOB_FINISHED
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get_job(jobArn=arn)
        if job["status"] in wanted or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def log_lines(logs: Any, job: dict[str, Any]) -> list[str]:
    """The job's log, as the SDK finds it: streams named `<jobName>/<job id>/...`."""
    prefix = f"{job['jobName']}/{job['jobArn'].rsplit('/', 1)[-1]}"
    streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=prefix)["logStreams"]
    lines: list[str] = []
    for stream in streams:
        events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=stream["logStreamName"], startFromHead=True)
        lines += [event["message"] for event in events["events"]]
    return lines


def wait_for_log(logs: Any, client: Any, arn: str, text: str, timeout: float = 60) -> list[str]:
    """Until a line of the job's log contains `text` (the job is then running its code)."""
    job = client.get_job(jobArn=arn)
    deadline = time.monotonic() + timeout
    while True:
        lines = log_lines(logs, job)
        if any(text in line for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def s3_location(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def model_archive(s3: Any, job: dict[str, Any]) -> dict[str, bytes]:
    """The files of `<s3Path>/output/model.tar.gz`, by their names in the archive."""
    bucket, key = s3_location(job["outputDataConfig"]["s3Path"] + "/output/model.tar.gz")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        return {
            member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile()
        }


def job_statuses(events: list[dict[str, Any]]) -> list[str]:
    return [event["detail"]["status"] for event in events]
