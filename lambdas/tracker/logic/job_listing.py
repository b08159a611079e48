"""Planning GET /jobs and GET /jobs/{id}/tasks: each page is one Query on one index, newest first, with the
task listing's tokens (logic/listing.py): a token names the query it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tracker.constants import INDEX_BY_ACCOUNT, INDEX_BY_JOB, INDEX_BY_STATUS, JOB_KEY, TASK_KEY
from tracker.domain import normalize_time, parse_time
from tracker.logic.listing import PlanError, QueryPlan, _fingerprint, _time, decode_token, encode_token

__all__ = ["JobQueryPlan", "PlanError", "decode_token", "encode_token", "plan_jobs", "plan_tasks", "request_for"]


@dataclass(frozen=True)
class JobQueryPlan(QueryPlan):
    keys: tuple[str, ...] = (JOB_KEY, "createdAt")

    @property
    def key_attributes(self) -> frozenset[str]:
        return frozenset({*self.keys, self.partition_attribute})


def plan_jobs(
    *,
    status: str | None,
    created_after: str | None,
    created_before: str | None,
    account: str,
    limit: int,
    token: str | None,
) -> JobQueryPlan:
    """The jobs of the account, newest first, or those in one status: by-status or by-account."""
    index, attribute, value = (INDEX_BY_STATUS, "status", status) if status else (INDEX_BY_ACCOUNT, "account", account)
    created_from = _time(created_after, "createdAfter")
    created_to = _time(created_before, "createdBefore")
    if created_to is not None:
        created_to = normalize_time(parse_time(created_to) - timedelta(milliseconds=1))
    if created_from is not None and created_to is not None and created_from > created_to:
        raise PlanError("createdAfter must be before createdBefore", field="createdAfter")
    fingerprint = _fingerprint("jobs", index, value, created_from, created_to)
    found = JobQueryPlan(index, attribute, value, created_from, created_to, limit, None, fingerprint)
    return found if token is None else _with_start(found, token)


def plan_tasks(job_arn: str, limit: int, token: str | None) -> JobQueryPlan:
    """A job's tasks, newest first: the task table's by-job index."""
    fingerprint = _fingerprint("job-tasks", job_arn)
    found = JobQueryPlan(INDEX_BY_JOB, JOB_KEY, job_arn, None, None, limit, None, fingerprint, (TASK_KEY, "createdAt"))
    return found if token is None else _with_start(found, token)


def _with_start(found: JobQueryPlan, token: str) -> JobQueryPlan:
    return JobQueryPlan(**{**found.__dict__, "start_key": decode_token(token, found)})


def request_for(plan: JobQueryPlan) -> dict[str, Any]:
    """The Query request of one page (no filter expression: DynamoDB reads what it returns)."""
    condition, values = "#pk = :pk", {":pk": {"S": plan.partition_value}}
    if plan.created_from and plan.created_to:
        condition += " AND createdAt BETWEEN :from AND :to"
    elif plan.created_from:
        condition += " AND createdAt >= :from"
    elif plan.created_to:
        condition += " AND createdAt <= :to"
    for name, bound in ((":from", plan.created_from), (":to", plan.created_to)):
        if bound:
            values[name] = {"S": bound}
    request: dict[str, Any] = {
        "IndexName": plan.index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": {"#pk": plan.partition_attribute},
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
        "Limit": plan.limit,
    }
    if plan.start_key:
        request["ExclusiveStartKey"] = plan.start_key
    return request
