"""The "Braket Task State Change" event as EventBridge delivers it, and its mapping to the domain.

Shaped after real events: `shots` arrives as a string, `endedAt` only on finished tasks,
`eventName` is INSERT then MODIFY. Unknown fields are ignored so that additions by AWS never
block the queue; a missing or mistyped field we rely on makes the event invalid.

This model is the recorder's only gate: whatever it accepts can be written, indexed, notified and
served. So every field that is stored is bounded here, in the units of the service that stores it
(DynamoDB's key limits are in UTF-8 bytes: 2,048 for a partition key, 1,024 for a sort key), every
pattern matches the whole value, and every time lies in a plausible window (domain.plausible_time).

The model is declared as a table of fields and checked by hand, not with pydantic: importing pydantic
and building the model was the largest part of the recorder's cold start beyond boto3, and the cold
start is on the way of a task's end to its waiters (measured: bench/results/cold-start.md). It accepts
exactly the JSON documents that the pydantic model accepted, and maps them to the same domain event
(tests/unit/test_event_parsing.py checks it with hypothesis against that model, kept in
tests/support/pydantic_event_model.py): text is text, a number is not a time, `shots` is a whole
number or a string of ASCII digits; JSON text that nests containers more than 200 deep or escapes a
lone surrogate is refused, as pydantic's JSON parser refuses it; and the envelope's `detail-type` and
`replay-name` may also be spelled with an underscore, as the pydantic model's field names allowed.
Python values that JSON cannot carry (bytes, tuples) are refused, where pydantic's lax mode coerced them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tracker.domain import Status, TaskArn, TaskEvent, plausible_time

MAX_EVENT_ID_LENGTH = 128
MAX_S3_DIRECTORY_BYTES = 1024  # S3's limit on an object key, in UTF-8 bytes
MAX_SHOTS = 1_000_000_000
EVENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_DEVICE_ARN = re.compile(r"arn:aws[a-z-]{0,16}:braket:[a-z0-9-]{0,32}::device/[A-Za-z0-9_./-]{1,200}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_DIGITS = re.compile(r"[0-9]{1,10}")
_MAX_PROBLEMS = 5
MAX_JSON_DEPTH = 200
"""Non-empty arrays and objects nested in one another, the event itself included: the recursion limit
of pydantic's JSON parser (jiter), which the model used to parse the queue's message text."""
_SECOND_NAMES = {"detail-type": "detail_type", "replay-name": "replay_name"}
"""Envelope fields that the pydantic model also accepted by their Python name (populate_by_name)."""
SOURCE = "aws.braket"
DETAIL_TYPE = "Braket Task State Change"


class InvalidEvent(ValueError):
    """The message is not a Braket task state change we can record."""


class _Problem(ValueError):
    """One field's value is not what the model allows."""


Check = Callable[[Any, datetime | None], Any]


def _text(value: Any, _: datetime | None = None) -> str:
    if not isinstance(value, str):
        raise _Problem(f"should be a string, not {type(value).__name__}")
    return value


def _whole(pattern: re.Pattern[str], what: str) -> Check:
    def check(value: Any, _: datetime | None = None) -> str:
        text = _text(value)
        if not pattern.fullmatch(text):
            raise _Problem(f"not {what}: {text[:300]!r}")
        return text

    return check


def _equal(expected: str) -> Check:
    def check(value: Any, _: datetime | None = None) -> str:
        if value != expected:
            raise _Problem(f"should be {expected!r}, not {str(value)[:100]!r}")
        return expected

    return check


def _optional_text(value: Any, _: datetime | None = None) -> str | None:
    return None if value is None else _text(value)


def _texts(value: Any, _: datetime | None = None) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Problem("should be a list of strings")
    return value


def _time(value: Any, now: datetime | None) -> str:
    return plausible_time(_text(value), now)


def _optional_time(value: Any, now: datetime | None) -> str | None:
    return None if value is None else _time(value, now)


def _task_arn(value: Any, _: datetime | None = None) -> TaskArn:
    return TaskArn.parse(_text(value))


def _status(value: Any, _: datetime | None = None) -> Status:
    if not isinstance(value, str) or value not in Status.__members__:
        raise _Problem(f"should be one of {', '.join(Status)}, not {str(value)[:40]!r}")
    return Status(value)


