"""SearchJobs filters, as the service model documents SearchJobsFilter.name:

- jobArn: EQUAL only, and not combined with any other filter;
- jobName: EQUAL or CONTAINS;
- deviceArn: EQUAL (a device ARN, or `local:<provider>/<simulator>`);
- createdAt: EQUAL, GT, GTE, LT, LTE, or BETWEEN with exactly two RFC 3339 values.

There is no status filter. A filter's values are alternatives: any one of them may match.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from local.braket.errors import ValidationException
from local.braket.jobs.models import Job
from local.braket.search import time_filter

JobPredicate = Callable[[Job], bool]
_NAMES = ("jobArn", "jobName", "deviceArn", "createdAt")


def job_filter(filters: Sequence[dict[str, Any]]) -> JobPredicate:
    """All filters must hold."""
    names = [f["name"] for f in filters]
    if "jobArn" in names and len(names) > 1:
        raise ValidationException("The jobArn filter cannot be combined with other filters")
    predicates = [_one_filter(f["name"], f["operator"], list(f["values"])) for f in filters]
    return lambda job: all(predicate(job) for predicate in predicates)


def _one_filter(name: str, operator: str, values: list[str]) -> JobPredicate:
    if name == "createdAt":
        within = time_filter(name, operator, values)
        return lambda job: within(job.created_at)
    if name not in _NAMES:
        raise ValidationException(f"Invalid filter name '{name}': use {', '.join(_NAMES)}")
    allowed = ("EQUAL", "CONTAINS") if name == "jobName" else ("EQUAL",)
    if operator not in allowed:
        raise ValidationException(f"Filter '{name}' supports only {' or '.join(allowed)}, not {operator}")
    field: Callable[[Job], str] = {
        "jobArn": lambda job: job.arn,
        "jobName": lambda job: job.name,
        "deviceArn": lambda job: job.device,
    }[name]
    if operator == "CONTAINS":
        return lambda job: any(value in field(job) for value in values)
    return lambda job: field(job) in values
