"""The Task API's costs against moto server and the local Braket service: a submission that would pass a
budget is refused (402 BudgetExceeded, with what remains), GET /costs answers a month's breakdowns
with budgets beside them, GET /spending-limits asks Braket (SearchSpendingLimits, through botocore's
Stubber in the documented shape: the local service has no spending limits), and the spend change
events of Braket's documented shape are kept beside the tracker's figures."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.integration.test_task_api import ACCOUNT, ADA, BOB, REGION, SV1, api, braket, call, submit  # noqa: F401
from tests.support.events import sqs_batch
from tests.support.lambda_context import FakeLambdaContext
from tracker.api import cost_routes, routes
from tracker.api.budgets import BudgetGuard
from tracker.api.costs import CostService
from tracker.data.budget_holds import BudgetHolds
from tracker.data.cost_totals import CostTotals, total_update
from tracker.data.price_catalogue import CatalogueSource, shipped_catalogue
from tracker.data.spending_limits import BraketSpendingLimits
from tracker.domain import normalize_time
from tracker.logic.budgets import Budget
from tracker.logic.totals import Delta

pytestmark = pytest.mark.integration

FORTE = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
LIMIT_ARN = f"arn:aws:braket:us-east-1:{ACCOUNT}:spending-limit/b6951b86-8222-45b1-9908-2df6c3ac717d"


def spend_change(total: str, queued: str, time: str, device: str = FORTE) -> str:
    """A "Braket Spending Limit Spend Change" event, in the shape the Amazon Braket Developer Guide gives."""
    return json.dumps(
        {
            "version": "0",
            "id": "c1a22f1f-3e86-46ea-87f9-0ca6f2234d83",
            "detail-type": "Braket Spending Limit Spend Change",
            "source": "aws.braket",
            "account": ACCOUNT,
            "time": time,
            "region": "us-east-1",
            "resources": [LIMIT_ARN, f"arn:aws:braket:us-east-1:{ACCOUNT}:quantum-task/4cf7bd26-0eb7-44bf-bc3b"],
            "detail": {
                "quantumTaskArn": f"arn:aws:braket:us-east-1:{ACCOUNT}:quantum-task/4cf7bd26-0eb7-44bf-bc3b",
                "deviceArn": device,
                "spendingLimit": "10.00",
                "spendingLimitArn": LIMIT_ARN,
                "totalSpend": total,
                "queuedSpend": queued,
                "timePeriod": {"startAt": 1764893800000, "endAt": 4922726400000},
            },
        }
    )


@pytest.fixture
def costs(api: ModuleType, table_names: dict[str, str]) -> Iterator[CostTotals]:  # noqa: F811
    """The API with cost tables and a budget of $0.005 a month on ADA's submissions (an SV1 task's
    estimate is its 3 s minimum, $0.00375: one fits, two do not)."""
    totals = CostTotals(table_names["month"], table_names["entry"])
    budgets = (Budget(f"submitter:{ADA}", Decimal("0.005"), (Decimal(50), Decimal(100))),)
    limits = BraketSpendingLimits(client_factory=lambda region: stubbed)
    stubbed = boto3.client("braket", region_name=REGION)
    stubber = Stubber(stubbed)
    stubber.add_response(
        "search_spending_limits",
        {
            "spendingLimits": [
                {
                    "spendingLimitArn": LIMIT_ARN,
                    "deviceArn": FORTE,
                    "timePeriod": {
                        "startAt": datetime(2026, 12, 1, tzinfo=UTC),
                        "endAt": datetime(2027, 1, 1, tzinfo=UTC),
                    },
                    "spendingLimit": "100.00",
                    "queuedSpend": "8.30",
                    "totalSpend": "40.25",
                    "createdAt": datetime(2026, 11, 30, tzinfo=UTC),
                    "updatedAt": datetime(2026, 12, 5, tzinfo=UTC),
                }
            ]
        },
        {"maxResults": 100},
    )
    stubber.activate()
    cost_routes.bind(CostService(totals, budgets, ("project",), limits=limits, regions=[REGION]))
    service = routes._services[0]
    previous = service.budgets
    service.budgets = BudgetGuard(
        budgets, BudgetHolds(totals), CatalogueSource(None, shipped_catalogue()), ("project",)
    )
    yield totals
    service.budgets = previous
    cost_routes._services.clear()


def this_month() -> str:
    return normalize_time(datetime.now(UTC))[:7]


def test_a_submission_past_its_budget_is_refused_with_what_remains(api: ModuleType, costs: CostTotals) -> None:  # noqa: F811
    month = this_month()
    before = costs.total(month, f"submitter:{ADA}")
    if before.committed_usd:  # another run of this session already holds ADA's budget
        pytest.skip("ADA's budget of this month is in use")

    first, _, accepted = submit(api, key="budget-1")
    second, _, refused = submit(api, key="budget-2")
    other, _, _ = submit(api, caller=BOB)  # another submitter: no budget

    assert (first, second, other) == (201, 402, 201)
    assert refused["error"] == "BudgetExceeded"
    assert refused["details"] | {"estimateBasis": None} == {
        "scope": f"submitter:{ADA}",
        "month": month,
        "monthlyUsd": "0.005",
        "spentUsd": "0",
        "reservedUsd": "0.00375",
        "remainingUsd": "0.00125",
        "estimateUsd": "0.00375",
        "estimateBasis": None,
    }
    assert "3 s minimum" in refused["details"]["estimateBasis"]["reason"]
    assert "$0.00125 remains" in refused["message"]
    status, _, retried = submit(api, key="budget-2")  # a refusal frees its Idempotency-Key
    assert (status, retried["error"]) == (402, "BudgetExceeded")

    status, _, report = call(api, "GET", "/costs", query={"by": "submitter", "month": month})
    assert status == 200
    (row,) = [row for row in report["rows"] if row["value"] == ADA]
    assert (row["reservedUsd"], row["budget"]["monthlyUsd"], row["budget"]["remainingUsd"]) == (
        "0.00375",
        "0.005",
        "0.00125",
    )
    assert accepted["taskArn"]


def test_get_costs_answers_each_breakdown_with_one_read(api: ModuleType, costs: CostTotals) -> None:  # noqa: F811
    month = "2031-07"
    adds = (("account", "80.68"), (f"device:{FORTE}", "80.68"), ("tag:project=qml", "80.30"), ("tag:project=", "0.38"))
    assert costs.transact_or_reasons([_add(costs, month, scope, usd) for scope, usd in adds]) == []

    status, _, by_tag = call(api, "GET", "/costs", query={"month": month, "by": "tag:project"})
    _, _, account = call(api, "GET", "/costs", query={"month": month})
    bad_month = call(api, "GET", "/costs", query={"month": "2031-13"})
    bad_tag = call(api, "GET", "/costs", query={"month": month, "by": "tag:team"})

    assert status == 200
    assert [(r["value"], r["usd"], r["tasks"]) for r in by_tag["rows"]] == [("", "0.38", 1), ("qml", "80.3", 1)]
    assert by_tag["totalUsd"] == account["totalUsd"] == "80.68"
    assert (bad_month[0], bad_month[2]["error"]) == (400, "ValidationError")
    assert (bad_tag[0], bad_tag[2]["error"], bad_tag[2]["details"]["supported"]) == (
        400,
        "UnsupportedFilter",
        ["account", "submitter", "device", "tag:project"],
    )


def _add(totals: CostTotals, month: str, scope: str, usd: str) -> dict[str, Any]:

    return total_update(
        totals.totals_table, (month, scope), Delta(usd=Decimal(usd), tasks=1), "2031-07-31T00:00:00.000Z"
    )


def test_spending_limits_are_asked_of_braket_on_demand_beside_the_trackers_figures(
    api: ModuleType,  # noqa: F811
    costs: CostTotals,
) -> None:
    status, _, body = call(api, "GET", "/spending-limits")

    assert status == 200
    (limit,) = body["limits"]
    assert limit | {"reportedAt": None, "tracker": None} == {
        "spendingLimitArn": LIMIT_ARN,
        "deviceArn": FORTE,
        "spendingLimitUsd": "100",
        "totalSpendUsd": "40.25",
        "queuedSpendUsd": "8.3",
        "remainingUsd": "51.45",
        "startAt": "2026-12-01T00:00:00.000Z",
        "endAt": "2027-01-01T00:00:00.000Z",
        "reportedAt": None,
        "source": "search",
        "tracker": None,
    }
    assert limit["tracker"]["month"] == this_month() and body["problems"] == []


@pytest.fixture(scope="module")
def spending(table_names: dict[str, str]) -> Iterator[ModuleType]:
    os.environ["COST_TOTALS_TABLE_NAME"] = table_names["month"]
    yield importlib.import_module("tracker.spending.handler")
    os.environ.pop("COST_TOTALS_TABLE_NAME", None)


def test_spend_change_events_keep_the_latest_report_whatever_the_order(
    spending: ModuleType, table_names: dict[str, str]
) -> None:
    device = FORTE.replace("Forte-1", f"Forte-{os.getpid()}")
    newer = spend_change("5.00", "1.00", "2026-12-06T12:00:01Z", device)
    older = spend_change("4.00", "2.00", "2026-12-06T12:00:00Z", device)
    same_second = spend_change("5.00", "0.00", "2026-12-06T12:00:01Z", device)  # a task ended: queued back to 0

    answer = spending.lambda_handler(sqs_batch([newer, older, "not json", same_second, older]), FakeLambdaContext())

    assert answer == {"batchItemFailures": []}  # an unreadable event is dropped, never retried
    total = CostTotals(table_names["month"], table_names["entry"]).total("2026-12", f"device:{device}")
    assert total.spending_limit is not None
    assert (total.spending_limit["totalSpendUsd"], total.spending_limit["queuedSpendUsd"]) == (Decimal(5), Decimal(1))
    assert total.spending_limit["source"] == "event" and total.spending_limit["endAt"] == "2125-12-30T00:00:00.000Z"
