"""The Task API's job answers, as the OpenAPI document shows them, and their mapping from the job record:
a job is shown as its item (the jobs table's attributes, plain), with JSON numbers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tracker.api.models import QueueInfo
from tracker.api.views import _plain
from tracker.job_domain import JobRecord
from tracker.models.job_item import to_item


class InputChannel(BaseModel):
    channelName: str
    s3Uri: str


class JobView(BaseModel):
    """A hybrid job as the jobs table records it (docs/jobs.md has the attributes)."""

    jobArn: str
    jobId: str
    region: str
    account: str
    status: str
    statusTimes: dict[str, str]
    createdAt: str
    lastEventAt: str
    eventCount: int
    origin: str
    taskCounts: dict[str, int] = Field(description="The job's tasks that ended, by final status")
    taskCount: int = Field(description="The job's tasks that ended")
    failedTaskCount: int
    jobName: str | None = None
    startedAt: str | None = None
    endedAt: str | None = None
    queueSeconds: float | None = None
    runSeconds: float | None = None
    enriched: bool | None = Field(default=None, description="Whether GetJob's answer is recorded")
    detailsStatus: str | None = None
    deviceArn: str | None = None
    roleArn: str | None = None
    instanceType: str | None = None
    instanceCount: int | None = None
    volumeSizeInGb: int | None = None
    hyperParameters: dict[str, str] | None = None
    hyperParametersTruncated: bool | None = None
    inputDataConfig: list[InputChannel] | None = None
    outputS3Path: str | None = None
    resultsUri: str | None = Field(default=None, description="<outputS3Path>/output/model.tar.gz, once COMPLETED")
    checkpointS3Uri: str | None = None
    entryPoint: str | None = None
    scriptS3Uri: str | None = None
    containerImage: str | None = None
    maxRuntimeInSeconds: int | None = None
    billableDuration: int | None = Field(default=None, description="GetJob's figure, as given (unit undocumented)")
    failureReason: str | None = None
    jobEvents: list[dict[str, str]] | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    reservationArn: str | None = None
    braketCreatedAt: str | None = None
    braketStartedAt: str | None = None
    braketEndedAt: str | None = None
    unknownDetail: dict[str, str] | None = Field(default=None, description="Event fields the tracker does not read")
    notifiedAt: str | None = None
    notifications: dict[str, str] | None = None
    queueInfo: QueueInfo | None = Field(default=None, description="Only with ?include=queue, from Braket (GetJob)")


class JobPage(BaseModel):
    jobs: list[JobView]
    next: str | None = Field(default=None, description="Pass as ?next= for the following page; absent on the last")


class JobCancelResponse(BaseModel):
    jobArn: str
    status: Literal["CANCELLING", "CANCELLED"]


_FIELDS = frozenset(JobView.model_fields) - {"queueInfo", "taskCount", "failedTaskCount", "resultsUri"}


def job_view(record: JobRecord, queue_info: dict[str, Any] | None = None) -> JobView:
    item = to_item(record)
    values = {name: _plain(value) for name, value in item.items() if name in _FIELDS}
    view = JobView.model_validate(
        values
        | {
            "taskCount": record.task_count,
            "failedTaskCount": record.failed_task_count,
            "resultsUri": record.results_uri if record.status.value == "COMPLETED" else None,
        }
    )
    if queue_info is not None:
        view.queueInfo = QueueInfo.model_validate({k: v for k, v in queue_info.items() if k in QueueInfo.model_fields})
    return view
