"""Pricing a finished task: its record, the price catalogue in use and, for a completed simulator
task, the execution duration in its results.json. Shared by the cost keeper, which writes the cost
on the item, and the notifier, which announces it without waiting for that write."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tracker.data.execution_times import ExecutionTimes, ResultsDenied, ResultsMissing, ResultsTooLarge
from tracker.data.price_catalogue import CatalogueSource
from tracker.domain import TaskRecord
from tracker.logic.costs import TaskCost, task_cost
from tracker.logic.notification import Cost
from tracker.logic.task_costs import basis_item, needs_execution_time, usage


@dataclass(frozen=True)
class Priced:
    cost: TaskCost
    execution_error: str | None = None
    """Why results.json gave no duration (the task is then unpriced, and says why)."""

    def as_cost(self, record: TaskRecord) -> Cost:
        return self.cost.usd, basis_item(self.cost, record)


class TaskPricer:
    def __init__(self, catalogue: CatalogueSource, executions: ExecutionTimes) -> None:
        self.catalogue = catalogue
        self.executions = executions

    def price(self, record: TaskRecord) -> Priced:
        """The cost of a finished task. Raises ResultsUnavailable if S3 did not answer (worth a retry);
        a results.json that is missing, unreadable or without a duration leaves the task unpriced."""
        execution_ms: int | None = None
        error: str | None = None
        if needs_execution_time(record):
            key = f"{record.output_s3_directory}/results.json"
            try:
                execution_ms = self.executions.read(
                    record.task.region, record.output_s3_bucket, key, record.task.account
                )
            except (ResultsMissing, ResultsDenied, ResultsTooLarge) as exc:
                error = str(exc)
        cost = task_cost(usage(record, execution_ms), self.catalogue.current())
        if error and cost.usd is None:
            cost = TaskCost(None, replace(cost.basis, reason=f"results.json: {error}"))
        return Priced(cost, error)
