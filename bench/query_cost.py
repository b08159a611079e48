"""Benchmark: what each Task API read costs in DynamoDB as the task table grows.

The API handler runs in this process as Lambda imports it (tracker.api.handler, with the stack's
environment), against moto server over HTTP on 127.0.0.1, with the task table and its indexes
created exactly as synthesized. The table is filled with batch_write_item (items built by the
tracker's own code: events folded by logic.merge, written by models.item.to_item), then grown:
1,000, then 10,000, then 100,000 tasks (about two minutes of batch writes into moto).

Each read is one request through the handler as API Gateway's proxy integration delivers it. A
botocore `after-call` hook on the handler's client records every DynamoDB request: its operation
and how many items DynamoDB read for it (ScannedCount for a Query, 1 for a GetItem that found its
item). Reported per item returned; a Scan anywhere would be listed.

Run: .venv/bin/python -m bench.query_cost [--sizes 1000,10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from typing import Any
from urllib.parse import quote

from bench.common import PROJECT, machine, moto_server, write
from bench.recorder_cost import ACCOUNT, REGION, Context, create_tables, events_for, quiet, template

ADMIN = f"arn:aws:iam::{ACCOUNT}:role/TrackerAdmin"
SUBMITTERS = [f"arn:aws:iam::{ACCOUNT}:user/user{i}" for i in range(20)]
DEVICES = [
    "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
    "arn:aws:braket:::device/quantum-simulator/amazon/dm1",
    "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1",
]
ENDINGS = ["COMPLETED"] * 7 + ["FAILED", "CANCELLED", "RUNNING"]
PROJECTS = [f"project-{i}" for i in range(25)]
PAGE = 100


class Requests:
    """Every DynamoDB request the handler's client sends: (operation, items read, items returned)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def __call__(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.name in {"Query", "Scan"}:
            self.calls.append((model.name, int(parsed.get("ScannedCount", 0)), int(parsed.get("Count", 0))))
        elif model.name == "GetItem":
            found = int("Item" in parsed)
            self.calls.append((model.name, found, found))
        elif model.name == "BatchGetItem":
            count = sum(len(items) for items in parsed.get("Responses", {}).values())
            self.calls.append((model.name, count, count))
        else:
            self.calls.append((model.name, 0, 0))


def items(count: int, promoted: list[str]) -> list[dict[str, Any]]:
    """Task items as the recorder writes them: each task's events folded, its submitter and tag added."""
    from boto3.dynamodb.types import TypeSerializer  # noqa: PLC0415

    from tracker.logic.merge import fold  # noqa: PLC0415
    from tracker.models.event import parse_task_event  # noqa: PLC0415
    from tracker.models.item import to_item  # noqa: PLC0415

    serialize = TypeSerializer().serialize
    made = []
    for stream in events_for(count):
        ending = random.choice(ENDINGS)
        chosen = [stream[0], stream[-1] if ending != "RUNNING" else stream[2]]
        for event in chosen:
            event["detail"]["deviceArn"] = DEVICES[hash(stream[0]["id"]) % len(DEVICES)]
            if ending in {"FAILED", "CANCELLED"} and event is chosen[-1]:
                event["detail"]["status"] = ending
        record = fold(parse_task_event(event) for event in chosen)
        assert record is not None
        record = dataclasses.replace(
            record, submitter=random.choice(SUBMITTERS), tags={"project": random.choice(PROJECTS)}
        )
        made.append({name: serialize(value) for name, value in to_item(record, promoted).items()})
    return made


def fill(client: Any, table: str, batch: list[dict[str, Any]]) -> None:
    for start in range(0, len(batch), 25):
        request = {table: [{"PutRequest": {"Item": item}} for item in batch[start : start + 25]]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def proxy_event(path: str, query: dict[str, str] | None) -> dict[str, Any]:
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "accountId": ACCOUNT,
            "stage": "v1",
            "path": f"/v1{path}",
            "requestId": str(uuid.uuid4()),
            "httpMethod": "GET",
            "resourcePath": "/{proxy+}",
            "identity": {"userArn": ADMIN, "caller": ADMIN, "accountId": ACCOUNT, "sourceIp": "127.0.0.1"},
        },
    }


def reads(sample: dict[str, Any]) -> list[tuple[str, str, dict[str, str] | None]]:
    arn, task_id = sample["taskArn"]["S"], sample["taskId"]["S"]
    return [
        ("GET /tasks/{id} (by id)", f"/tasks/{task_id}", None),
        ("GET /tasks/{arn} (by ARN)", f"/tasks/{quote(arn, safe='')}", None),
        ("GET /tasks (no filter)", "/tasks", {"limit": str(PAGE)}),
        ("GET /tasks?status=COMPLETED", "/tasks", {"status": "COMPLETED", "limit": str(PAGE)}),
        ("GET /tasks?status=RUNNING", "/tasks", {"status": "RUNNING", "limit": str(PAGE)}),
        ("GET /tasks?device=", "/tasks", {"device": DEVICES[0], "limit": str(PAGE)}),
        ("GET /tasks?submitter=", "/tasks", {"submitter": SUBMITTERS[0], "limit": str(PAGE)}),
        ("GET /tasks?tag=project=", "/tasks", {"tag": f"project={PROJECTS[0]}", "limit": str(PAGE)}),
        (
            "GET /tasks?status=COMPLETED&createdAfter=",
            "/tasks",
            {"status": "COMPLETED", "createdAfter": "2026-11-20T08:10:00Z", "limit": str(PAGE)},
        ),
    ]


