"""Planning GET /tasks: every supported filter combination is one Query on one index.

A page is one Query with Limit = the page size and no filter expression, so DynamoDB reads as
many items as it returns. Combinations that no index serves are refused, never scanned.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tracker.constants import (
    INDEX_BY_ACCOUNT,
    INDEX_BY_DEVICE,
    INDEX_BY_STATUS,
    INDEX_BY_SUBMITTER,
    TAG_ATTRIBUTE_PREFIX,
    TASK_KEY,
    tag_index_name,
)
from tracker.domain import normalize_time, parse_time

MAX_PARTITION_KEY_BYTES = 2048
"""DynamoDB's limit on a partition key value (UTF-8 bytes): a filter value longer than that names no task."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class PlanError(ValueError):
    """Filters that no index serves, a filter value that is not valid (`field` names it), or a
    token that this query did not hand out."""

    def __init__(self, message: str, *, token: bool = False, field: str | None = None) -> None:
        super().__init__(message)
        self.token = token
        self.field = field


@dataclass(frozen=True)
class TaskFilters:
    status: str | None = None
    device: str | None = None
    submitter: str | None = None
    tag: str | None = None  # "key=value"
    created_after: str | None = None  # inclusive
    created_before: str | None = None  # exclusive


@dataclass(frozen=True)
class QueryPlan:
    index: str
    partition_attribute: str
    partition_value: str
    created_from: str | None  # inclusive
    created_to: str | None  # inclusive (createdBefore minus one millisecond)
    limit: int
    start_key: dict[str, Any] | None
    fingerprint: str

    @property
    def key_attributes(self) -> frozenset[str]:
        return frozenset({TASK_KEY, self.partition_attribute, "createdAt"})


SUPPORTED = (
    "no filter (all tasks, newest first)",
    "status",
    "device",
    "submitter",
    "tag (promoted keys only)",
)
"""Each may be combined with createdAfter and/or createdBefore; no two of them together."""


def plan(
    filters: TaskFilters, *, account: str, promoted_tag_keys: Sequence[str], limit: int, token: str | None
) -> QueryPlan:
    chosen = [
        (name, value)
        for name, value in (
            ("status", filters.status),
            ("device", filters.device),
            ("submitter", filters.submitter),
            ("tag", filters.tag),
        )
        if value is not None
    ]
    if len(chosen) > 1:
        names = " and ".join(name for name, _ in chosen)
        raise PlanError(f"no index serves {names} together: filter by one of status, device, submitter or tag")
    if not chosen:
        index, attribute, value = INDEX_BY_ACCOUNT, "account", account
    else:
        index, attribute, value = _index_for(*chosen[0], promoted_tag_keys)
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_PARTITION_KEY_BYTES:
            raise PlanError(
                f"{chosen[0][0]} is {size:,} bytes long; no task has a value over {MAX_PARTITION_KEY_BYTES:,} bytes",
                field=chosen[0][0],
            )
    created_from = _time(filters.created_after, "createdAfter")
    created_to = _time(filters.created_before, "createdBefore")
    if created_to is not None:
        created_to = normalize_time(parse_time(created_to) - timedelta(milliseconds=1))
    if created_from is not None and created_to is not None and created_from > created_to:
        raise PlanError("createdAfter must be before createdBefore", field="createdAfter")
    fingerprint = _fingerprint(index, value, created_from, created_to)
    result = QueryPlan(index, attribute, value, created_from, created_to, limit, None, fingerprint)
    if token is None:
        return result
    return QueryPlan(**{**result.__dict__, "start_key": decode_token(token, result)})


def _index_for(name: str, value: str, promoted_tag_keys: Sequence[str]) -> tuple[str, str, str]:
    if name == "status":
        return INDEX_BY_STATUS, "status", value
    if name == "device":
        return INDEX_BY_DEVICE, "deviceArn", value
    if name == "submitter":
        return INDEX_BY_SUBMITTER, "submitter", value
    key, separator, tag_value = value.partition("=")
    if not separator or not key or not tag_value:
        raise PlanError("tag filters look like tag=key=value, with a key and a value")
    if key not in promoted_tag_keys:
        promoted = ", ".join(promoted_tag_keys) or "none are promoted in this deployment"
        raise PlanError(f"tag {key!r} is not a promoted tag key ({promoted})")
    return tag_index_name(key), TAG_ATTRIBUTE_PREFIX + key, tag_value


def _time(value: str | None, name: str) -> str | None:
    """An ISO-8601 time with a time zone, or a date alone (midnight UTC)."""
    if value is None:
        return None
    try:
        return normalize_time(value + "T00:00:00Z" if _DATE.fullmatch(value) else value)
    except ValueError as exc:
        raise PlanError(
            f"{name} must be a date (2026-11-20, midnight UTC) or an ISO-8601 time with a time zone "
            f"(2026-11-20T08:00:00Z), not {value[:40]!r}",
            field=name,
        ) from exc


def _fingerprint(*parts: str | None) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def encode_token(last_key: dict[str, Any], query: QueryPlan) -> str:
    document = json.dumps({"f": query.fingerprint, "k": last_key}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")


def decode_token(token: str, query: QueryPlan) -> dict[str, Any]:
    try:
        document = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise PlanError("the next token is not one this API handed out", token=True) from exc
    if not isinstance(document, dict):
        raise PlanError("the next token is not one this API handed out", token=True)
    if document.get("f") != query.fingerprint:
        raise PlanError("the next token belongs to a different query: repeat the same filters", token=True)
    key = document.get("k")
    if (
        not isinstance(key, dict)
        or set(key) != query.key_attributes
        or not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
    ):
        raise PlanError("the next token is not one this API handed out", token=True)
    return key
