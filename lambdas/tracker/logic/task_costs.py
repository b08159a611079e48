"""A recorded task as the cost logic and the totals see it: pure.

- `usage`: what a finished task's price depends on, from its item (and, for a completed simulator
  task, the execution duration its results.json reports);
- `usage_key`: a fingerprint of those inputs, so a cost is computed once per distinct input (a
  redelivered stream record reuses it, and never reads results.json again);
- `month_of` and `scopes_of`: where a task counts in the totals: the UTC month of its end, and
  the account, its device, its submitter and each promoted tag's value.

Scopes are strings, as the `budgets` setting names them: `account`, `device:<device ARN>`,
`submitter:<IAM ARN>`, `tag:<key>=<value>`. A task with no known submitter (submitted outside the
Task API) counts under `submitter:` (empty), one without a promoted tag under `tag:<key>=`: each
breakdown then adds up to the account's total.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tracker.domain import Status, TaskRecord
from tracker.logic.costs import TaskCost, TaskUsage, device, reservation_arn

ACCOUNT = "account"
DEVICE_PREFIX = "device:"
SUBMITTER_PREFIX = "submitter:"
TAG_PREFIX = "tag:"
MAX_SCOPE_BYTES = 1024
"""DynamoDB's limit on a sort key: a longer scope keeps a readable head and a digest of the whole."""


def needs_execution_time(record: TaskRecord) -> bool:
    """Whether pricing the task needs its simulator's execution duration (from results.json): a
    completed simulator task outside a reservation."""
    kind = device(record.device_arn)
    associations = record.enrichment.associations if record.enrichment else ()
    return (
        record.status is Status.COMPLETED
        and kind is not None
        and kind.simulator
        and reservation_arn(associations) is None
    )


def usage(record: TaskRecord, execution_ms: int | None = None) -> TaskUsage:
    enrichment = record.enrichment
    return TaskUsage(
        device_arn=record.device_arn,
        region=record.task.region,
        shots=record.shots,
        status=record.status,
        job_task=bool(enrichment and enrichment.job_arn),
        associations=tuple(enrichment.associations) if enrichment else (),
        execution_ms=execution_ms,
        successful_shots=enrichment.num_successful_shots if enrichment else None,
    )


def usage_key(record: TaskRecord) -> str:
    """The inputs a cost depends on, besides the catalogue and results.json (16 hex digits)."""
    enrichment = record.enrichment
    inputs = {
        "status": record.status.value,
        "device": record.device_arn,
        "region": record.task.region,
        "shots": record.shots,
        "job": bool(enrichment and enrichment.job_arn),
        "reservation": reservation_arn(enrichment.associations) if enrichment else None,
        "successfulShots": enrichment.num_successful_shots if enrichment else None,
        "enriched": bool(enrichment and enrichment.complete),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def basis_item(cost: TaskCost, record: TaskRecord) -> dict[str, Any]:
    """The `costBasis` the item shows: how the cost was reached, and the status it priced."""
    return {**cost.basis.to_item(), "status": record.status.value}


def cost_for_status(record: TaskRecord) -> tuple[Decimal | None, dict[str, Any]] | None:
    """The cost written on the item, if it prices the task's current status."""
    basis = record.cost_basis
    if basis is None or basis.get("status") != record.status.value:
        return None
    return record.cost_usd, basis


def month_of(record: TaskRecord) -> str:
    """The UTC month a finished task counts in: that of its end (`endedAt`; without one, the time
    its final status was first reported)."""
    ended = record.ended_at or record.status_times.get(record.status) or record.last_event_at
    return ended[:7]


def scopes_of(record: TaskRecord, promoted_tag_keys: Sequence[str]) -> tuple[str, ...]:
    tags = record.enrichment.tags if record.enrichment else record.tags
    scopes = [ACCOUNT, DEVICE_PREFIX + record.device_arn, SUBMITTER_PREFIX + (record.submitter or "")]
    scopes += [f"{TAG_PREFIX}{key}={tags.get(key) or ''}" for key in promoted_tag_keys]
    return tuple(dict.fromkeys(bounded_scope(scope) for scope in scopes))


def bounded_scope(scope: str) -> str:
    """The scope as a sort key: within DynamoDB's 1,024 bytes (a digest replaces the tail of a longer one)."""
    encoded = scope.encode()
    if len(encoded) <= MAX_SCOPE_BYTES:
        return scope
    digest = hashlib.sha256(encoded).hexdigest()[:16]
    head = encoded[: MAX_SCOPE_BYTES - 32].decode("utf-8", "ignore")
    return f"{head}...#{digest}"


def tag_scope(key: str, value: str) -> str:
    return bounded_scope(f"{TAG_PREFIX}{key}={value}")


def scope_prefix(by: str) -> str:
    """The sort-key prefix of one breakdown: `submitter`, `device` or `tag:<key>`."""
    if by in ("submitter", "device"):
        return by + ":"
    if by.startswith(TAG_PREFIX) and len(by) > len(TAG_PREFIX):
        return by + "="
    raise ValueError(f"by must be submitter, device or tag:<key>, not {by!r}")
