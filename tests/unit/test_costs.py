"""What a task costs: Braket's billing rules over a price catalogue, and the estimate before it runs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.price_list import QPUS, REGIONS, SIMULATORS, catalogue, full_catalogues, price
from tracker.data.price_catalogue import shipped_catalogue
from tracker.domain import Status
from tracker.logic.catalogue import Family, PriceCatalogue, Unit
from tracker.logic.costs import (
    MIN_SIMULATOR_MS,
    MS_PER_UNIT,
    RESERVATION_ASSOCIATION,
    Rule,
    TaskCost,
    TaskUsage,
    device,
    estimate_cost,
    task_cost,
)

FORTE = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
GARNET = "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1 = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"
RESERVATION = "arn:aws:braket:us-east-1:123456789012:reservation/a1b2c3"
IN_RESERVATION = ({"arn": RESERVATION, "type": RESERVATION_ASSOCIATION},)
SHIPPED = shipped_catalogue()


def usage(device_arn: str, shots: int = 1000, status: Status = Status.COMPLETED, **fields: Any) -> TaskUsage:
    return TaskUsage(device_arn, fields.pop("region", "us-east-1"), shots, status, **fields)


def test_a_thousand_shots_on_ionq_forte_cost_about_eighty_dollars() -> None:
    cost = task_cost(usage(FORTE), SHIPPED)
    assert cost.usd == Decimal("80.30")
    assert cost.basis.to_item() == {
        "rule": "qpu",
        "catalogueVersion": SHIPPED.version,
        "catalogueTakenAt": "2026-09-11T12:44:10Z",
        "jobTask": False,
        "reserved": False,
        "prices": [
            {"family": "Quantum Task", "region": "us-east-1", "device": "Forte-1", "unit": "task", "usd": "0.30"},
            {"family": "Quantum Task-Shot", "region": "us-east-1", "device": "Forte-1", "unit": "shot", "usd": "0.08"},
        ],
        "shots": 1000,
        "shotsCounted": "requested",
    }


def test_a_simulator_is_billed_per_millisecond_of_its_execution_with_a_three_second_minimum() -> None:
    long = task_cost(usage(SV1, execution_ms=12_345), SHIPPED)
    short = task_cost(usage(DM1, execution_ms=12), SHIPPED)
    assert long.usd == Decimal("0.075") * 12_345 / 60_000 == Decimal("0.01543125")
    assert (long.basis.execution_ms, long.basis.billed_ms) == (12_345, 12_345)
    assert short.usd == Decimal("0.00375") and (short.basis.execution_ms, short.basis.billed_ms) == (12, 3000)
    assert short.basis.to_item()["prices"] == [
        {
            "family": "Simulator Task",
            "region": "us-east-1",
            "device": "DM1",
            "operation": "CompleteTask",
            "unit": "minute",
            "usd": "0.075",
            "confirmed": False,
        }
    ]


@pytest.mark.parametrize("status", [Status.FAILED, Status.CANCELLED])
@pytest.mark.parametrize("device_arn", [FORTE, SV1])
def test_failed_and_cancelled_tasks_cost_nothing(status: Status, device_arn: str) -> None:
    cost = task_cost(usage(device_arn, status=status, execution_ms=5000, successful_shots=10), SHIPPED)
    assert cost.usd == 0 and cost.basis.rule is Rule.NOT_BILLED
    assert cost.basis.reason == f"{status.value}: not billed" and not cost.basis.prices


@pytest.mark.parametrize("device_arn", [FORTE, SV1])
def test_a_task_in_a_braket_direct_reservation_costs_nothing_per_task(device_arn: str) -> None:
    cost = task_cost(usage(device_arn, associations=IN_RESERVATION, execution_ms=9000), SHIPPED)
    assert cost.usd == 0 and cost.basis.rule is Rule.RESERVED and cost.basis.reserved
    assert cost.basis.to_item()["reservationArn"] == RESERVATION


def test_an_association_of_another_type_is_not_a_reservation() -> None:
    cost = task_cost(usage(FORTE, associations=({"arn": RESERVATION, "type": "OTHER"},)), SHIPPED)
    assert cost.usd == Decimal("80.30") and not cost.basis.reserved


def test_a_task_inside_a_hybrid_job_is_priced_from_the_job_families() -> None:
    prices = catalogue(
        [
            price(Family.TASK, "us-east-1", "0.30", "Forte-1"),
            price(Family.SHOT, "us-east-1", "0.08", "Forte-1"),
            price(Family.JOB_TASK, "us-east-1", "0.25", "Forte-1"),
            price(Family.JOB_SHOT, "us-east-1", "0.07", "Forte-1"),
            price(Family.SIMULATOR, "us-east-1", "0.075", "SV1"),
            price(Family.JOB_SIMULATOR, "us-east-1", "0.06", "SV1"),
        ]
    )
    assert task_cost(usage(FORTE, 10, job_task=True), prices).usd == Decimal("0.95")
    assert task_cost(usage(SV1, job_task=True, execution_ms=60_000), prices).usd == Decimal("0.06")
    job = task_cost(usage(FORTE, 10, job_task=True), prices).basis
    assert [p.family for p in job.prices] == [Family.JOB_TASK, Family.JOB_SHOT] and job.job_task


def test_a_qpu_task_with_fewer_successful_shots_is_billed_for_those() -> None:
    cost = task_cost(usage(FORTE, 1000, successful_shots=600), SHIPPED)
    assert cost.usd == Decimal("48.30")
    assert (cost.basis.shots, cost.basis.shots_counted) == (600, "successful")
    assert task_cost(usage(FORTE, 1000, successful_shots=1000), SHIPPED).basis.shots_counted == "requested"


@pytest.mark.parametrize(
    ("task", "reason"),
    [
        (usage("arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1", region="us-west-2"), "in us-west-2"),
        (usage("arn:aws:braket:us-east-1::device/qpu/ionq/Harmony"), "Quantum Task or Quantum Task-Shot price"),
        (usage(SV1, region="eu-north-1", execution_ms=10), "no Simulator Task price for SV1 in eu-north-1"),
        (usage(SV1), "no executionDuration in results.json"),
        (usage("arn:aws:s3:::bucket"), "not a Braket device ARN"),
        (usage("arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1/extra"), "not a Braket device ARN"),
    ],
)
def test_what_cannot_be_priced_says_why(task: TaskUsage, reason: str) -> None:
    cost = task_cost(task, SHIPPED)
    assert cost.usd is None and cost.basis.rule is Rule.UNPRICED
    assert reason in (cost.basis.reason or "")


@pytest.mark.parametrize("status", [Status.CREATED, Status.QUEUED, Status.RUNNING, Status.CANCELLING])
def test_an_unfinished_task_has_no_cost_yet(status: Status) -> None:
    with pytest.raises(ValueError, match="finished"):
        usage(FORTE, status=status)


@pytest.mark.parametrize(("name", "value"), [("shots", -1), ("shots", True), ("execution_ms", 1.5)])
def test_usage_is_whole_numbers(name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=name):
        usage(FORTE, **{"shots": 10, name: value})


@pytest.mark.parametrize(
    ("arn", "simulator", "name"),
    [
        (SV1, True, "SV1"),
        ("arn:aws:braket:::device/quantum-simulator/amazon/tn1", True, "TN1"),
        (FORTE, False, "Forte-1"),
        ("arn:aws:braket:eu-north-1::device/qpu/aqt/Ibex-Q1", False, "IBEX-Q1"),
        ("arn:aws:braket:::device/qpu/d-wave/DW_2000Q_6", False, "2000Q"),
        ("arn:aws:braket:us-west-2::device/qpu/d-wave/Advantage_system6", False, "Advantage_system"),
        ("arn:aws:braket:us-east-1::device/qpu/ionq/ionQdevice", False, "IonQdevice"),
    ],
)
def test_devices_are_named_as_the_sdk_tracker_names_them_in_the_price_list(
    arn: str, simulator: bool, name: str
) -> None:
    found = device(arn)
    assert found is not None and (found.simulator, found.price_list_name) == (simulator, name)


def test_the_estimate_of_a_simulator_is_its_three_second_minimum() -> None:
    estimate = estimate_cost(SV1, "us-east-1", 1000, SHIPPED)
    assert estimate.usd == Decimal("0.00375") and estimate.basis.estimate and estimate.basis.billed_ms == 3000
    assert "3 s minimum" in (estimate.basis.reason or "")
    assert estimate.basis.to_item()["estimate"] is True and "executionMs" not in estimate.basis.to_item()


def test_the_estimate_of_a_qpu_task_is_every_shot() -> None:
    estimate = estimate_cost(GARNET, "eu-north-1", 2000, SHIPPED)
    assert estimate.usd == Decimal("0.30") + 2000 * Decimal("0.00145") == Decimal("3.20")
    assert estimate_cost(FORTE, "us-east-1", 100, SHIPPED, associations=IN_RESERVATION).usd == 0
    assert estimate_cost(FORTE, "us-west-2", 100, SHIPPED).usd is None


# --- invariants ---------------------------------------------------------------------------------

devices = st.sampled_from(
    [f"arn:aws:braket:{r}::device/qpu/test/{d}" for r in REGIONS for d in QPUS]
    + [f"arn:aws:braket:::device/quantum-simulator/amazon/{s.lower()}" for s in SIMULATORS]
)


@st.composite
def usages(draw: st.DrawFn) -> TaskUsage:
    arn = draw(devices)
    shots = draw(st.integers(0, 100_000))
    return TaskUsage(
        device_arn=arn,
        region=arn.split(":")[3] or draw(st.sampled_from(REGIONS)),
        shots=shots,
        status=draw(st.sampled_from([Status.COMPLETED, Status.FAILED, Status.CANCELLED])),
        job_task=draw(st.booleans()),
        associations=draw(st.sampled_from([(), IN_RESERVATION, ({"arn": "x", "type": "OTHER"},)])),
        execution_ms=draw(st.none() | st.integers(0, 10_000_000)),
        successful_shots=draw(st.none() | st.integers(0, shots)),
    )


def explained(cost: TaskCost) -> Decimal:
    """The figure again, from the basis alone: the prices used and the quantities billed."""
    total = Decimal(0)
    for entry in cost.basis.prices:
        if entry.unit is Unit.TASK:
            total += entry.usd
        elif entry.unit is Unit.SHOT:
            total += entry.usd * (cost.basis.shots or 0)
        else:
            total += entry.usd * (cost.basis.billed_ms or 0) / MS_PER_UNIT[entry.unit]
    return total


@given(full_catalogues(), usages())
def test_a_cost_is_never_negative_and_its_basis_explains_it(prices: PriceCatalogue, task: TaskUsage) -> None:
    cost = task_cost(task, prices)
    simulator = device(task.device_arn).simulator  # type: ignore[union-attr]
    billable = task.status is Status.COMPLETED and task.reservation_arn is None
    if simulator and billable and task.execution_ms is None:
        assert cost.usd is None and cost.basis.reason == "no executionDuration in results.json"
        return
    assert cost.usd is not None  # the catalogue prices every device in every Region
    assert cost.usd >= 0
    assert cost.usd == explained(cost)
    if not billable:
        assert cost.usd == 0 and cost.basis.rule in {Rule.NOT_BILLED, Rule.RESERVED}
    elif cost.basis.rule is Rule.QPU:
        assert cost.basis.shots == min(
            task.shots, task.successful_shots if task.successful_shots is not None else task.shots
        )
        families = {p.family for p in cost.basis.prices}
        assert families == ({Family.JOB_TASK, Family.JOB_SHOT} if task.job_task else {Family.TASK, Family.SHOT})
    else:
        assert cost.basis.billed_ms == max(task.execution_ms or 0, MIN_SIMULATOR_MS)


@given(full_catalogues(), usages(), st.randoms())
def test_a_cost_does_not_depend_on_the_order_of_the_catalogue(
    prices: PriceCatalogue, task: TaskUsage, random: Any
) -> None:
    shuffled = list(prices.prices)
    random.shuffle(shuffled)
    assert task_cost(task, prices) == task_cost(task, catalogue(shuffled))


@given(
    full_catalogues(), st.sampled_from(QPUS), st.sampled_from(REGIONS), st.integers(0, 50_000), st.integers(0, 50_000)
)
def test_more_shots_never_cost_less(prices: PriceCatalogue, name: str, region: str, a: int, b: int) -> None:
    arn = f"arn:aws:braket:{region}::device/qpu/test/{name}"
    low, high = sorted((a, b))
    assert (
        task_cost(usage(arn, low, region=region), prices).usd <= task_cost(usage(arn, high, region=region), prices).usd
    )  # type: ignore[operator]


@given(
    full_catalogues(),
    st.sampled_from(SIMULATORS),
    st.sampled_from(REGIONS),
    st.integers(0, 10_000_000),
    st.integers(0, 10_000_000),
)
def test_a_simulator_costs_its_minimum_up_to_three_seconds_and_more_beyond(
    prices: PriceCatalogue, name: str, region: str, a: int, b: int
) -> None:
    arn = f"arn:aws:braket:::device/quantum-simulator/amazon/{name.lower()}"
    low, high = sorted((a, b))
    cost_low = task_cost(usage(arn, 0, region=region, execution_ms=low), prices).usd
    cost_high = task_cost(usage(arn, 0, region=region, execution_ms=high), prices).usd
    minimum = task_cost(usage(arn, 0, region=region, execution_ms=0), prices).usd
    assert minimum is not None and cost_low is not None and cost_high is not None
    assert minimum <= cost_low <= cost_high
    if high <= MIN_SIMULATOR_MS:
        assert cost_low == cost_high == minimum


@given(full_catalogues(), usages())
def test_an_estimate_bounds_the_cost_as_it_says(prices: PriceCatalogue, task: TaskUsage) -> None:
    estimate = estimate_cost(
        task.device_arn, task.region, task.shots, prices, job_task=task.job_task, associations=task.associations
    )
    cost = task_cost(task, prices).usd
    assert estimate.usd is not None and estimate.basis.estimate
    if device(task.device_arn).simulator:  # type: ignore[union-attr]
        if cost:
            assert estimate.usd <= cost  # at least the 3 s minimum
    else:
        assert cost is not None and cost <= estimate.usd  # at most every shot