def _shots(value: Any, _: datetime | None = None) -> int:
    """Real events carry shots as a decimal string; accept that or a JSON integer, nothing else."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _Problem("shots must be a whole number or a string of digits")
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise _Problem(f"shots is not a whole number: {value[:40]!r}")
    shots = int(value)
    if not 0 <= shots <= MAX_SHOTS:
        raise _Problem(f"shots must be from 0 to {MAX_SHOTS:,}, not {shots}")
    return shots


def _s3_directory(value: Any, _: datetime | None = None) -> str:
    text = _text(value)
    size = len(text.encode("utf-8", "surrogatepass"))
    if not 1 <= size <= MAX_S3_DIRECTORY_BYTES:
        raise _Problem(f"{size:,} bytes: an S3 key prefix has 1 to {MAX_S3_DIRECTORY_BYTES:,}")
    if any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise _Problem("an S3 key prefix has no control characters or lone surrogates")
    return text


# The model: each field, whether it is required, and its check. Other fields are ignored.
ENVELOPE: tuple[tuple[str, bool, Check], ...] = (
    ("version", True, _text),
    ("id", True, _whole(EVENT_ID, f"an event id (1 to {MAX_EVENT_ID_LENGTH} of A-Z a-z 0-9 . _ : -)")),
    ("source", True, _equal(SOURCE)),
    # The task's account and Region come from its ARN: the envelope's may be missing or rewritten
    # (a forwarding rule, or moto's EventBridge, which leaves `account` out when it targets SQS).
    ("account", False, _optional_text),
    ("time", True, _time),
    ("region", False, _optional_text),
    ("resources", True, _texts),
    ("detail-type", True, _equal(DETAIL_TYPE)),
    ("replay-name", False, _optional_text),
)
DETAIL: tuple[tuple[str, bool, Check], ...] = (
    ("quantumTaskArn", True, _task_arn),
    ("status", True, _status),
    ("deviceArn", True, _whole(_DEVICE_ARN, "a Braket device ARN")),
    ("shots", True, _shots),
    ("outputS3Bucket", True, _whole(_BUCKET, "an S3 bucket name")),
    ("outputS3Directory", True, _s3_directory),
    ("createdAt", True, _time),
    ("endedAt", False, _optional_time),
    ("eventName", False, _optional_text),
)


def parse_task_event(body: str | dict[str, Any], now: datetime | None = None) -> TaskEvent:
    """Validate an EventBridge event (JSON text or dict) and map it to the domain.

    Raises InvalidEvent, and nothing else, for any input: `now` is the clock the time window is
    judged by (the current time by default).
    """
    try:
        if isinstance(body, str):
            body.encode("utf-8")  # text JSON cannot carry (a lone surrogate) is refused, as UTF-8 would be
            body = json.loads(body)
            _check_json(body, 0)
        return _task_event(body, now)
    except InvalidEvent:
        raise
    except json.JSONDecodeError as exc:
        raise InvalidEvent(f"event: Invalid JSON: {exc}"[:1000]) from exc
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:  # UnicodeError is a ValueError
        raise InvalidEvent(f"event: {exc}"[:1000]) from exc


def _task_event(body: Any, now: datetime | None) -> TaskEvent:
    problems: list[str] = []
    envelope = _fields(body, ENVELOPE, "", now, problems)
    raw_detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(body, dict) and "detail" not in body:
        problems.append("detail: Field required")
    elif isinstance(body, dict) and not isinstance(raw_detail, dict):
        problems.append("detail: should be an object")
    detail = _fields(raw_detail, DETAIL, "detail.", now, problems) if isinstance(raw_detail, dict) else {}
    if problems:
        raise InvalidEvent("; ".join(problems[:_MAX_PROBLEMS])[:2000])
    status: Status = detail["status"]
    return TaskEvent(
        event_id=envelope["id"],
        time=envelope["time"],
        task=detail["quantumTaskArn"],
        status=status,
        device_arn=detail["deviceArn"],
        shots=detail["shots"],
        output_s3_bucket=detail["outputS3Bucket"],
        output_s3_directory=detail["outputS3Directory"],
        created_at=detail["createdAt"],
        ended_at=detail.get("endedAt") if status.finished else None,
    )


def _fields(
    source: Any, model: tuple[tuple[str, bool, Check], ...], prefix: str, now: datetime | None, problems: list[str]
) -> dict[str, Any]:
    if not isinstance(source, dict):
        problems.append(f"{prefix.rstrip('.') or 'event'}: should be an object")
        return {}
    found: dict[str, Any] = {}
    for name, required, check in model:
        given = name if name in source or prefix else _SECOND_NAMES.get(name, name)
        if given not in source:
            if required:
                problems.append(f"{prefix}{name}: Field required")
            continue
        try:
            found[name] = check(source[given], now)
        except (ValueError, TypeError, OverflowError) as exc:
            problems.append(f"{prefix}{name}: {exc}")
    return found


def _check_json(value: Any, depth: int) -> None:
    """Refuse what pydantic's JSON parser refused in a document that json.loads reads: containers
    nested deeper than MAX_JSON_DEPTH, and strings (keys too) with a lone surrogate, which only a
    \\u escape can bring (the text itself is UTF-8-clean by then; a valid pair is one character)."""
    if isinstance(value, str):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise InvalidEvent("event: Invalid JSON: lone surrogate in a \\u escape")
        return
    if not isinstance(value, dict | list) or not value:
        return
    if depth >= MAX_JSON_DEPTH:
        raise InvalidEvent(f"event: Invalid JSON: nested more than {MAX_JSON_DEPTH} deep")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_json(key, depth)
            _check_json(item, depth + 1)
    else:
        for item in value:
            _check_json(item, depth + 1)