def run(sizes: list[int]) -> tuple[list[dict[str, Any]], dict[int, float]]:
    with moto_server(REGION, "task-api") as client:
        import boto3  # noqa: PLC0415

        resources = template()["Resources"]
        names = create_tables(client, resources, f"bench-{uuid.uuid4().hex[:6]}")
        api_env = next(
            r["Properties"]["Environment"]["Variables"]
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"].startswith("tracker.api.")
        )
        promoted = json.loads(api_env["PROMOTED_TAG_KEYS"])
        os.environ.update(
            {
                "TASK_TABLE_NAME": names["taskArn"],
                "JOB_TABLE_NAME": names["jobArn"],
                "IDEMPOTENCY_TABLE_NAME": names["idempotencyKey"],
                "RESULTS_BUCKETS": json.dumps({REGION: f"amazon-braket-tracker-{ACCOUNT}-{REGION}"}),
                "READABLE_RESULTS_BUCKETS": "[]",
                "DEVICE_ALLOWLIST": json.dumps(DEVICES),
                "ADMIN_PRINCIPALS": json.dumps([ADMIN]),
                "PROMOTED_TAG_KEYS": json.dumps(promoted),
            }
        )
        sys.path.insert(0, str(PROJECT / "lambdas"))
        requests = Requests()
        boto3.DEFAULT_SESSION = None
        boto3.setup_default_session()  # the handler's client is made from it, with the hook
        session: Any = boto3.DEFAULT_SESSION
        session.events.register("after-call.dynamodb", requests)
        handler = importlib.import_module("tracker.api.handler")

        rows: list[dict[str, Any]] = []
        fill_seconds: dict[int, float] = {}
        stored = 0
        sample: dict[str, Any] | None = None
        for size in sizes:
            started = time.monotonic()
            batch = items(size - stored, promoted)
            sample = sample or batch[0]
            fill(client, names["taskArn"], batch)
            stored = size
            fill_seconds[size] = time.monotonic() - started
            for name, path, query in reads(sample):
                requests.calls.clear()
                with quiet():
                    answer = handler.lambda_handler(proxy_event(path, query), Context())
                if answer["statusCode"] != 200:
                    raise RuntimeError(f"{name} answered {answer['statusCode']}: {answer['body']}")
                body = json.loads(answer["body"])
                returned = len(body["tasks"]) if "tasks" in body else 1
                rows.append(
                    {
                        "size": size,
                        "read": name,
                        "returned": returned,
                        "requests": len(requests.calls),
                        "read_items": sum(read for _, read, _ in requests.calls),
                        "operations": Counter(op for op, _, _ in requests.calls),
                    }
                )
        return rows, fill_seconds


def report(rows: list[dict[str, Any]], fill_seconds: dict[int, float]) -> str:
    sizes = sorted(fill_seconds)
    reads_ = list(dict.fromkeys(row["read"] for row in rows))
    by = {(row["size"], row["read"]): row for row in rows}
    header = "| read | " + " | ".join(f"{size:,} tasks" for size in sizes) + " | DynamoDB operations (largest) |"
    lines = [header, "|---|" + "---|" * len(sizes) + "---|"]
    constant = True
    scans = 0
    for name in reads_:
        cells = []
        ratios = set()
        for size in sizes:
            row = by[(size, name)]
            read_per_item = row["read_items"] / max(row["returned"], 1)
            ratios.add((row["requests"], round(read_per_item, 3)))
            cells.append(f"{row['returned']} / {row['requests']} / {read_per_item:.2f}")
        constant &= len(ratios) == 1
        operations = by[(sizes[-1], name)]["operations"]
        scans += operations.get("Scan", 0)
        lines.append(
            f"| {name} | " + " | ".join(cells) + " | " + ", ".join(f"{k} {v}" for k, v in operations.items()) + " |"
        )
    return "\n".join(
        [
            "# Query cost: DynamoDB reads per item returned, as the table grows",
            "",
            machine(),
            "",
            f"Pages of {PAGE}; tasks spread over {len(SUBMITTERS)} submitters, {len(DEVICES)} devices, "
            f"{len(PROJECTS)} values of the promoted tag `project`, 70 % COMPLETED and 10 % each FAILED, CANCELLED, "
            "RUNNING. Each cell: items returned / DynamoDB requests / items DynamoDB read per item returned "
            "(ScannedCount, or 1 per GetItem that found its item).",
            "",
            *lines,
            "",
            "Target, constant cost as the table grows (the same requests per read and items read per item "
            f"returned at every size): **{'met' if constant else 'not met'}**. "
            f"Scans: **{scans}** (target: never).",
            "",
            "Filling the table through moto server: "
            + ", ".join(f"{size:,} tasks in {seconds:.0f} s" for size, seconds in fill_seconds.items())
            + " (cumulative: each size adds to the one before).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    write("query-cost.md", report(*run(sizes)))


if __name__ == "__main__":
    main()
