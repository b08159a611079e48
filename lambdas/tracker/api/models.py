"""The Task API's wire models: requests, answers and errors, as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tracker.constants import MAX_PROGRAM_BYTES

DEVICE_ARN = r"^arn:aws[a-z-]*:braket:[a-z0-9-]*::device/[A-Za-z0-9_./-]{1,200}$"
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\w .:/=+@-]+$")]
TagValue = Annotated[str, StringConstraints(max_length=256, pattern=r"^[\w .:/=+@-]*$")]
InputValue = float | int | list[float | int]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubmitTaskRequest(_Strict):
    deviceArn: Annotated[str, StringConstraints(pattern=DEVICE_ARN, max_length=256)] = Field(
        description="The device to run on, e.g. arn:aws:braket:::device/quantum-simulator/amazon/sv1"
    )
    shots: int = Field(ge=0, le=1_000_000, description="0 for exact results (simulators only)")
    program: Annotated[str, StringConstraints(min_length=1)] = Field(
        description=f"OpenQASM 3 source, at most {MAX_PROGRAM_BYTES:,} bytes (UTF-8); larger programs get 413",
        json_schema_extra={"maxLength": MAX_PROGRAM_BYTES},
    )
    inputs: dict[Annotated[str, StringConstraints(min_length=1, max_length=256)], InputValue] | None = Field(
        default=None, description="Values of the program's `input` parameters", max_length=1000
    )
    tags: dict[TagKey, TagValue] | None = Field(default=None, description="Task tags (at most 40)", max_length=40)
    deviceParameters: dict[str, Any] | None = Field(
        default=None, description="Device-specific parameters, as Braket's deviceParameters JSON"
    )


class SubmitTaskResponse(BaseModel):
    taskArn: str
    taskId: str
    status: Literal["CREATED"] = "CREATED"
    location: str = Field(description="The task's URL in this API (also in the Location header)")


class QueueInfo(BaseModel):
    queue: str | None = None
    position: str | None = None
    queuePriority: str | None = None
    message: str | None = None


class TaskView(BaseModel):
    """A task as the table records it (see the README's table schema)."""

    taskArn: str
    taskId: str
    region: str
    account: str
    deviceArn: str
    deviceName: str
    shots: int
    status: str
    statusTimes: dict[str, str]
    createdAt: str
    lastEventAt: str
    eventCount: int
    outputS3Bucket: str
    outputS3Directory: str
    resultsUri: str
    origin: str
    endedAt: str | None = None
    queueSeconds: float | None = None
    runSeconds: float | None = None
    submitter: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    enriched: bool | None = None
    failureReason: str | None = None
    numSuccessfulShots: int | None = None
    jobArn: str | None = None
    notifiedAt: str | None = None
    queueInfo: QueueInfo | None = Field(default=None, description="Only with ?include=queue, from Braket")


class TaskPage(BaseModel):
    tasks: list[TaskView]
    next: str | None = Field(default=None, description="Pass as ?next= for the following page; absent on the last")


class CancelResponse(BaseModel):
    taskArn: str
    status: Literal["CANCELLING", "CANCELLED"]


class TaskResult(BaseModel):
    taskArn: str
    status: Literal["COMPLETED", "FAILED", "CANCELLED"]
    kind: str | None = Field(default=None, description="gate-model, analog-hamiltonian-simulation, program-set, ...")
    shots: int | None = None
    measuredQubits: list[int] | None = None
    counts: dict[str, int] | None = Field(default=None, description="Bitstring -> count (shots > 0)")
    probabilities: dict[str, float] | None = Field(default=None, description="Bitstring -> probability (shots = 0)")
    resultsUrl: str | None = Field(default=None, description="Presigned GET URL of results.json")
    urlExpiresAt: str | None = None
    failureReason: str | None = None


class ErrorResponse(BaseModel):
    error: str = Field(description="A stable, machine-readable error name")
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
