"""What a quantum task costs, by Braket's billing rules, from a price catalogue; and what a submission
would cost before it runs.

Billing rules (sources in docs/costs.md, "Billing rules"):
- A QPU task costs its per-task price plus its per-shot price times the shots, whatever the gates.
  Shots are the successful ones when Braket reports fewer than requested (`numSuccessfulShots`):
  Braket gives back the estimate of unused shots. The SDK's Tracker always multiplies by the
  requested shots: this is where the two differ.
- A simulator task costs its per-minute price times its execution duration (`results.json`,
  additionalMetadata.simulatorMetadata.executionDuration, in milliseconds), with a 3 s minimum.
- Failed and cancelled tasks cost nothing, on a QPU and on a simulator.
- A task created with a Braket Direct reservation (an association of type
  RESERVATION_TIME_WINDOW_ARN) costs nothing per task, shot or minute: the reservation is billed.
- A task created inside a hybrid job is priced from the hybrid-job families of the catalogue.

Amounts are exact: computed with 28 significant digits (the SDK's Decimal context), never rounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, Context, Decimal
from enum import StrEnum
from typing import Any

from tracker.domain import Status
from tracker.logic.catalogue import SIMULATOR_OPERATION, Family, Price, PriceCatalogue, Unit

RESERVATION_ASSOCIATION = "RESERVATION_TIME_WINDOW_ARN"
MIN_SIMULATOR_MS = 3000
"""A simulator task is billed at least 3 s (Braket's pricing page; the SDK's MIN_SIMULATOR_DURATION)."""
MS_PER_UNIT = {Unit.MINUTE: 60_000, Unit.HOUR: 3_600_000}
NOT_BILLED = frozenset({Status.FAILED, Status.CANCELLED})
ARITHMETIC = Context(prec=28, rounding=ROUND_HALF_EVEN)
"""The default decimal context, made explicit: the SDK's Tracker computes in it."""

_DEVICE_ARN = re.compile(
    r"arn:aws[a-z-]*:braket:(?:[a-z0-9-]*)::device/(?P<kind>qpu|quantum-simulator)/"
    r"(?P<provider>[A-Za-z0-9_.-]{1,64})/(?P<name>[A-Za-z0-9_.-]{1,100})"
)


class Rule(StrEnum):
    QPU = "qpu"  # per task + per shot
    SIMULATOR = "simulator"  # per minute of execution, at least 3 s
    RESERVED = "reserved"  # in a Braket Direct reservation: nothing per task
    NOT_BILLED = "not-billed"  # failed or cancelled
    UNPRICED = "unpriced"  # the catalogue or the task lacks what the price needs


@dataclass(frozen=True)
class Device:
    arn: str
    simulator: bool
    price_list_name: str
    """The name the Price List prices it under (the SDK Tracker's rule: see `device`)."""


def device(arn: str) -> Device | None:
    """A Braket device ARN's kind and Price List name, or None for anything else.

    Simulators are priced by their upper-cased name (SV1); QPUs by their name with a capital first
    letter, with the SDK Tracker's special cases (IBEX, D-Wave's 2000Q and Advantage_system).
    """
    match = _DEVICE_ARN.fullmatch(arn)
    if match is None:
        return None
    name = match["name"]
    if match["kind"] == "quantum-simulator":
        return Device(arn, True, name.upper())
    name = name[0].upper() + name[1:]
    if "Ibex" in name:
        name = name.replace("Ibex", "IBEX")
    elif "2000Q" in name:
        name = "2000Q"
    elif "Advantage_system" in name:
        name = "Advantage_system"
    return Device(arn, False, name)


@dataclass(frozen=True)
class TaskUsage:
    """What a finished task's cost depends on, as the task table and results.json record it."""

    device_arn: str
    region: str  # the task's Region (its ARN's): a device ARN may have none
    shots: int  # requested
    status: Status
    job_task: bool = False  # created inside a hybrid job (GetQuantumTask's jobArn)
    associations: tuple[Mapping[str, str], ...] = ()  # GetQuantumTask's associations: [{arn, type}]
    execution_ms: int | None = None  # a simulator's executionDuration, from results.json
    successful_shots: int | None = None  # GetQuantumTask's numSuccessfulShots

    def __post_init__(self) -> None:
        for name in ("shots", "execution_ms", "successful_shots"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"{name} is a whole number from 0, not {value!r}")
        if not self.status.finished:
            raise ValueError(f"a task's cost is known when it has finished, not while {self.status.value}")

    @property
    def reservation_arn(self) -> str | None:
        return reservation_arn(self.associations)


def reservation_arn(associations: Iterable[Mapping[str, str]]) -> str | None:
    for association in associations:
        if association.get("type") == RESERVATION_ASSOCIATION:
            return association.get("arn") or ""
    return None


@dataclass(frozen=True)
class CostBasis:
    """How a cost was reached: the rule, the catalogue, the prices used and the quantities billed."""

    rule: Rule
    catalogue_version: str
    catalogue_taken_at: str
    prices: tuple[Price, ...] = ()
    shots: int | None = None  # shots billed
    shots_counted: str | None = None  # "requested" or "successful"
    execution_ms: int | None = None
    billed_ms: int | None = None
    job_task: bool = False
    reservation_arn: str | None = None
    reason: str | None = None
    estimate: bool = False

    @property
    def reserved(self) -> bool:
        return self.reservation_arn is not None

    def to_item(self) -> dict[str, Any]:
        """Plain attributes, as the task item (and the API) show them."""
        item: dict[str, Any] = {
            "rule": self.rule.value,
            "catalogueVersion": self.catalogue_version,
            "catalogueTakenAt": self.catalogue_taken_at,
            "jobTask": self.job_task,
            "reserved": self.reserved,
        }
        if self.prices:
            item["prices"] = [_price_item(price) for price in self.prices]
        for name, value in (
            ("shots", self.shots),
            ("shotsCounted", self.shots_counted),
            ("executionMs", self.execution_ms),
            ("billedMs", self.billed_ms),
            ("reservationArn", self.reservation_arn or None),
            ("reason", self.reason),
        ):
            if value is not None:
                item[name] = value
        if self.estimate:
            item["estimate"] = True
        return item


