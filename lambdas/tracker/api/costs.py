"""The Task API's cost reads: a month's totals (`GET /costs`), and Braket's spending limits asked now
(`GET /spending-limits`), each beside the other's figures. One Query (or one GetItem for the
account) answers a breakdown; nothing here writes."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tracker.api import errors
from tracker.api.cost_models import (
    BudgetView,
    CostReport,
    CostRow,
    DeviceSpendingLimit,
    SpendingLimitsReport,
    SpendingLimitView,
    TrackerFigures,
)
from tracker.data.cost_totals import CostTotals, Total
from tracker.data.spending_limits import BraketSpendingLimits
from tracker.data.task_table import StorageError
from tracker.domain import normalize_time
from tracker.logic.budgets import Budget, percent_text
from tracker.logic.spending_limits import SpendingLimit
from tracker.logic.task_costs import ACCOUNT, DEVICE_PREFIX, TAG_PREFIX, scope_prefix

MONTH = re.compile(r"(20[1-9][0-9])-(0[1-9]|1[0-2])")


class CostService:
    def __init__(
        self,
        totals: CostTotals,
        budgets: Sequence[Budget],
        promoted_tag_keys: Sequence[str],
        *,
        limits: BraketSpendingLimits,
        regions: Sequence[str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.totals = totals
        self.budgets = {budget.scope: budget for budget in budgets}
        self.promoted_tag_keys = tuple(promoted_tag_keys)
        self.limits = limits
        self.regions = tuple(regions)
        self.clock = clock

    def this_month(self) -> str:
        return normalize_time(self.clock())[:7]

    def report(self, month: str | None, by: str, limit: int, token: str | None) -> CostReport:
        month = month or self.this_month()
        if not MONTH.fullmatch(month):
            raise errors.ValidationFailed(
                "month is YYYY-MM, e.g. 2026-12", errors=[{"path": "query.month", "message": "not YYYY-MM"}]
            )
        if by == ACCOUNT:
            total = self._storage(lambda: self.totals.total(month, ACCOUNT))
            rows = [self._row(total, "")]
            return CostReport(month=month, by=by, rows=rows, totalUsd=rows[0].usd)
        prefix = self._prefix(by)
        start = _decode(token, prefix) if token else None
        page, last = self._storage(lambda: self.totals.breakdown(month, prefix, limit, start))
        rows = [self._row(total, prefix) for total in page if total.tasks or total.spending_limit or total.reserved_usd]
        complete = last is None and token is None
        total_usd = _text(sum((Decimal(row.usd) for row in rows), Decimal(0))) if complete else None
        return CostReport(
            month=month, by=by, rows=rows, totalUsd=total_usd, next=None if last is None else _encode(last, prefix)
        )

    def spending_limits(self) -> SpendingLimitsReport:
        """Every spending limit in the deployment's Braket Regions, asked of Braket now, each with
        what the tracker counts for its device this month."""
        found, problems = self.limits.search(self.regions, self.clock)
        month = self.this_month()
        totals = self._storage(lambda: self.totals.totals([(month, DEVICE_PREFIX + f.device_arn) for f in found]))
        limits = [
            DeviceSpendingLimit(
                **_limit_view(limit).model_dump(),
                tracker=_figures(totals[(month, DEVICE_PREFIX + limit.device_arn)]),
            )
            for limit in sorted(found, key=lambda f: f.device_arn)
        ]
        return SpendingLimitsReport(limits=limits, problems=problems)

    def _prefix(self, by: str) -> str:
        if by.startswith(TAG_PREFIX) and by[len(TAG_PREFIX) :] not in self.promoted_tag_keys:
            raise errors.UnsupportedFilter(
                f"totals are kept for promoted tag keys only: {', '.join(self.promoted_tag_keys) or 'none'}",
                supported=self.supported(),
            )
        try:
            return scope_prefix(by)
        except ValueError as exc:
            raise errors.UnsupportedFilter(str(exc), supported=self.supported()) from exc

    def supported(self) -> list[str]:
        return ["account", "submitter", "device", *(TAG_PREFIX + key for key in self.promoted_tag_keys)]

    def _row(self, total: Total, prefix: str) -> CostRow:
        budget = self.budgets.get(total.scope)
        return CostRow(
            scope=total.scope,
            value=total.scope[len(prefix) :] if prefix else None,
            usd=_text(total.usd),
            tasks=total.tasks,
            unpricedTasks=total.unpriced_tasks,
            reservedUsd=_text(total.reserved_usd),
            budget=None if budget is None else _budget_view(budget, total),
            braketSpendingLimit=None if total.spending_limit is None else _stored_limit(total.spending_limit),
        )

    @staticmethod
    def _storage(operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except StorageError as exc:
            raise errors.DependencyUnavailable(f"the cost tables did not answer: {exc}") from exc


def _budget_view(budget: Budget, total: Total) -> BudgetView:
    sent = sorted(percent for percent, alert in total.alerts.items() if "sentAt" in alert)
    return BudgetView(
        monthlyUsd=_text(budget.monthly_usd),
        percentUsed=_text(budget.percent_used(total.usd)),
        remainingUsd=_text(budget.remaining(total.committed_usd)),
        alertAt=[percent_text(percent) for percent in budget.alert_at],
        alertsSent=sent,
    )


def _limit_view(limit: SpendingLimit) -> SpendingLimitView:
    return SpendingLimitView(
        spendingLimitArn=limit.spending_limit_arn,
        deviceArn=limit.device_arn,
        spendingLimitUsd=_text(limit.limit_usd),
        totalSpendUsd=_text(limit.total_spend_usd),
        queuedSpendUsd=_text(limit.queued_spend_usd),
        remainingUsd=_text(limit.remaining_usd),
        startAt=limit.period_start,
        endAt=limit.period_end,
        reportedAt=limit.reported_at,
        source="event" if limit.source == "event" else "search",
    )


def _stored_limit(item: dict[str, Any]) -> SpendingLimitView:
    limit, total, queued = (Decimal(item[k]) for k in ("spendingLimitUsd", "totalSpendUsd", "queuedSpendUsd"))
    return SpendingLimitView(
        spendingLimitArn=str(item["spendingLimitArn"]),
        deviceArn=str(item["deviceArn"]),
        spendingLimitUsd=_text(limit),
        totalSpendUsd=_text(total),
        queuedSpendUsd=_text(queued),
        remainingUsd=_text(max(limit - total - queued, Decimal(0))),
        startAt=item.get("startAt"),
        endAt=item.get("endAt"),
        reportedAt=str(item["reportedAt"]),
        source="event" if item.get("source") == "event" else "search",
    )


def _figures(total: Total) -> TrackerFigures:
    return TrackerFigures(month=total.month, usd=_text(total.usd), tasks=total.tasks)


def _text(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}" if value else "0"


def _encode(scope: str, prefix: str) -> str:
    return base64.urlsafe_b64encode(scope.encode()).decode().rstrip("=")


def _decode(token: str, prefix: str) -> str:
    try:
        scope = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        scope = ""
    if not scope.startswith(prefix):
        raise errors.InvalidToken("the next token is not one this query handed out")
    return scope
