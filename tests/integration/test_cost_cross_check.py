"""Cross-check with the Braket SDK's cost Tracker: the same prices (the shipped catalogue, served on
127.0.0.1 as the AWS bulk price list CSV for BRAKET_PRICE_OFFERS_URL) give the same cost, task by task.

- SV1 and DM1 tasks run on the local Braket service (against moto) through the unmodified SDK inside
  a `braket.tracking.Tracker`; the tracker's side prices them from GetQuantumTask and results.json;
- QPU tasks, and simulator tasks of any duration, reach the Tracker through its tracking events, as
  the SDK itself broadcasts them (creation, status, completion after the result is downloaded).

Where Braket bills differently from the Tracker, the tests say how much and why (docs/costs.md).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from braket.aws import AwsDevice, AwsSession  # type: ignore[import-untyped]
from braket.circuits import Circuit  # type: ignore[import-untyped]
from braket.tracking import Tracker, pricing  # type: ignore[import-untyped]
from braket.tracking.tracking_context import broadcast_event  # type: ignore[import-untyped]
from braket.tracking.tracking_events import (  # type: ignore[import-untyped]
    _TaskCompletionEvent,
    _TaskCreationEvent,
    _TaskStatusEvent,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from local.braket import LocalBraket
from ops.offer_file import offer_file
from tests.support.price_offers import serve_offer_file
from tracker.data.price_catalogue import shipped_catalogue
from tracker.domain import Status, TaskArn
from tracker.logic.catalogue import Family
from tracker.logic.costs import RESERVATION_ASSOCIATION, TaskUsage, device, estimate_cost, task_cost

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"
SHIPPED = shipped_catalogue()
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
DM1 = "arn:aws:braket:::device/quantum-simulator/amazon/dm1"
QPUS = (  # the device ARNs of every QPU the shipped catalogue prices (braket/devices/devices.py)
    "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1",
    "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-Enterprise-1",
    "arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1",
    "arn:aws:braket:us-east-1::device/qpu/ionq/Aria-2",
    "arn:aws:braket:us-east-1::device/qpu/quera/Aquila",
    "arn:aws:braket:eu-north-1::device/qpu/iqm/Garnet",
    "arn:aws:braket:eu-north-1::device/qpu/iqm/Emerald",
    "arn:aws:braket:eu-north-1::device/qpu/aqt/Ibex-Q1",
    "arn:aws:braket:us-west-1::device/qpu/rigetti/Ankaa-3",
    "arn:aws:braket:us-west-1::device/qpu/rigetti/Cepheus-1-108Q",
)
SIMULATOR_REGIONS = sorted(
    {
        (p.device or "", p.region)
        for p in SHIPPED.prices
        if p.family is Family.SIMULATOR and p.operation == "CompleteTask"
    }
)
RESERVATION = f"arn:aws:braket:us-east-1:{ACCOUNT}:reservation/3a1c7e0f-cross-check"
JOB = f"arn:aws:braket:us-east-1:{ACCOUNT}:job/cross-check"
BUCKET = f"amazon-braket-us-east-1-{ACCOUNT}"


def _reset_sdk_price_list() -> None:
    """The SDK reads its price list once per process and caches its searches: start from nothing."""
    pricing._pricing._price_list = []
    pricing.Pricing.price_search.cache_clear()


@pytest.fixture(scope="module")
def sdk_prices() -> Iterator[str]:
    with serve_offer_file(offer_file(SHIPPED)) as url:
        saved = {name: os.environ.get(name) for name in ("BRAKET_PRICE_OFFERS_URL", "NO_PROXY", "no_proxy")}
        os.environ.update(BRAKET_PRICE_OFFERS_URL=url, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
        _reset_sdk_price_list()
        yield url
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _reset_sdk_price_list()


def test_every_qpu_of_the_catalogue_is_cross_checked() -> None:
    names = {device(arn).price_list_name for arn in QPUS}  # type: ignore[union-attr]
    assert names == {p.device for p in SHIPPED.prices if p.family is Family.SHOT}


def _reservation(reserved: bool) -> tuple[dict[str, str], ...]:
    return ({"arn": RESERVATION, "type": RESERVATION_ASSOCIATION},) if reserved else ()


def _task_arn(region: str) -> str:
    return f"arn:aws:braket:{region}:{ACCOUNT}:quantum-task/{uuid.uuid4()}"


def _as_the_sdk_reports(arn: str, device_arn: str, shots: int, job: bool, status: str, **completion: Any) -> None:
    """The events the SDK broadcasts: creation, status changes, and completion when a result is downloaded."""
    broadcast_event(_TaskCreationEvent(arn=arn, shots=shots, is_job_task=job, device=device_arn))
    broadcast_event(_TaskStatusEvent(arn=arn, status="QUEUED"))
    if status == "COMPLETED":
        broadcast_event(_TaskCompletionEvent(arn=arn, status=status, **completion))
    else:
        broadcast_event(_TaskStatusEvent(arn=arn, status=status))


@settings(max_examples=150, deadline=None)
@given(
    st.tuples(
        st.sampled_from(QPUS),
        st.booleans(),
        st.sampled_from(["COMPLETED", "FAILED", "CANCELLED"]),
        st.booleans(),
        st.integers(1, 100_000),
    )
)
def test_qpu_tasks_cost_what_the_sdk_tracker_says(sdk_prices: str, task: tuple[str, bool, str, bool, int]) -> None:
    device_arn, job, status, reserved, shots = task
    region = device_arn.split(":")[3]
    arn = _task_arn(region)
    with Tracker() as tracker:
        _as_the_sdk_reports(arn, device_arn, shots, job, status, execution_duration=None, has_reservation_arn=reserved)
        sdk = tracker.qpu_tasks_cost()
    usage = TaskUsage(device_arn, region, shots, Status(status), job_task=job, associations=_reservation(reserved))
    ours = task_cost(usage, SHIPPED)
    assert ours.usd == sdk, ours.basis.to_item()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(QPUS), st.booleans(), st.integers(1, 100_000))
def test_the_estimate_before_a_qpu_task_runs_is_the_sdk_trackers_figure_for_an_unfinished_one(
    sdk_prices: str, device_arn: str, job: bool, shots: int
) -> None:
    region = device_arn.split(":")[3]
    with Tracker() as tracker:
        broadcast_event(_TaskCreationEvent(arn=_task_arn(region), shots=shots, is_job_task=job, device=device_arn))
        sdk = tracker.qpu_tasks_cost()  # the Tracker charges a task in full until it fails or is cancelled
    assert estimate_cost(device_arn, region, shots, SHIPPED, job_task=job).usd == sdk


def test_braket_bills_the_successful_shots_where_the_sdk_tracker_counts_the_requested_ones(sdk_prices: str) -> None:
    arn, device_arn = _task_arn("us-east-1"), QPUS[0]
    with Tracker() as tracker:
        _as_the_sdk_reports(arn, device_arn, 1000, False, "COMPLETED", execution_duration=None)
        sdk = tracker.qpu_tasks_cost()
    ours = task_cost(TaskUsage(device_arn, "us-east-1", 1000, Status.COMPLETED, successful_shots=990), SHIPPED)
    assert sdk == Decimal("80.30") and ours.usd == Decimal("79.50")  # 10 shots at $0.08 fewer


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SIMULATOR_REGIONS), st.booleans(), st.booleans(), st.integers(1, 24 * 3_600_000))
def test_simulator_tasks_of_any_duration_cost_what_the_sdk_tracker_says(
    sdk_prices: str, simulator: tuple[str, str], job: bool, reserved: bool, execution_ms: int
) -> None:
    name, region = simulator
    device_arn, arn = f"arn:aws:braket:::device/quantum-simulator/amazon/{name.lower()}", _task_arn(region)
    with Tracker() as tracker:
        _as_the_sdk_reports(
            arn, device_arn, 0, job, "COMPLETED", execution_duration=execution_ms, has_reservation_arn=reserved
        )
        sdk = tracker.simulator_tasks_cost()
    usage = TaskUsage(device_arn, region, 0, Status.COMPLETED, job, _reservation(reserved), execution_ms=execution_ms)
    assert task_cost(usage, SHIPPED).usd == sdk


def test_braket_bills_its_three_second_minimum_where_the_sdk_tracker_skips_a_zero_duration(sdk_prices: str) -> None:
    arn = _task_arn("us-east-1")
    with Tracker() as tracker:
        _as_the_sdk_reports(arn, SV1, 100, False, "COMPLETED", execution_duration=0)
        sdk = tracker.simulator_tasks_cost()  # `if execution_duration:` is false for 0 ms
    ours = task_cost(TaskUsage(SV1, "us-east-1", 100, Status.COMPLETED, execution_ms=0), SHIPPED)
    assert sdk == 0 and ours.usd == Decimal("0.00375")


# --- SV1 and DM1 on the local Braket service, through the unmodified SDK ----------------------------


@pytest.fixture(scope="module")
def local_braket(moto_endpoint: str) -> Iterator[str]:
    """The local Braket service on moto server (AWS_ENDPOINT_URL points every other client there)."""
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    service = LocalBraket(moto_endpoint, queue_delay=0.05)
    yield service.start()
    service.stop()


RUNS = [  # device, as a hybrid job's task, with a Braket Direct reservation
    (SV1, False, False),
    (DM1, False, False),
    (SV1, True, False),
    (DM1, True, False),
    (SV1, False, True),
]


def test_sv1_and_dm1_tasks_run_by_the_sdk_cost_what_its_tracker_says(
    sdk_prices: str, local_braket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = boto3.Session(region_name="us-east-1")
    braket = session.client("braket", endpoint_url=local_braket)
    s3 = session.client("s3")
    aws_session = AwsSession(boto_session=session, braket_client=braket)
    bell = Circuit().h(0).cnot(0, 1)
    figures = []
    with Tracker() as everything:
        for device_arn, job, reserved in RUNS:
            with monkeypatch.context() as patch:
                if job:
                    patch.setenv("AMZN_BRAKET_JOB_TOKEN", JOB)
                with Tracker() as one:
                    task = AwsDevice(device_arn, aws_session=aws_session).run(
                        bell,
                        s3_destination_folder=(BUCKET, "tasks"),
                        shots=100,
                        poll_interval_seconds=0.05,
                        reservation_arn=RESERVATION if reserved else None,
                    )
                    assert task.result() is not None
                    sdk = one.simulator_tasks_cost()
            ours = task_cost(_usage(braket, s3, task.id), SHIPPED)
            assert ours.usd == sdk, ours.basis.to_item()
            assert ours.basis.job_task is job and ours.basis.reserved is reserved
            figures.append((device_arn.rsplit("/", 1)[-1], job, reserved, ours.basis.execution_ms, ours.usd))
        total = everything.simulator_tasks_cost()
    # Four 3 s minimums at $0.075/min, or more if a loaded machine made a simulation run longer.
    assert total == sum(usd for *_, usd in figures) >= Decimal("0.015")
    for name, job, reserved, execution_ms, usd in figures:
        print(f"{name} job={job} reserved={reserved} executionMs={execution_ms} costUsd={usd} (the SDK Tracker's too)")


def _usage(braket: Any, s3: Any, arn: str) -> TaskUsage:
    """What the tracker knows of a finished task: GetQuantumTask, and results.json for the duration."""
    task = braket.get_quantum_task(quantumTaskArn=arn)
    key = f"{task['outputS3Directory']}/results.json"
    results = json.loads(s3.get_object(Bucket=task["outputS3Bucket"], Key=key)["Body"].read())
    return TaskUsage(
        device_arn=task["deviceArn"],
        region=TaskArn.parse(arn).region,
        shots=task["shots"],
        status=Status(task["status"]),
        job_task=bool(task.get("jobArn")),
        associations=tuple(task.get("associations") or ()),
        execution_ms=results["additionalMetadata"]["simulatorMetadata"]["executionDuration"],
        successful_shots=task.get("numSuccessfulShots"),
    )
