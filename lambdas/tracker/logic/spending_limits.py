"""Braket's spending limits, as Braket reports them: pure.

A spending limit caps one QPU's spend (CreateSpendingLimit, one per device). Braket reports each
change of its spend as a "Braket Spending Limit Spend Change" event, documented in the Amazon Braket
Developer Guide ("Monitor spending limit changes with EventBridge",
https://docs.aws.amazon.com/braket/latest/developerguide/braket-monitor-eventbridge.html):

    {"detail-type": "Braket Spending Limit Spend Change", "source": "aws.braket", "time": "...",
     "resources": [<spending limit ARN>, <quantum task ARN>],
     "detail": {"quantumTaskArn", "deviceArn", "spendingLimit": "10.00", "spendingLimitArn",
                "totalSpend": "5.00", "queuedSpend": "1.00",
                "timePeriod": {"startAt": <epoch ms>, "endAt": <epoch ms>}}}

(The EventBridge event reference, https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-braket.html,
does not list it yet.) SearchSpendingLimits answers the same figures on demand (SpendingLimitSummary:
https://docs.aws.amazon.com/braket/latest/APIReference/API_SpendingLimitSummary.html), with its time
period in epoch seconds. Events can arrive out of order: of two reports, the later one (event time,
then the larger total, then the larger queued spend) is kept, whatever the arrival order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tracker.constants import BRAKET_EVENT_SOURCE, SPENDING_LIMIT_SPEND_CHANGE
from tracker.domain import TaskArn, normalize_time, plausible_time

_LIMIT_ARN = re.compile(r"arn:aws[a-z-]{0,16}:braket:[a-z0-9-]{1,32}:[0-9]{12}:spending-limit/[A-Za-z0-9_.-]{1,128}")
_DEVICE_ARN = re.compile(r"arn:aws[a-z-]{0,16}:braket:[a-z0-9-]{0,32}::device/[A-Za-z0-9_./-]{1,200}")
_AMOUNT = re.compile(r"\d{1,12}(?:\.\d{1,10})?")
MAX_EPOCH_MS = 253_402_300_799_000  # 9999-12-31T23:59:59Z


class InvalidSpendingLimit(ValueError):
    """An event or answer this code cannot trust: the reason says what is wrong."""


@dataclass(frozen=True)
class SpendingLimit:
    spending_limit_arn: str
    device_arn: str
    limit_usd: Decimal
    total_spend_usd: Decimal
    queued_spend_usd: Decimal
    period_start: str | None
    period_end: str | None
    reported_at: str
    source: str  # "event" (a spend change) or "search" (SearchSpendingLimits)
    task_arn: str | None = None

    @property
    def month(self) -> str:
        return self.reported_at[:7]

    @property
    def version(self) -> str:
        """What orders two reports of one limit: sortable as text (a DynamoDB condition compares it)."""
        return f"{self.reported_at}|{self.total_spend_usd:025.10f}|{self.queued_spend_usd:025.10f}"

    @property
    def remaining_usd(self) -> Decimal:
        return max(self.limit_usd - self.total_spend_usd - self.queued_spend_usd, Decimal(0))

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "spendingLimitArn": self.spending_limit_arn,
            "deviceArn": self.device_arn,
            "spendingLimitUsd": self.limit_usd,
            "totalSpendUsd": self.total_spend_usd,
            "queuedSpendUsd": self.queued_spend_usd,
            "reportedAt": self.reported_at,
            "source": self.source,
        }
        for name, value in (("startAt", self.period_start), ("endAt", self.period_end), ("taskArn", self.task_arn)):
            if value is not None:
                item[name] = value
        return item


def from_event(event: Any, now: datetime | None = None) -> SpendingLimit:
    """A "Braket Spending Limit Spend Change" event. Raises InvalidSpendingLimit."""
    if not isinstance(event, dict) or event.get("source") != BRAKET_EVENT_SOURCE:
        raise InvalidSpendingLimit("not an aws.braket event")
    if event.get("detail-type") != SPENDING_LIMIT_SPEND_CHANGE:
        raise InvalidSpendingLimit(f"detail-type is {event.get('detail-type')!r}, not {SPENDING_LIMIT_SPEND_CHANGE}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidSpendingLimit("the event has no detail object")
    try:
        reported_at = plausible_time(_text(event, "time"), now)
    except ValueError as exc:
        raise InvalidSpendingLimit(f"time: {exc}") from exc
    task = detail.get("quantumTaskArn")
    if task is not None:
        try:
            TaskArn.parse(task)
        except ValueError as exc:
            raise InvalidSpendingLimit(str(exc)) from exc
    period = detail.get("timePeriod")
    start, end = _period(period, 1000) if period is not None else (None, None)
    return SpendingLimit(
        spending_limit_arn=_matching(detail, "spendingLimitArn", _LIMIT_ARN),
        device_arn=_matching(detail, "deviceArn", _DEVICE_ARN),
        limit_usd=_amount(detail, "spendingLimit"),
        total_spend_usd=_amount(detail, "totalSpend"),
        queued_spend_usd=_amount(detail, "queuedSpend"),
        period_start=start,
        period_end=end,
        reported_at=reported_at,
        source="event",
        task_arn=task,
    )


def from_summary(summary: Any, observed_at: datetime) -> SpendingLimit:
    """One SpendingLimitSummary of SearchSpendingLimits (boto3 parses its times). Raises InvalidSpendingLimit."""
    if not isinstance(summary, dict):
        raise InvalidSpendingLimit("a spending limit summary is an object")
    period = summary.get("timePeriod")
    start, end = _period(period, None) if period is not None else (None, None)
    return SpendingLimit(
        spending_limit_arn=_matching(summary, "spendingLimitArn", _LIMIT_ARN),
        device_arn=_matching(summary, "deviceArn", _DEVICE_ARN),
        limit_usd=_amount(summary, "spendingLimit"),
        total_spend_usd=_amount(summary, "totalSpend"),
        queued_spend_usd=_amount(summary, "queuedSpend"),
        period_start=start,
        period_end=end,
        reported_at=normalize_time(observed_at),
        source="search",
    )


def _text(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise InvalidSpendingLimit(f"{name} is missing or not text")
    return value


def _matching(document: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = _text(document, name)
    if not pattern.fullmatch(value):
        shown = value if len(value) <= 300 else value[:300] + "..."
        raise InvalidSpendingLimit(f"{name} {shown!r} does not match {pattern.pattern}")
    return value


def _amount(document: dict[str, Any], name: str) -> Decimal:
    value = document.get(name)
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        raise InvalidSpendingLimit(f"{name} is a USD amount written as a decimal string, not {value!r}")
    return Decimal(value)


def _period(period: Any, per_second: int | None) -> tuple[str, str]:
    """The time period's start and end: epoch milliseconds in events (`per_second` 1000), datetimes
    from boto3 (`per_second` None)."""
    if not isinstance(period, dict):
        raise InvalidSpendingLimit("timePeriod is an object")
    return _moment(period.get("startAt"), per_second, "startAt"), _moment(period.get("endAt"), per_second, "endAt")


def _moment(value: Any, per_second: int | None, name: str) -> str:
    if per_second is None:
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise InvalidSpendingLimit(f"timePeriod.{name} is not a time")
        return normalize_time(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_EPOCH_MS:
        raise InvalidSpendingLimit(f"timePeriod.{name} is epoch milliseconds, not {value!r}")
    return normalize_time(datetime.fromtimestamp(value / per_second, UTC))