@dataclass(frozen=True)
class TaskCost:
    usd: Decimal | None
    """None when the task cannot be priced: `basis.reason` says why."""
    basis: CostBasis = field(repr=False)


def task_cost(usage: TaskUsage, catalogue: PriceCatalogue) -> TaskCost:
    """The cost of a finished task."""
    basis = CostBasis(
        rule=Rule.UNPRICED,
        catalogue_version=catalogue.version,
        catalogue_taken_at=catalogue.taken_at,
        execution_ms=usage.execution_ms,
        job_task=usage.job_task,
        reservation_arn=usage.reservation_arn,
    )
    kind = device(usage.device_arn)
    if kind is None:
        return _unpriced(basis, f"{usage.device_arn!r} is not a Braket device ARN")
    if usage.status in NOT_BILLED:
        return TaskCost(Decimal(0), _with(basis, rule=Rule.NOT_BILLED, reason=f"{usage.status.value}: not billed"))
    if basis.reserved:
        return TaskCost(Decimal(0), _with(basis, rule=Rule.RESERVED, reason="billed by its Braket Direct reservation"))
    if kind.simulator:
        if usage.execution_ms is None:
            return _unpriced(basis, "no executionDuration in results.json")
        return _simulator(basis, kind, usage.region, usage.execution_ms, catalogue)
    shots, counted = usage.shots, "requested"
    if usage.successful_shots is not None and usage.successful_shots < usage.shots:
        shots, counted = usage.successful_shots, "successful"
    return _qpu(basis, kind, usage.region, catalogue, shots=shots, counted=counted)


def estimate_cost(
    device_arn: str,
    region: str,
    shots: int,
    catalogue: PriceCatalogue,
    *,
    job_task: bool = False,
    associations: tuple[Mapping[str, str], ...] = (),
) -> TaskCost:
    """What a submission will cost at most on a QPU (every shot), and at least on a simulator: its
    3 s minimum, since a simulator's duration is known only when it has run."""
    basis = CostBasis(
        rule=Rule.UNPRICED,
        catalogue_version=catalogue.version,
        catalogue_taken_at=catalogue.taken_at,
        job_task=job_task,
        reservation_arn=reservation_arn(associations),
        estimate=True,
    )
    kind = device(device_arn)
    if kind is None:
        return _unpriced(basis, f"{device_arn!r} is not a Braket device ARN")
    if basis.reserved:
        return TaskCost(Decimal(0), _with(basis, rule=Rule.RESERVED, reason="billed by its Braket Direct reservation"))
    if kind.simulator:
        estimate = _simulator(basis, kind, region, 0, catalogue)
        if estimate.usd is None:
            return estimate
        reason = "a simulator's estimate is its 3 s minimum: its duration is known only when it has run"
        return TaskCost(estimate.usd, _with(estimate.basis, reason=reason))
    return _qpu(basis, kind, region, catalogue, shots=shots, counted="requested")


def _qpu(
    basis: CostBasis, kind: Device, region: str, catalogue: PriceCatalogue, *, shots: int, counted: str
) -> TaskCost:
    task_family, shot_family = (Family.JOB_TASK, Family.JOB_SHOT) if basis.job_task else (Family.TASK, Family.SHOT)
    per_task = catalogue.find(task_family, region, kind.price_list_name)
    per_shot = catalogue.find(shot_family, region, kind.price_list_name)
    missing = [family.value for family, price in ((task_family, per_task), (shot_family, per_shot)) if price is None]
    if missing or per_task is None or per_shot is None:
        return _unpriced(basis, f"no {' or '.join(missing)} price for {kind.price_list_name} in {region}")
    usd = ARITHMETIC.add(ARITHMETIC.multiply(per_shot.usd, Decimal(shots)), per_task.usd)
    return TaskCost(usd, _with(basis, rule=Rule.QPU, prices=(per_task, per_shot), shots=shots, shots_counted=counted))


def _simulator(basis: CostBasis, kind: Device, region: str, execution_ms: int, catalogue: PriceCatalogue) -> TaskCost:
    family = Family.JOB_SIMULATOR if basis.job_task else Family.SIMULATOR
    price = catalogue.find(family, region, kind.price_list_name, operation=SIMULATOR_OPERATION[family])
    if price is None:
        return _unpriced(basis, f"no {family.value} price for {kind.price_list_name} in {region}")
    billed = max(execution_ms, MIN_SIMULATOR_MS)
    usd = ARITHMETIC.divide(ARITHMETIC.multiply(price.usd, Decimal(billed)), Decimal(MS_PER_UNIT[price.unit]))
    return TaskCost(usd, _with(basis, rule=Rule.SIMULATOR, prices=(price,), billed_ms=billed))


def _unpriced(basis: CostBasis, reason: str) -> TaskCost:
    return TaskCost(None, _with(basis, rule=Rule.UNPRICED, reason=reason))


def _with(basis: CostBasis, **changes: Any) -> CostBasis:
    return replace(basis, **changes)


def _price_item(price: Price) -> dict[str, Any]:
    item = price.to_json()
    item.pop("source", None)
    return item
