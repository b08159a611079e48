"""SearchQuantumTasks and SearchDevices: filters, and pages with an opaque nextToken."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from local.braket.errors import ValidationException
from local.braket.models import STATUSES, Task

T = TypeVar("T")
Predicate = Callable[[Task], bool]
DEFAULT_MAX_RESULTS = 100

_FIELDS: dict[str, Callable[[Task], str | None]] = {
    "quantumTaskArn": lambda task: task.arn,
    "deviceArn": lambda task: task.device_arn,
    "jobArn": lambda task: task.job_arn,
    "status": lambda task: task.status,
}
_COMPARE: dict[str, Callable[[datetime, datetime], bool]] = {
    "LT": lambda a, b: a < b,
    "LTE": lambda a, b: a <= b,
    "EQUAL": lambda a, b: a == b,
    "GT": lambda a, b: a > b,
    "GTE": lambda a, b: a >= b,
}


def task_filter(filters: Sequence[dict[str, Any]]) -> Predicate:
    """All filters must hold. String fields take EQUAL (any of the values); createdAt takes every operator."""
    predicates = [_one_filter(f["name"], f["operator"], list(f["values"])) for f in filters]
    return lambda task: all(predicate(task) for predicate in predicates)


def _one_filter(name: str, operator: str, values: list[str]) -> Predicate:
    if name == "createdAt":
        return _created_at_filter(operator, values)
    if name not in _FIELDS:
        raise ValidationException(
            f"Invalid filter name '{name}': use quantumTaskArn, deviceArn, jobArn, status or createdAt"
        )
    if operator != "EQUAL":
        raise ValidationException(f"Filter '{name}' supports only the EQUAL operator, not {operator}")
    if name == "status" and (unknown := [v for v in values if v not in STATUSES]):
        raise ValidationException(f"Invalid status value(s) {unknown}: use one of {', '.join(STATUSES)}")
    field = _FIELDS[name]
    return lambda task: field(task) in values


def _created_at_filter(operator: str, values: list[str]) -> Predicate:
    within = time_filter("createdAt", operator, values)
    return lambda task: within(task.created_at)


def time_filter(name: str, operator: str, values: list[str]) -> Callable[[datetime], bool]:
    """A time filter's test: LT, LTE, EQUAL, GT, GTE take one RFC 3339 value, BETWEEN two (inclusive)."""
    times = [_timestamp(value) for value in values]
    if operator == "BETWEEN":
        if len(times) != 2:
            raise ValidationException(f"Filter '{name}' with BETWEEN takes exactly 2 values, not {len(times)}")
        low, high = sorted(times)
        return lambda moment: low <= moment <= high
    if operator not in _COMPARE:
        raise ValidationException(f"Filter '{name}' does not support the {operator} operator")
    if len(times) != 1:
        raise ValidationException(f"Filter '{name}' with {operator} takes exactly 1 value, not {len(times)}")
    compare, moment = _COMPARE[operator], times[0]
    return lambda value: compare(value, moment)


def _timestamp(value: str) -> datetime:
    """An RFC 3339 date-time; without an offset it is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationException(f"Invalid createdAt value '{value}': use an RFC 3339 date-time") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def page(
    items: Sequence[T], key: Callable[[T], str], max_results: int | None, next_token: str | None
) -> tuple[list[T], str | None]:
    """One page of items (already in order) after the item the token names, and the token for the next page."""
    start = 0
    if next_token is not None:
        after = _decode(next_token)
        keys = [key(item) for item in items]
        if after not in keys:
            raise ValidationException("Invalid nextToken")
        start = keys.index(after) + 1
    size = max_results or DEFAULT_MAX_RESULTS
    chunk = list(items[start : start + size])
    more = start + size < len(items)
    return chunk, (_encode(key(chunk[-1])) if more and chunk else None)


def _encode(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def _decode(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeError) as exc:
        raise ValidationException("Invalid nextToken") from exc
