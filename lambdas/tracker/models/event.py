"""The "Braket Task State Change" event as EventBridge delivers it, and its mapping to the domain.

Shaped after real events: `shots` arrives as a string, `endedAt` only on finished tasks,
`eventName` is INSERT then MODIFY. Unknown fields are ignored so that additions by AWS never
block the queue; a missing or mistyped field we rely on makes the event invalid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from tracker.domain import Status, TaskArn, TaskEvent, normalize_time


class InvalidEvent(ValueError):
    """The message is not a Braket task state change we can record."""


def _shots(value: Any) -> Any:
    """Real events carry shots as a decimal string; accept that or a JSON integer, nothing else."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("shots must be a whole number or a string of digits")
    if isinstance(value, str) and not value.isdigit():
        raise ValueError(f"shots is not a whole number: {value!r}")
    return int(value)


def _task_arn(value: str) -> str:
    TaskArn.parse(value)
    return value


def _iso_time(value: str) -> str:
    return normalize_time(value)


Shots = Annotated[int, BeforeValidator(_shots), Field(ge=0, le=1_000_000_000)]
QuantumTaskArn = Annotated[str, AfterValidator(_task_arn)]
IsoTime = Annotated[str, AfterValidator(_iso_time)]
NonEmpty = Annotated[str, Field(min_length=1)]


class TaskStateDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    quantum_task_arn: QuantumTaskArn = Field(alias="quantumTaskArn")
    status: Status
    device_arn: NonEmpty = Field(alias="deviceArn")
    shots: Shots
    output_s3_bucket: NonEmpty = Field(alias="outputS3Bucket")
    output_s3_directory: NonEmpty = Field(alias="outputS3Directory")
    created_at: IsoTime = Field(alias="createdAt")
    ended_at: IsoTime | None = Field(default=None, alias="endedAt")
    event_name: str | None = Field(default=None, alias="eventName")


class TaskStateChange(BaseModel):
    """The EventBridge envelope, with the fields of Powertools' EventBridgeModel. Declared here rather
    than subclassed: importing that model imports every Powertools parser model (about 85 ms of the
    recorder's cold start, see bench/results/cold-start.md)."""

    model_config = ConfigDict(populate_by_name=True)

    version: str
    id: NonEmpty
    source: Literal["aws.braket"]
    # The task's account and Region come from its ARN: the envelope's may be missing or rewritten
    # (a forwarding rule, or moto's EventBridge, which leaves `account` out when it targets SQS).
    account: str | None = None
    time: datetime
    region: str | None = None
    resources: list[str]
    detail_type: Literal["Braket Task State Change"] = Field(alias="detail-type")
    detail: TaskStateDetail
    replay_name: str | None = Field(default=None, alias="replay-name")


def parse_task_event(body: str | dict[str, Any]) -> TaskEvent:
    """Validate an EventBridge event (JSON text or dict) and map it to the domain."""
    try:
        if isinstance(body, str):
            model = TaskStateChange.model_validate_json(body)
        else:
            model = TaskStateChange.model_validate(body)
    except ValidationError as exc:
        raise InvalidEvent(_describe(exc)) from exc
    return to_task_event(model)


def to_task_event(model: TaskStateChange) -> TaskEvent:
    detail = model.detail
    return TaskEvent(
        event_id=model.id,
        time=normalize_time(_aware(model.time)),
        task=TaskArn.parse(detail.quantum_task_arn),
        status=detail.status,
        device_arn=detail.device_arn,
        shots=detail.shots,
        output_s3_bucket=detail.output_s3_bucket,
        output_s3_directory=detail.output_s3_directory,
        created_at=detail.created_at,
        ended_at=detail.ended_at if detail.status.finished else None,
    )


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise InvalidEvent("event time has no time zone")
    return value


def _describe(exc: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or 'event'}: {error['msg']}" for error in exc.errors()[:5]
    ]
    return "; ".join(problems)
