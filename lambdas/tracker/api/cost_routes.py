"""The Task API's cost routes, on the same event handler as the task routes (api.routes): `GET /costs`
and `GET /spending-limits`. The handler binds their service at cold start (`bind`)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from tracker.api import errors
from tracker.api.cost_models import CostReport, SpendingLimitsReport
from tracker.api.costs import CostService
from tracker.api.routes import _json, _responses, app

_services: list[CostService] = []


def bind(service: CostService) -> None:
    _services[:] = [service]


def _service() -> CostService:
    if not _services:
        raise errors.DependencyUnavailable("costs are not configured in this deployment")
    return _services[0]


@app.get(
    "/costs",
    summary="What tasks cost in a UTC month, by submitter, device or a promoted tag, with budgets",
    responses=_responses(
        400,
        403,
        503,
        _200={"description": "The month's totals", "content": {"application/json": {"model": CostReport}}},
    ),
)
def get_costs(
    month: Annotated[
        str | None, Query(description="YYYY-MM (UTC; a task counts in the month it ended); this month if absent")
    ] = None,
    by: Annotated[
        str,
        Query(
            description="account, submitter, device, or tag:<key> for a promoted tag key", min_length=1, max_length=140
        ),
    ] = "account",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    next_token: Annotated[str | None, Query(alias="next", min_length=1, max_length=2048)] = None,
) -> CostReport:
    return _service().report(month, by, limit, next_token)


@app.get(
    "/spending-limits",
    summary="Braket's spending limits (SearchSpendingLimits, now), beside what the tracker counts",
    responses=_responses(403, 503, _200={"description": "Each limit", "content": _json(SpendingLimitsReport)}),
)
def get_spending_limits() -> SpendingLimitsReport:
    return _service().spending_limits()
