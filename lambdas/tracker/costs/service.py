"""The cost keeper: for a task whose stream record says it has ended (or whose end changed), make
the totals, the task's ledger entry and its item agree with the task table, exactly once.

For each record: read the task (consistent), price it (once per distinct usage: the ledger keeps the
cost, so a redelivery never reads results.json again), move its ledger entry to what the table says
in one conditional transaction with the totals' differences (logic.totals), write the cost on the
item, then send the budget alerts it has set off. Each step converges: a retried or redelivered
record finds its work done and does nothing twice, and any later record of the task repairs what
an earlier one left undone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tracker.constants import ORIGIN_BACKFILL
from tracker.costs.alerts import BudgetAlerts, Sent
from tracker.costs.pricer import TaskPricer
from tracker.data.cost_totals import CostTotals
from tracker.data.task_costs import TaskCosts
from tracker.data.task_table import StorageError, TaskTable
from tracker.domain import TaskRecord, normalize_time
from tracker.logic.task_costs import month_of, scopes_of, usage_key
from tracker.logic.totals import Counted, changes

MAX_ATTEMPTS = 8


class Outcome(StrEnum):
    COUNTED = "counted"  # the task's first count
    MOVED = "moved"  # a counted task moved (corrected end, details filled in, another month)
    UNCHANGED = "unchanged"  # already counted as the table says: a redelivery, or the item's own cost write
    NOT_FINISHED = "not-finished"


@dataclass(frozen=True)
class KeepResult:
    outcome: Outcome
    cost_usd: Decimal | None = None
    basis: dict[str, Any] = field(default_factory=dict)
    alerts: tuple[Sent, ...] = ()
    execution_error: str | None = None
    spent_usd: Decimal = Decimal(0)
    """What this call added to the account's totals: the cost counted, less what was counted before."""


class CostKeeper:
    def __init__(
        self,
        tasks: TaskTable,
        task_costs: TaskCosts,
        totals: CostTotals,
        pricer: TaskPricer,
        *,
        alerts: BudgetAlerts | None = None,
        promoted_tag_keys: Sequence[str] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.tasks = tasks
        self.task_costs = task_costs
        self.totals = totals
        self.pricer = pricer
        self.alerts = alerts
        self.promoted_tag_keys = tuple(promoted_tag_keys)
        self.clock = clock

    def keep(self, task_arn: str) -> KeepResult:
        record = self.tasks.get(task_arn)
        if record is None or not record.status.finished:
            return KeepResult(Outcome.NOT_FINISHED)
        key = usage_key(record)
        error: str | None = None
        spent = Decimal(0)
        for _ in range(MAX_ATTEMPTS):
            entry = self.totals.ledger(task_arn)
            if entry.usage_key == key and entry.cost_basis is not None:
                cost_usd, basis = entry.cost_usd, dict(entry.cost_basis)
            else:
                priced = self.pricer.price(record)
                (cost_usd, basis), error = priced.as_cost(record), priced.execution_error
            scopes = scopes_of(record, self.promoted_tag_keys)
            target = Counted(month_of(record), scopes, cost_usd or Decimal(0), cost_usd is not None)
            if entry.at_target(target) and entry.usage_key == key:
                outcome = Outcome.UNCHANGED
                break
            after = entry.counting(target, key, cost_usd, basis)
            if self.totals.move(entry, after, changes(entry, target), normalize_time(self.clock())):
                outcome = Outcome.COUNTED if entry.counted is None else Outcome.MOVED
                spent = target.usd - (entry.counted.usd if entry.counted is not None else Decimal(0))
                break
        else:
            raise StorageError(f"the ledger entry of {task_arn} kept changing; giving up for a retry")
        self._write_on_item(record, cost_usd, basis)
        sent: list[Sent] = []
        if self.alerts is not None and record.origin != ORIGIN_BACKFILL:
            sent = self.alerts.check(target.month, target.scopes, task_arn)
        return KeepResult(outcome, cost_usd, basis, tuple(sent), error, spent)

    def _write_on_item(self, record: TaskRecord, cost_usd: Decimal | None, basis: dict[str, Any]) -> None:
        if record.cost_usd == cost_usd and record.cost_basis == basis:
            return
        self.task_costs.write(record.task.arn, record.status.value, cost_usd, basis)
