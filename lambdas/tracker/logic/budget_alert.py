"""The alert that a budget has reached one of its thresholds: pure, one SNS message, three readers
(like a task's notification: logic.notification):
- people (email) get a subject and a text body;
- programs get a versioned JSON document of type `braket-task-tracker.budget-alert`;
- filter policies see `type` (`budget-alert`; task notifications have `task-finished`), `scope`,
  `month`, `threshold` and `notificationId`: `{"type": ["budget-alert"]}` takes only alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tracker.logic.budgets import Budget, alert_id
from tracker.logic.notification import Notification, printable_subject, usd

DOCUMENT_TYPE = "braket-task-tracker.budget-alert"
DOCUMENT_VERSION = "1"
ATTRIBUTE_TYPE = "budget-alert"


@dataclass(frozen=True)
class Crossing:
    """A budget's threshold reached in a month, and by what."""

    budget: Budget
    month: str
    percent: Decimal
    spent_usd: Decimal
    reserved_usd: Decimal
    task_arn: str | None
    """The task whose end reached it (the one whose count this alert follows)."""


def build(crossing: Crossing) -> Notification:
    budget, percent = crossing.budget, crossing.percent
    used = budget.percent_used(crossing.spent_usd)
    subject = printable_subject(
        f"Budget {_percent(percent)}% reached: {budget.scope}, "
        f"{usd(crossing.spent_usd)} of {usd(budget.monthly_usd)} in {crossing.month}"
    )
    return Notification(
        notification_id=alert_id(budget.scope, crossing.month, percent),
        subject=subject,
        text=_text(crossing, used),
        document=_document(crossing, used),
        attributes={
            "type": _string(ATTRIBUTE_TYPE),
            "notificationId": _string(alert_id(budget.scope, crossing.month, percent)),
            "scope": _string(budget.scope),
            "month": _string(crossing.month),
            "threshold": {"DataType": "Number", "StringValue": _percent(percent)},
        },
    )


def _document(crossing: Crossing, used: Decimal) -> dict[str, Any]:
    budget = crossing.budget
    return {
        "type": DOCUMENT_TYPE,
        "version": DOCUMENT_VERSION,
        "notificationId": alert_id(budget.scope, crossing.month, crossing.percent),
        "scope": budget.scope,
        "month": crossing.month,
        "thresholdPercent": _percent(crossing.percent),
        "monthlyUsd": _amount(budget.monthly_usd),
        "spentUsd": _amount(crossing.spent_usd),
        "reservedUsd": _amount(crossing.reserved_usd),
        "remainingUsd": _amount(budget.remaining(crossing.spent_usd + crossing.reserved_usd)),
        "percentUsed": _amount(used),
        "taskArn": crossing.task_arn,
    }


def _text(crossing: Crossing, used: Decimal) -> str:
    budget = crossing.budget
    lines = [
        f"The budget of {budget.scope} has reached {_percent(crossing.percent)}% in {crossing.month}.",
        "",
        f"Spent:       {usd(crossing.spent_usd)} of {usd(budget.monthly_usd)} ({_amount(used)}%)",
        f"Reserved:    {usd(crossing.reserved_usd)} (estimates of tasks submitted through the API, still running)",
        f"Remaining:   {usd(budget.remaining(crossing.spent_usd + crossing.reserved_usd))}",
    ]
    if crossing.task_arn:
        lines.append(f"Reached by:  {crossing.task_arn}")
    lines += [
        "",
        "The Task API refuses a submission whose estimate would take this scope past 100%. Tasks",
        "submitted outside the API (the SDK, the console, hybrid jobs) cannot be stopped by the tracker:",
        "for them this alert is all it can do. Braket's own spending limits stop a QPU's spending.",
        "",
        f"Notification id: {alert_id(budget.scope, crossing.month, crossing.percent)}",
    ]
    return "\n".join(lines)


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _amount(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}
