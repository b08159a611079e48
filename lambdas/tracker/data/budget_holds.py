"""Data access for the Task API's budget holds: a submission's estimate reserved against the budgets
of its scopes before Braket is asked, linked to its task once created, given back if it is not.

- `reserve`: one transaction: a pending hold (`month`, `reservation:<id>`, with its expiry) and, on
  each budgeted total, `reservedUsd` and `committedUsd` raised by the estimate, on the condition that
  `committedUsd` (spent + reserved) leaves room for it. Concurrent submissions cannot both take the
  last room: DynamoDB serializes the conditions (a loser's transaction is cancelled).
- `link`: one transaction: the hold moves onto the task's ledger entry (the cost keeper gives it back
  when it counts the task) and the pending hold is deleted. If the task was counted already (it
  ended first), the hold is given back at once.
- `release`: the pending hold is deleted and its estimate given back, once (conditional on the hold).
A hold whose submission died between `reserve` and `link` expires (HOLD_SECONDS); expired holds are
given back when a budget would refuse a submission (`expired`), so they never refuse one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tracker.constants import LEDGER_KEY, RESERVATION_SCOPE_PREFIX, TOTALS_KEY, TOTALS_SORT_KEY
from tracker.data.cost_totals import CostTotals, Total, deserialize, serialize, total_key, total_update
from tracker.logic.budgets import Budget
from tracker.logic.totals import Delta, LedgerEntry, Reservation, reservation_delta

HOLD_SECONDS = 300
"""Longer than any submission (API Gateway gives up after 29 s): an older pending hold is dead."""


class BudgetWouldBeExceeded(Exception):
    def __init__(self, budget: Budget, total: Total) -> None:
        super().__init__(f"{budget.scope}: {total.committed_usd} of {budget.monthly_usd} committed")
        self.budget = budget
        self.total = total


@dataclass(frozen=True)
class PendingHold:
    reservation: Reservation
    expires_at: str


class BudgetHolds:
    def __init__(self, totals: CostTotals) -> None:
        self.totals = totals

    def reserve(self, reservation: Reservation, budgets: Sequence[Budget], now: str, expires_at: str) -> None:
        """Hold `reservation` against `budgets` (those of its scopes). Raises BudgetWouldBeExceeded."""
        for budget in budgets:
            if budget.room(reservation.usd) < 0:  # the estimate alone is over the budget
                raise BudgetWouldBeExceeded(budget, self.totals.total(reservation.month, budget.scope))
        table = self.totals.totals_table
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": table,
                    "Item": serialize(
                        {
                            TOTALS_KEY: reservation.month,
                            TOTALS_SORT_KEY: RESERVATION_SCOPE_PREFIX + reservation.reservation_id,
                            "usd": reservation.usd,
                            "scopes": list(reservation.scopes),
                            "createdAt": now,
                            "expiresAt": expires_at,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(#scope)",
                    "ExpressionAttributeNames": {"#scope": TOTALS_SORT_KEY},
                }
            }
        ]
        for budget in budgets:
            update = total_update(table, (reservation.month, budget.scope), Delta(reserved=reservation.usd), now)
            update["Update"]["ConditionExpression"] = "attribute_not_exists(committedUsd) OR committedUsd <= :room"
            update["Update"]["ExpressionAttributeValues"] |= serialize({":room": budget.room(reservation.usd)})
            update["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            items.append(update)
        failed = self.totals.transact_or_reasons(items)
        for index, (code, item) in enumerate(failed):
            if code == "ConditionalCheckFailed" and index > 0:
                budget = budgets[index - 1]
                found = (
                    Total.from_item(deserialize(item)) if item else self.totals.total(reservation.month, budget.scope)
                )
                raise BudgetWouldBeExceeded(budget, found)

    def link(self, reservation: Reservation, task_arn: str, now: str) -> bool:
        """Move the hold onto the task's ledger entry. False if the task was counted (or held) already:
        the hold is then given back."""
        entry = LedgerEntry(task_arn)
        items = [
            {
                "Update": {
                    "TableName": self.totals.ledger_table,
                    "Key": {LEDGER_KEY: {"S": entry.entry}},
                    "UpdateExpression": "SET reservation = :reservation, settled = :false, taskArn = :task, "
                    "updatedAt = :now, revision = if_not_exists(revision, :zero) + :one",
                    "ConditionExpression": "attribute_not_exists(counted) AND attribute_not_exists(reservation)",
                    "ExpressionAttributeValues": serialize(
                        {
                            ":reservation": reservation.to_item(),
                            ":false": False,
                            ":task": task_arn,
                            ":now": now,
                            ":zero": 0,
                            ":one": 1,
                        }
                    ),
                }
            },
            self._delete_pending(reservation),
        ]
        failed = self.totals.transact_or_reasons(items)
        if not failed:
            return True
        if failed[1][0] == "ConditionalCheckFailed":
            return False  # the pending hold is gone: expired and given back
        self.release(reservation, now)
        return False

    def release(self, reservation: Reservation, now: str) -> bool:
        """Give the hold back. False if it was not pending any more (given back or linked already)."""
        items = [self._delete_pending(reservation)] + [
            total_update(self.totals.totals_table, key, -delta, now)
            for key, delta in reservation_delta(reservation).items()
        ]
        return not self.totals.transact_or_reasons(items)

    def expired(self, month: str, now: str) -> list[PendingHold]:
        """Pending holds of `month` past their expiry (one Query of the month's holds)."""
        rows = self.totals.items_with_prefix(month, RESERVATION_SCOPE_PREFIX)
        return [
            PendingHold(_reservation(row), str(row["expiresAt"])) for row in rows if str(row.get("expiresAt")) < now
        ]

    def _delete_pending(self, reservation: Reservation) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self.totals.totals_table,
                "Key": total_key(reservation.month, RESERVATION_SCOPE_PREFIX + reservation.reservation_id),
                "ConditionExpression": "attribute_exists(#scope)",
                "ExpressionAttributeNames": {"#scope": TOTALS_SORT_KEY},
            }
        }


def _reservation(row: Mapping[str, Any]) -> Reservation:
    return Reservation(
        reservation_id=str(row[TOTALS_SORT_KEY]).removeprefix(RESERVATION_SCOPE_PREFIX),
        month=str(row[TOTALS_KEY]),
        usd=Decimal(row["usd"]),
        scopes=tuple(str(scope) for scope in row["scopes"]),
    )
