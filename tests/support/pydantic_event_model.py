"""The recorder's event model as it was written with pydantic, kept as the reference the hand-written
gate (tracker.models.event) is checked against: both must accept and refuse the same events, and map
what they accept to the same domain event (tests/unit/test_event_parsing.py).

The code below is the model as it stood before pydantic was dropped from the recorder's cold start.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo

from tracker.domain import Status, TaskArn, TaskEvent, plausible_time

MAX_EVENT_ID_LENGTH = 128
MAX_S3_DIRECTORY_BYTES = 1024  # S3's limit on an object key, in UTF-8 bytes
EVENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_DEVICE_ARN = re.compile(r"arn:aws[a-z-]{0,16}:braket:[a-z0-9-]{0,32}::device/[A-Za-z0-9_./-]{1,200}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_DIGITS = re.compile(r"[0-9]{1,10}")


class InvalidEvent(ValueError):
    """The message is not a Braket task state change we can record."""


def _shots(value: Any) -> Any:
    """Real events carry shots as a decimal string; accept that or a JSON integer, nothing else."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("shots must be a whole number or a string of digits")
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError(f"shots is not a whole number: {value[:40]!r}")
    return int(value)


def _task_arn(value: str) -> str:
    TaskArn.parse(value)
    return value


def _whole(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"not {what}: {value[:300]!r}")
        return value

    return AfterValidator(check)


def _s3_directory(value: str) -> str:
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_S3_DIRECTORY_BYTES:
        raise ValueError(f"{size:,} bytes: an S3 key prefix has at most {MAX_S3_DIRECTORY_BYTES:,}")
    if any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValueError("an S3 key prefix has no control characters or lone surrogates")
    return value


def _plausible(value: str, info: ValidationInfo) -> str:
    now = info.context.get("now") if isinstance(info.context, dict) else None
    return plausible_time(value, now)


Shots = Annotated[int, BeforeValidator(_shots), Field(ge=0, le=1_000_000_000)]
QuantumTaskArn = Annotated[str, AfterValidator(_task_arn)]
EventTime = Annotated[str, AfterValidator(_plausible)]
EventId = Annotated[str, _whole(EVENT_ID, f"an event id (1 to {MAX_EVENT_ID_LENGTH} of A-Z a-z 0-9 . _ : -)")]
DeviceArn = Annotated[str, _whole(_DEVICE_ARN, "a Braket device ARN")]
BucketName = Annotated[str, _whole(_BUCKET, "an S3 bucket name")]
S3Directory = Annotated[str, Field(min_length=1), AfterValidator(_s3_directory)]


class TaskStateDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    quantum_task_arn: QuantumTaskArn = Field(alias="quantumTaskArn")
    status: Status
    device_arn: DeviceArn = Field(alias="deviceArn")
    shots: Shots
    output_s3_bucket: BucketName = Field(alias="outputS3Bucket")
    output_s3_directory: S3Directory = Field(alias="outputS3Directory")
    created_at: EventTime = Field(alias="createdAt")
    ended_at: EventTime | None = Field(default=None, alias="endedAt")
    event_name: str | None = Field(default=None, alias="eventName")


class TaskStateChange(BaseModel):
    """The EventBridge envelope, with the fields of Powertools' EventBridgeModel. Declared here rather
    than subclassed: importing that model imports every Powertools parser model (about 85 ms of the
    recorder's cold start, see bench/results/cold-start.md)."""

    model_config = ConfigDict(populate_by_name=True)

    version: str
    id: EventId
    source: Literal["aws.braket"]
    # The task's account and Region come from its ARN: the envelope's may be missing or rewritten
    # (a forwarding rule, or moto's EventBridge, which leaves `account` out when it targets SQS).
    account: str | None = None
    time: EventTime
    region: str | None = None
    resources: list[str]
    detail_type: Literal["Braket Task State Change"] = Field(alias="detail-type")
    detail: TaskStateDetail
    replay_name: str | None = Field(default=None, alias="replay-name")


def parse_task_event(body: str | dict[str, Any], now: datetime | None = None) -> TaskEvent:
    """Validate an EventBridge event (JSON text or dict) and map it to the domain.

    Raises InvalidEvent, and nothing else, for any input: `now` is the clock the time window is
    judged by (the current time by default).
    """
    context = {"now": now}
    try:
        if isinstance(body, str):
            model = TaskStateChange.model_validate_json(body, context=context)
        else:
            model = TaskStateChange.model_validate(body, context=context)
        return to_task_event(model)
    except ValidationError as exc:
        raise InvalidEvent(_describe(exc)) from exc
    except (ValueError, TypeError, ArithmeticError) as exc:  # UnicodeError is a ValueError
        raise InvalidEvent(f"event: {exc}"[:1000]) from exc


def to_task_event(model: TaskStateChange) -> TaskEvent:
    detail = model.detail
    return TaskEvent(
        event_id=model.id,
        time=model.time,
        task=TaskArn.parse(detail.quantum_task_arn),
        status=detail.status,
        device_arn=detail.device_arn,
        shots=detail.shots,
        output_s3_bucket=detail.output_s3_bucket,
        output_s3_directory=detail.output_s3_directory,
        created_at=detail.created_at,
        ended_at=detail.ended_at if detail.status.finished else None,
    )


def _describe(exc: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or 'event'}: {error['msg']}" for error in exc.errors()[:5]
    ]
    return "; ".join(problems)[:2000]
