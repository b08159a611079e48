"""The Task API's wire models: requests, answers and errors, as the OpenAPI document shows them."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, NotRequired

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StringConstraints
from typing_extensions import TypedDict  # pydantic reads TypedDict from here before Python 3.12

from tracker.constants import MAX_PROGRAM_BYTES, RESERVED_TAG_PREFIX

# Patterns are matched whole: pydantic's regex engine reads `$` as the end of the text only (Python's
# re would also match before a final newline), and OpenAPI readers use ECMA-262, which does the same.
DEVICE_ARN = r"^arn:aws[a-z-]*:braket:[a-z0-9-]*::device/[A-Za-z0-9_./-]{1,200}$"
DEVICE_ARN_FORM = "arn:aws:braket:<region, empty for on-demand simulators>::device/<type>/<provider>/<name>"
TAG_CHARACTERS = r"[\w .:/=+@-]"


def _not_reserved(key: str) -> str:
    if key.lower().startswith(RESERVED_TAG_PREFIX):
        raise ValueError(f"tag keys starting with {RESERVED_TAG_PREFIX!r} are reserved for the tracker")
    return key


def _device_arn(value: str) -> str:
    if not re.fullmatch(DEVICE_ARN[1:-1], value):
        raise ValueError(f"not a Braket device ARN: expected {DEVICE_ARN_FORM}")
    return value


TagKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=f"^{TAG_CHARACTERS}+$"),
    AfterValidator(_not_reserved),
]
TagValue = Annotated[str, StringConstraints(max_length=256, pattern=f"^{TAG_CHARACTERS}*$")]
Number = Annotated[StrictInt | Annotated[StrictFloat, Field(allow_inf_nan=False)], Field(union_mode="left_to_right")]
InputValue = Number | list[Number]
DeviceArn = Annotated[
    str,
    StringConstraints(max_length=256),
    AfterValidator(_device_arn),
    Field(json_schema_extra={"pattern": DEVICE_ARN}),
]


class _Strict(BaseModel):
    """A request body: no unknown fields, and no coercion (`true` is not 1, `"100"` is not 100)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class SubmitTaskRequest(_Strict):
    deviceArn: DeviceArn = Field(
        description="The device to run on, e.g. arn:aws:braket:::device/quantum-simulator/amazon/sv1"
    )
    shots: int = Field(ge=0, le=1_000_000, description="0 for exact results (simulators only)")
    program: Annotated[str, StringConstraints(min_length=1)] = Field(
        description=f"OpenQASM 3 source, at most {MAX_PROGRAM_BYTES:,} bytes (UTF-8); larger programs get 413",
        json_schema_extra={"maxLength": MAX_PROGRAM_BYTES},
    )
    inputs: dict[Annotated[str, StringConstraints(min_length=1, max_length=256)], InputValue] | None = Field(
        default=None, description="Values of the program's `input` parameters (numbers)", max_length=1000
    )
    tags: dict[TagKey, TagValue] | None = Field(
        default=None,
        description=f"Task tags (at most 40); keys starting with `{RESERVED_TAG_PREFIX}` are the tracker's own",
        max_length=40,
    )
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
    position: str | None = Field(
        default=None, description='The position ("1", ">2000"); "None" when not queued; absent until first read'
    )
    queuePriority: str | None = None
    message: str | None = None


class ActionMetadata(TypedDict):
    """As Braket gives it: `actionType` (braket.ir.openqasm.program, braket.ir.ahs.program, ...), and the
    counts of a program set only (absent, not null, otherwise)."""

    actionType: str
    programCount: NotRequired[int]
    executableCount: NotRequired[int]


class Association(BaseModel):
    arn: str
    type: str = Field(description="RESERVATION_TIME_WINDOW_ARN: the task ran in a Braket Direct reservation")


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
    notifications: dict[str, str] | None = Field(
        default=None, description="Each final status announced on the notification topic, and when (corrections)"
    )
    costUsd: str | None = Field(
        default=None, description="What the task cost, in USD (an exact decimal), once it has ended and been priced"
    )
    costBasis: dict[str, Any] | None = Field(
        default=None, description="How costUsd was reached: the rule, the prices used, the shots or billed duration"
    )
    deviceParameters: str | None = Field(
        default=None, description="Braket's deviceParameters (JSON), from its answer at the end; not in listings"
    )
    actionMetadata: ActionMetadata | None = Field(default=None, description="Braket's, from its answer at the end")
    associations: list[Association] | None = Field(
        default=None, description="Braket Direct reservations the task ran in, from Braket's answer at the end"
    )
    queueInfo: QueueInfo | None = Field(
        default=None, description="Only with ?include=queue: Braket's queueInfo, read at most once a minute"
    )
    queueInfoReadAt: str | None = Field(default=None, description="Only with ?include=queue: when Braket was asked")


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
