"""A Braket client double for the job API (GetJob, SearchJobs, CancelJob), answering in the documented
shape (botocore's: datetimes), with what the SDK's AwsQuantumJob.create sends (research §3.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

CREATED = datetime(2026, 11, 20, 8, 59, 59, 120000, tzinfo=UTC)


def get_job_answer(arn: str, status: str, **changes: Any) -> dict[str, Any]:
    name = changes.pop("jobName", "vqe-h2-bond-0-74")
    answer: dict[str, Any] = {
        "jobArn": arn,
        "jobName": name,
        "status": status,
        "roleArn": "arn:aws:iam::012345678901:role/service-role/AmazonBraketJobsExecutionRole",
        "algorithmSpecification": {
            "scriptModeConfig": {
                "entryPoint": "vqe",
                "s3Uri": f"s3://amazon-braket-us-east-1-012345678901/jobs/{name}/1763629199120/script/source.tar.gz",
                "compressionType": "GZIP",
            },
            "containerImage": {"uri": "292282985366.dkr.ecr.us-east-1.amazonaws.com/amazon-braket-base-jobs:latest"},
        },
        "inputDataConfig": [],
        "outputDataConfig": {"s3Path": f"s3://amazon-braket-us-east-1-012345678901/jobs/{name}/1763629199120/data"},
        "checkpointConfig": {
            "localPath": "/opt/jobs/checkpoints",
            "s3Uri": f"s3://amazon-braket-us-east-1-012345678901/jobs/{name}/1763629199120/checkpoints",
        },
        "stoppingCondition": {"maxRuntimeInSeconds": 432000},
        "instanceConfig": {"instanceType": "ml.m5.large", "volumeSizeInGb": 30, "instanceCount": 1},
        "deviceConfig": {"device": "arn:aws:braket:::device/quantum-simulator/amazon/sv1"},
        "hyperParameters": {"iterations": "10", "stepsize": "0.1"},
        "createdAt": CREATED,
        "tags": {},
        "events": [{"eventType": "QUEUED_FOR_EXECUTION", "timeOfEvent": CREATED, "message": ""}],
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }
    if status != "QUEUED":
        answer["startedAt"] = CREATED + timedelta(seconds=41)
    if status in ("COMPLETED", "FAILED", "CANCELLED"):
        answer["endedAt"] = CREATED + timedelta(seconds=372)
        answer["billableDuration"] = 331000
    if status == "FAILED":
        answer["failureReason"] = "AlgorithmError: ValueError: the ansatz has no parameters, exit code: 1"
    answer.update(changes)
    return answer


class DocumentedJobs:
    """GetJob answers with the status set per job (default: `status`); counts every call."""

    def __init__(self, status: str = "COMPLETED") -> None:
        self.status = status
        self.statuses: dict[str, str] = {}
        self.get_calls: list[str] = []
        self.search_calls: list[dict[str, Any]] = []
        self.jobs: list[dict[str, Any]] = []  # what SearchJobs lists
        self.throttle = False

    def get_job(self, jobArn: str, additionalAttributeNames: list[str] | None = None) -> dict[str, Any]:
        self.get_calls.append(jobArn)
        if self.throttle:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetJob")
        answer = get_job_answer(jobArn, self.statuses.get(jobArn, self.status))
        if additionalAttributeNames == ["QueueInfo"]:
            answer["queueInfo"] = {"queue": "JOBS_QUEUE", "position": "2"}
        return answer

    def search_jobs(self, filters: list[dict[str, Any]], maxResults: int, nextToken: str | None = None) -> Any:
        self.search_calls.append({"filters": filters, "nextToken": nextToken})
        return {"jobs": list(self.jobs)}

    def cancel_job(self, jobArn: str) -> dict[str, Any]:
        return {"jobArn": jobArn, "cancellationStatus": "CANCELLING"}
