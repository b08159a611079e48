"""SearchQuantumTasks: filters, createdAt operators, pagination and validation, in a Region of its own."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.local.braket.conftest import ACCOUNT, DM1, SV1, create_task, wait_for

REGION = "us-west-2"
JOB = f"arn:aws:braket:{REGION}:{ACCOUNT}:job/search-test"


@pytest.fixture(scope="module")
def tasks(braket: Callable[..., Any]) -> list[dict[str, Any]]:
    """Five finished tasks, oldest first: three on SV1 (one of a job), one on DM1, one cancelled."""
    client = braket(REGION)
    plan: list[tuple[str, dict[str, str], bool]] = [
        (SV1, {}, False),
        (SV1, {"jobToken": JOB}, False),
        (DM1, {}, False),
        (SV1, {}, False),
        (SV1, {}, True),
    ]
    arns = []
    for device, extra, cancel in plan:
        arns.append(create_task(client, device=device, **extra))
        if cancel:
            client.cancel_quantum_task(quantumTaskArn=arns[-1])
        time.sleep(0.01)  # distinct createdAt milliseconds
    return [wait_for(client, arn, timeout=30) for arn in arns]


def _search(client: Any, *filters: tuple[str, str, list[str]], **kwargs: Any) -> list[str]:
    response = client.search_quantum_tasks(
        filters=[{"name": n, "operator": o, "values": v} for n, o, v in filters], **kwargs
    )
    return [task["quantumTaskArn"] for task in response["quantumTasks"]]


def _iso(task: dict[str, Any]) -> str:
    return str(task["createdAt"].isoformat())


def test_no_filter_lists_the_regions_tasks_newest_first(
    braket: Callable[..., Any], tasks: list[dict[str, Any]]
) -> None:
    client = braket(REGION)

    listed = client.search_quantum_tasks(filters=[])["quantumTasks"]

    assert [t["quantumTaskArn"] for t in listed] == [t["quantumTaskArn"] for t in reversed(tasks)]
    assert set(listed[0]) == {
        "quantumTaskArn",
        "status",
        "deviceArn",
        "shots",
        "outputS3Bucket",
        "outputS3Directory",
        "createdAt",
        "endedAt",
        "tags",
    }
    assert {t["quantumTaskArn"] for t in tasks}.isdisjoint(_search(braket("us-east-1")))


def test_string_filters_match_any_of_their_values(braket: Callable[..., Any], tasks: list[dict[str, Any]]) -> None:
    client = braket(REGION)
    arn = [t["quantumTaskArn"] for t in tasks]

    assert _search(client, ("quantumTaskArn", "EQUAL", [arn[0], arn[3]])) == [arn[3], arn[0]]
    assert _search(client, ("deviceArn", "EQUAL", [DM1])) == [arn[2]]
    assert _search(client, ("jobArn", "EQUAL", [JOB])) == [arn[1]]
    assert _search(client, ("status", "EQUAL", ["CANCELLED"])) == [arn[4]]
    assert _search(client, ("status", "EQUAL", ["COMPLETED"]), ("deviceArn", "EQUAL", [SV1])) == [
        arn[3],
        arn[1],
        arn[0],
    ]
    assert [t["status"] for t in tasks] == ["COMPLETED", "COMPLETED", "COMPLETED", "COMPLETED", "CANCELLED"]


def test_created_at_takes_every_operator(braket: Callable[..., Any], tasks: list[dict[str, Any]]) -> None:
    client = braket(REGION)
    arn = [t["quantumTaskArn"] for t in tasks]
    middle = tasks[2]

    assert _search(client, ("createdAt", "EQUAL", [_iso(middle)])) == [arn[2]]
    assert _search(client, ("createdAt", "GTE", [_iso(middle)])) == [arn[4], arn[3], arn[2]]
    assert _search(client, ("createdAt", "GT", [_iso(middle)])) == [arn[4], arn[3]]
    assert _search(client, ("createdAt", "LT", [_iso(middle)])) == [arn[1], arn[0]]
    assert _search(client, ("createdAt", "LTE", [_iso(middle)])) == [arn[2], arn[1], arn[0]]
    assert _search(client, ("createdAt", "BETWEEN", [_iso(tasks[1]), _iso(tasks[3])])) == [arn[3], arn[2], arn[1]]
    zulu = middle["createdAt"].strftime("%Y-%m-%dT%H:%M:%S.") + f"{middle['createdAt'].microsecond // 1000:03d}Z"
    assert _search(client, ("createdAt", "EQUAL", [zulu])) == [arn[2]]


def test_pages_follow_next_token(braket: Callable[..., Any], tasks: list[dict[str, Any]]) -> None:
    client = braket(REGION)

    first = client.search_quantum_tasks(filters=[], maxResults=2)
    second = client.search_quantum_tasks(filters=[], maxResults=2, nextToken=first["nextToken"])
    pages = list(client.get_paginator("search_quantum_tasks").paginate(filters=[], PaginationConfig={"PageSize": 2}))

    assert len(first["quantumTasks"]) == 2 and len(second["quantumTasks"]) == 2
    assert [len(page["quantumTasks"]) for page in pages] == [2, 2, 1]
    assert "nextToken" not in pages[-1]
    every = [t["quantumTaskArn"] for page in pages for t in page["quantumTasks"]]
    assert every == [t["quantumTaskArn"] for t in reversed(tasks)]
    assert [t["quantumTaskArn"] for t in second["quantumTasks"]] == every[2:4]


@pytest.mark.parametrize(
    ("filters", "extra", "mentions"),
    [
        ([{"name": "tags", "operator": "EQUAL", "values": ["x"]}], {}, "tags"),
        ([{"name": "status", "operator": "GT", "values": ["QUEUED"]}], {}, "EQUAL"),
        ([{"name": "status", "operator": "EQUAL", "values": ["DONE"]}], {}, "DONE"),
        ([{"name": "status", "operator": "NOT", "values": ["QUEUED"]}], {}, "enum"),
        ([{"name": "createdAt", "operator": "BETWEEN", "values": ["2026-01-01T00:00:00Z"]}], {}, "exactly 2"),
        ([{"name": "createdAt", "operator": "GT", "values": ["yesterday"]}], {}, "RFC 3339"),
        ([{"name": "status", "operator": "EQUAL", "values": []}], {}, "length greater than or equal to 1"),
        ([], {"maxResults": 101}, "less than or equal to 100"),
        ([], {"maxResults": 0}, "greater than or equal to 1"),
        ([], {"nextToken": "not-a-token"}, "nextToken"),
    ],
    ids=[
        "unknown name",
        "operator for a string",
        "unknown status",
        "unknown operator",
        "between one value",
        "not a date",
        "no values",
        "too many results",
        "zero results",
        "bad token",
    ],
)
def test_bad_searches_are_validation_errors(
    braket: Callable[..., Any], filters: list[dict[str, Any]], extra: dict[str, Any], mentions: str
) -> None:
    client = braket(REGION, validate=False)

    with pytest.raises(ClientError) as raised:
        client.search_quantum_tasks(filters=filters, **extra)

    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert mentions in raised.value.response["Error"]["Message"]
