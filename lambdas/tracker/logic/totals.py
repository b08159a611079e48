"""Running totals of what tasks cost, kept exactly once: pure.

Each task has one ledger entry, which says what the totals count for it now (its month, scopes and
cost) and the budget reservation the Task API made for it, if any. Keeping the totals is moving a
task's entry from what it says to what the task table says (the `target`), and applying the
difference to the totals in the same transaction, on the condition that the entry is still the
revision read. So:
- a redelivered stream record, or a retried invocation, finds the entry already at its target: no
  change, nothing added twice;
- a corrected end (another final status, another end time, Braket's details filled in later) moves
  the task: subtract what was counted, add what is true now;
- two writers racing on one task: one transaction wins, the other reads again.
Whatever the deliveries, the totals equal the sum over the task table (property-tested).

A total holds `usd` (spent by ended tasks), `tasks`, `unpricedTasks`, and for budgets
`reservedUsd` (estimates of submissions still running) and `committedUsd` = usd + reservedUsd,
kept in step so that one condition can refuse a submission that would pass a budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)
TASK_ENTRY_PREFIX = "task#"


@dataclass(frozen=True)
class Counted:
    """What the totals count for one finished task."""

    month: str
    scopes: tuple[str, ...]
    usd: Decimal
    priced: bool

    def to_item(self) -> dict[str, Any]:
        return {"month": self.month, "scopes": list(self.scopes), "usd": self.usd, "priced": self.priced}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Counted:
        return cls(
            str(item["month"]), tuple(str(s) for s in item["scopes"]), Decimal(item["usd"]), bool(item["priced"])
        )


@dataclass(frozen=True)
class Reservation:
    """A submission's estimate, held against the budgets of its scopes until the task ends."""

    reservation_id: str
    month: str
    usd: Decimal
    scopes: tuple[str, ...]

    def to_item(self) -> dict[str, Any]:
        return {"id": self.reservation_id, "month": self.month, "usd": self.usd, "scopes": list(self.scopes)}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Reservation:
        return cls(str(item["id"]), str(item["month"]), Decimal(item["usd"]), tuple(str(s) for s in item["scopes"]))


@dataclass(frozen=True)
class LedgerEntry:
    task_arn: str
    revision: int = 0
    counted: Counted | None = None
    reservation: Reservation | None = None
    settled: bool = False
    """The reservation was given back (the task was counted, or it was never created)."""
    usage_key: str | None = None
    cost_usd: Decimal | None = None
    cost_basis: Mapping[str, Any] | None = None
    """The cost counted, and how it was reached: reused while the task's usage is unchanged."""

    @property
    def entry(self) -> str:
        return TASK_ENTRY_PREFIX + self.task_arn

    @property
    def holds(self) -> Reservation | None:
        """The reservation still held against budgets."""
        return None if self.settled else self.reservation

    def counting(
        self,
        target: Counted,
        usage_key: str,
        cost_usd: Decimal | None,
        cost_basis: Mapping[str, Any],
    ) -> LedgerEntry:
        """This entry once the totals count `target` (the reservation, if any, given back)."""
        return replace(
            self,
            revision=self.revision + 1,
            counted=target,
            settled=self.reservation is not None,
            usage_key=usage_key,
            cost_usd=cost_usd,
            cost_basis=dict(cost_basis),
        )

    def at_target(self, target: Counted) -> bool:
        return self.counted == target and self.holds is None


@dataclass(frozen=True)
class Delta:
    """What one total gains (or loses)."""

    usd: Decimal = ZERO
    tasks: int = 0
    unpriced: int = 0
    reserved: Decimal = ZERO

    @property
    def committed(self) -> Decimal:
        return self.usd + self.reserved

    def __add__(self, other: Delta) -> Delta:
        return Delta(
            self.usd + other.usd,
            self.tasks + other.tasks,
            self.unpriced + other.unpriced,
            self.reserved + other.reserved,
        )

    def __neg__(self) -> Delta:
        return Delta(-self.usd, -self.tasks, -self.unpriced, -self.reserved)

    @property
    def empty(self) -> bool:
        return self == Delta()


TotalKey = tuple[str, str]  # (month, scope)


@dataclass
class Changes:
    deltas: dict[TotalKey, Delta] = field(default_factory=dict)

    def add(self, month: str, scopes: Iterable[str], delta: Delta) -> None:
        for scope in scopes:
            key = (month, scope)
            self.deltas[key] = self.deltas.get(key, Delta()) + delta

    def nonzero(self) -> dict[TotalKey, Delta]:
        return {key: delta for key, delta in self.deltas.items() if not delta.empty}


def counted_delta(counted: Counted) -> Delta:
    return Delta(usd=counted.usd, tasks=1, unpriced=0 if counted.priced else 1)


def changes(entry: LedgerEntry, target: Counted) -> dict[TotalKey, Delta]:
    """What the totals gain when `entry` moves to `target`: the old count taken out, the new one put
    in, and a reservation still held given back."""
    found = Changes()
    if entry.counted is not None:
        found.add(entry.counted.month, entry.counted.scopes, -counted_delta(entry.counted))
    found.add(target.month, target.scopes, counted_delta(target))
    held = entry.holds
    if held is not None:
        found.add(held.month, held.scopes, Delta(reserved=-held.usd))
    return found.nonzero()


def reservation_delta(reservation: Reservation) -> dict[TotalKey, Delta]:
    """What holding a reservation adds to its totals (negate it to give it back)."""
    found = Changes()
    found.add(reservation.month, reservation.scopes, Delta(reserved=reservation.usd))
    return found.nonzero()


def totals_of(entries: Iterable[LedgerEntry]) -> dict[TotalKey, Delta]:
    """The totals that a set of ledger entries stands for (what the table must hold)."""
    found = Changes()
    for entry in entries:
        if entry.counted is not None:
            found.add(entry.counted.month, entry.counted.scopes, counted_delta(entry.counted))
        held = entry.holds
        if held is not None:
            found.add(held.month, held.scopes, Delta(reserved=held.usd))
    return found.nonzero()
