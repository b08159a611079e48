"""The "Braket Job State Change" event as EventBridge delivers it, and its mapping to the job domain.

AWS lists the event (source aws.braket, durable delivery) but documents no detail, and no captured
event is public. The one public consumer (awslabs/quantum-computing-exploration-for-drug-discovery-on-aws,
source/src/cdk/stack-main.ts and lambda/checkHybridExperimentStatus.py) matches `detail.status` on
JobPrimaryStatus values and reads `detail.jobArn`; its SNS template also names `detail.startedAt` and
`detail.endedAt`. So, like the task event's model, this one is the only gate, and:
- strict about what is relied on: the envelope (`id`, `time` in the plausible window, `source`,
  `detail-type`), `detail.jobArn` (a whole-string pattern, at most 218 ASCII characters) and
  `detail.status` (one of GetJob's six);
- lenient about the hints: `startedAt`/`endedAt` are read when they are times in Braket's format,
  and otherwise kept as sent, with the other unknown fields;
- keeps every other field of `detail`, as canonical JSON per field, bounded in bytes: a detail over
  MAX_DETAIL_BYTES, or unknown fields over MAX_UNKNOWN_BYTES, are refused with the reason.
The envelope's account and Region are not relied on (a forwarding rule rewrites them): the job's
come from its ARN.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo

from tracker.domain import plausible_time
from tracker.job_domain import JobArn, JobEvent, JobStatus
from tracker.models.event import EVENT_ID, MAX_EVENT_ID_LENGTH, InvalidEvent
from tracker.models.job_kind import is_job_event

__all__ = ["InvalidEvent", "is_job_event", "parse_job_event"]

MAX_DETAIL_BYTES = 64 * 1024
"""A detail larger than this is no state change we know of (EventBridge's entry limit is 256 KB)."""
MAX_UNKNOWN_BYTES = 8 * 1024
MAX_UNKNOWN_FIELDS = 32
MAX_FIELD_NAME = 128
RELIED_ON = ("jobArn", "status")
HINTS = ("startedAt", "endedAt")


def _event_id(value: str) -> str:
    if not EVENT_ID.fullmatch(value):
        raise ValueError(f"not an event id (1 to {MAX_EVENT_ID_LENGTH} of A-Z a-z 0-9 . _ : -): {value[:300]!r}")
    return value


def _plausible(value: str, info: ValidationInfo) -> str:
    now = info.context.get("now") if isinstance(info.context, dict) else None
    return plausible_time(value, now)


# The task event's envelope rules (tracker.models.event), as pydantic types for this model.
EventId = Annotated[str, AfterValidator(_event_id)]
EventTime = Annotated[str, AfterValidator(_plausible)]


class JobStateChange(BaseModel):
    """The envelope; `detail` is checked field by field in `parse_job_event`."""

    model_config = ConfigDict(populate_by_name=True)

    version: str
    id: EventId
    source: Literal["aws.braket"]
    account: str | None = None
    time: EventTime
    region: str | None = None
    resources: list[str] = Field(default_factory=list)
    detail_type: Literal["Braket Job State Change"] = Field(alias="detail-type")
    detail: dict[str, Any]


def parse_job_event(body: str | dict[str, Any], now: datetime | None = None) -> JobEvent:
    """Validate a job state change (JSON text or dict) and map it to the domain. Raises InvalidEvent,
    and nothing else, for any input."""
    try:
        if isinstance(body, str):
            model = JobStateChange.model_validate_json(body, context={"now": now})
        else:
            model = JobStateChange.model_validate(body, context={"now": now})
        return _to_event(model, now)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in exc.errors()[:5]]
        raise InvalidEvent("; ".join(problems)[:2000]) from exc
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        raise InvalidEvent(f"event: {exc}"[:1000]) from exc


def _to_event(model: JobStateChange, now: datetime | None) -> JobEvent:
    detail = model.detail
    size = len(_canonical(detail).encode("utf-8"))
    if size > MAX_DETAIL_BYTES:
        raise ValueError(f"detail is {size:,} bytes; a job state change has at most {MAX_DETAIL_BYTES:,}")
    arn, status = detail.get("jobArn"), detail.get("status")
    if not isinstance(arn, str):
        raise ValueError("detail.jobArn: a job ARN (string) is required")
    job = JobArn.parse(arn)
    if not isinstance(status, str) or status not in JobStatus.__members__:
        shown = status[:40] if isinstance(status, str) else status
        raise ValueError(f"detail.status: {shown!r} is not one of {', '.join(JobStatus)}")
    unknown = {name: _canonical(value) for name, value in detail.items() if name not in (*RELIED_ON, *HINTS)}
    hints: dict[str, str | None] = {}
    for name in HINTS:
        hints[name] = _time_hint(detail.get(name), now)
        if name in detail and hints[name] is None:
            unknown[name] = _canonical(detail[name])  # kept as sent: GetJob's times are the authority
    _check_unknown(unknown)
    job_status = JobStatus(status)
    return JobEvent(
        event_id=model.id,
        time=model.time,
        job=job,
        status=job_status,
        started_at=hints["startedAt"],
        ended_at=hints["endedAt"] if job_status.finished else None,
        unknown=unknown,
    )


def _time_hint(value: Any, now: datetime | None) -> str | None:
    if not isinstance(value, str) or not 20 <= len(value) <= 35 or not value.endswith("Z"):
        return None
    try:
        return plausible_time(value, now)
    except ValueError:
        return None


def _check_unknown(unknown: dict[str, str]) -> None:
    if len(unknown) > MAX_UNKNOWN_FIELDS:
        raise ValueError(f"detail has {len(unknown)} fields we do not know; at most {MAX_UNKNOWN_FIELDS} are kept")
    for name in unknown:
        if not 0 < len(name) <= MAX_FIELD_NAME or not name.isprintable() or not _encodable(name):
            raise ValueError(f"detail field name {name[:40]!r}: 1 to {MAX_FIELD_NAME} printable characters")
    size = sum(len(name.encode("utf-8")) + len(value) for name, value in unknown.items())
    if size > MAX_UNKNOWN_BYTES:
        raise ValueError(f"detail's unknown fields take {size:,} bytes; at most {MAX_UNKNOWN_BYTES:,} are kept")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _canonical(value: Any) -> str:
    """Canonical JSON, ASCII only (so a lone surrogate is escaped, never stored raw), no NaN or infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("detail holds a number JSON cannot carry")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
