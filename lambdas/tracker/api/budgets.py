"""Budgets at submission: the Task API refuses a task whose estimated cost would take one of its
scopes past 100% of its monthly budget (402 `BudgetExceeded`, saying what remains), and holds the
estimate of the tasks it accepts until they end, so concurrent submissions cannot pass a budget
together (data.budget_holds).

The estimate (logic.costs.estimate_cost) is the most a QPU task can cost (every requested shot) and
the least a simulator task can: its 3 s minimum, since its duration is known only when it has run.
A long simulation can therefore end above a budget that admitted it; the alerts say so. Tasks
submitted outside the API cannot be refused by the tracker: they only count, and alert.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tracker.api import errors
from tracker.data.budget_holds import HOLD_SECONDS, BudgetHolds, BudgetWouldBeExceeded
from tracker.data.price_catalogue import CatalogueSource
from tracker.data.task_table import StorageError
from tracker.domain import normalize_time
from tracker.logic.budgets import Budget, budgets_for, submission_scopes
from tracker.logic.costs import estimate_cost
from tracker.logic.notification import usd
from tracker.logic.totals import Reservation


@dataclass(frozen=True)
class Hold:
    reservation: Reservation


class BudgetGuard:
    def __init__(
        self,
        budgets: Sequence[Budget],
        holds: BudgetHolds,
        catalogue: CatalogueSource,
        promoted_tag_keys: Sequence[str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.budgets = tuple(budgets)
        self.holds = holds
        self.catalogue = catalogue
        self.promoted_tag_keys = tuple(promoted_tag_keys)
        self.clock = clock

    def reserve(self, device_arn: str, region: str, shots: int, submitter: str, tags: Mapping[str, str]) -> Hold | None:
        """Hold the submission's estimate against the budgets of its scopes (None when none applies).
        Raises errors.BudgetExceeded."""
        scopes = submission_scopes(device_arn, submitter, tags, self.promoted_tag_keys)
        budgets = budgets_for(self.budgets, scopes)
        if not budgets:
            return None
        estimate = estimate_cost(device_arn, region, shots, self.catalogue.current())
        amount = estimate.usd if estimate.usd is not None else Decimal(0)
        now = self.clock()
        reservation = Reservation(str(uuid.uuid4()), normalize_time(now)[:7], amount, tuple(b.scope for b in budgets))
        expires = normalize_time(now + timedelta(seconds=HOLD_SECONDS))
        for attempt in range(2):
            try:
                self.holds.reserve(reservation, budgets, normalize_time(now), expires)
                return Hold(reservation)
            except BudgetWouldBeExceeded as exceeded:
                if attempt == 0 and self._release_expired(reservation.month):
                    continue  # a dead submission's hold was taking the room
                raise _refusal(exceeded, amount, reservation.month, estimate.basis.to_item()) from exceeded
        raise AssertionError("unreachable")  # pragma: no cover

    def link(self, hold: Hold | None, task_arn: str) -> None:
        """Move the hold onto the created task. If DynamoDB fails now, the task is created all the
        same: its hold expires and is given back, and the task still counts when it ends."""
        if hold is not None:
            with contextlib.suppress(StorageError):
                self.holds.link(hold.reservation, task_arn, normalize_time(self.clock()))

    def release(self, hold: Hold | None) -> None:
        if hold is not None:
            self.holds.release(hold.reservation, normalize_time(self.clock()))

    def _release_expired(self, month: str) -> bool:
        now = normalize_time(self.clock())
        released = [self.holds.release(pending.reservation, now) for pending in self.holds.expired(month, now)]
        return any(released)


def _refusal(
    exceeded: BudgetWouldBeExceeded, estimate: Decimal, month: str, basis: dict[str, object]
) -> errors.ApiError:
    budget, total = exceeded.budget, exceeded.total
    remaining = budget.remaining(total.committed_usd)
    return errors.BudgetExceeded(
        f"this task's estimated cost, {usd(estimate)}, would take {budget.scope} past its budget of "
        f"{usd(budget.monthly_usd)} for {month}: {usd(remaining)} remains "
        f"({usd(total.usd)} spent, {usd(total.reserved_usd)} held by tasks still running)",
        scope=budget.scope,
        month=month,
        monthlyUsd=_text(budget.monthly_usd),
        spentUsd=_text(total.usd),
        reservedUsd=_text(total.reserved_usd),
        remainingUsd=_text(remaining),
        estimateUsd=_text(estimate),
        estimateBasis=basis,
    )


def _text(value: Decimal) -> str:
    return f"{value.normalize():f}"
