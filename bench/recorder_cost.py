"""Benchmark: what recording one event costs, against the floor of one raw UpdateItem per event.

The recorder handler runs in this process as Lambda imports it (tracker.recorder.handler, with the
stack's environment), against moto server over HTTP on 127.0.0.1, with the task table created
exactly as synthesized. SQS batches of 10, shaped as the event source mapping delivers them, carry
real-shaped "Braket Task State Change" events: CREATED, QUEUED, RUNNING, COMPLETED per task.

- in order: each task's events in order, as Braket sends them;
- shuffled and duplicated: the same events with a share sent twice, all shuffled (at-least-once,
  out-of-order delivery).

DynamoDB requests are counted with a botocore `before-send` hook on the handler's own client, as
tests/integration does. Braket's GetQuantumTask (the one read of a finished task's details) is
answered by an in-process double, so handler time here is the recorder's own work plus DynamoDB.
The floor: one raw UpdateItem per event (SET the status, ADD the event id) on the same moto
server, from a plain boto3 client, timed the same way, to a table made as the task table is (the
same key and the same indexes).

Run: .venv/bin/python -m bench.recorder_cost [--tasks 200]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

from bench.common import PROJECT, machine, moto_server, write

BATCH = 10
DUPLICATE_SHARE = 0.3
STATUSES = ("CREATED", "QUEUED", "RUNNING", "COMPLETED")
REGION = "us-east-1"
ACCOUNT = "123456789012"


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


class DocumentedBraket:
    """GetQuantumTask in the documented shape, answered at once."""

    def get_quantum_task(self, quantumTaskArn: str, **_: Any) -> dict[str, Any]:
        return {"quantumTaskArn": quantumTaskArn, "status": "COMPLETED", "tags": {}, "numSuccessfulShots": 100}


def events_for(tasks: int) -> list[list[dict[str, Any]]]:
    """Per task, its four events in order, in the shape Braket sends them."""
    streams = []
    for index in range(tasks):
        arn = f"arn:aws:braket:{REGION}:{ACCOUNT}:quantum-task/{uuid.uuid4()}"
        task_id = arn.rsplit("/", 1)[-1]
        created = f"2026-11-20T08:{index // 60 % 60:02d}:{index % 60:02d}.250Z"
        stream = []
        for step, status in enumerate(STATUSES):
            detail: dict[str, Any] = {
                "quantumTaskArn": arn,
                "status": status,
                "deviceArn": "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
                "shots": "100",
                "outputS3Bucket": f"amazon-braket-{REGION}-{ACCOUNT}",
                "outputS3Directory": f"tasks/{task_id}",
                "createdAt": created,
                "eventName": "INSERT" if status == "CREATED" else "MODIFY",
            }
            when = f"2026-11-20T09:{index // 60 % 60:02d}:{index % 60:02d}.{step}00Z"
            if status == "COMPLETED":
                detail["endedAt"] = when
            stream.append(
                {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": "Braket Task State Change",
                    "source": "aws.braket",
                    "account": ACCOUNT,
                    "time": when,
                    "region": REGION,
                    "resources": [arn],
                    "detail": detail,
                }
            )
        streams.append(stream)
    return streams


def sqs_batch(bodies: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": f"handle-{i}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1763625601000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1763625601000",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:capture",
                "awsRegion": REGION,
            }
            for i, body in enumerate(bodies)
        ]
    }


class Context:
    function_name = "task-recorder"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:task-recorder"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/task-recorder"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def template() -> dict[str, Any]:
    from local.tracker import synthesize  # noqa: PLC0415

    cdk_out = PROJECT / ".local" / "cdk.out"
    path = cdk_out / "BraketTaskTracker.template.json"
    if not path.exists():
        synthesize(cdk_out, REGION)
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def create_tables(client: Any, resources: dict[str, Any], prefix: str) -> dict[str, str]:
    """Every table of the template, keyed and indexed as synthesized: name by partition key."""
    names: dict[str, str] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        wanted = ("KeySchema", "AttributeDefinitions", "BillingMode", "GlobalSecondaryIndexes")
        properties = {k: v for k, v in resource["Properties"].items() if k in wanted}
        name = f"{prefix}-{logical_id}"
        client.create_table(TableName=name, **properties)
        names.setdefault(properties["KeySchema"][0]["AttributeName"], name)
    return names


def task_table_resource(resources: dict[str, Any]) -> dict[str, Any]:
    return next(
        resource
        for resource in resources.values()
        if resource["Type"] == "AWS::DynamoDB::Table"
        and resource["Properties"]["KeySchema"][0]["AttributeName"] == "taskArn"
    )


def run(tasks: int) -> dict[str, dict[str, float]]:  # noqa: PLR0915 (one measurement, read top to bottom)
    with moto_server(REGION, "task-recorder") as client:
        resources = template()["Resources"]
        names = create_tables(client, resources, f"bench-{uuid.uuid4().hex[:6]}")
        recorder_env = next(
            r["Properties"]["Environment"]["Variables"]
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"].startswith("tracker.recorder.")
        )
        os.environ["TASK_TABLE_NAME"] = names["taskArn"]
        os.environ["REJECTED_EVENTS_TABLE_NAME"] = names["messageId"]
        os.environ["JOB_TABLE_NAME"] = names["jobArn"]
        os.environ["ENRICH_MAX_ATTEMPTS"] = str(recorder_env["ENRICH_MAX_ATTEMPTS"])
        os.environ["PROMOTED_TAG_KEYS"] = str(recorder_env.get("PROMOTED_TAG_KEYS", "[]"))
        sys.path.insert(0, str(PROJECT / "lambdas"))
        handler = importlib.import_module("tracker.recorder.handler")
        from tracker.data.braket_tasks import BraketTasks  # noqa: PLC0415

        double = DocumentedBraket()
        handler.recorder.braket = BraketTasks(max_attempts=1, client_factory=lambda region: double)
        requests: list[str] = []
        handler.dynamodb.meta.events.register(
            "before-send.dynamodb", lambda request, **_: requests.append(request.headers["X-Amz-Target"].decode())
        )

        in_calls = [0.0]  # seconds spent inside DynamoDB calls (request, moto's answer, parsing it)

        def timed(client: Any) -> None:
            original = client._make_api_call

            def call(operation: str, params: dict[str, Any]) -> Any:
                started = time.perf_counter()
                try:
                    return original(operation, params)
                finally:
                    in_calls[0] += time.perf_counter() - started

            client._make_api_call = call

        timed(handler.dynamodb)
        timed(client)

        def deliver(events: list[dict[str, Any]]) -> tuple[float, int, int]:
            requests.clear()
            bodies = [json.dumps(event) for event in events]
            batches = [sqs_batch(bodies[i : i + BATCH]) for i in range(0, len(bodies), BATCH)]
            failures = 0
            with quiet():  # the Logger's and Metrics' lines go to /dev/null, not this report
                started = time.perf_counter()
                for batch in batches:
                    failures += len(handler.lambda_handler(batch, Context())["batchItemFailures"])
                elapsed = time.perf_counter() - started
            return elapsed, len(requests), failures

        def floor(events: list[dict[str, Any]]) -> tuple[float, int, int]:
            # A table made as the task table is (the same key and indexes): both sides write alike
            table = names["taskArn"] + "-floor"
            create_tables(client, {"Floor": task_table_resource(resources)}, table)
            table = f"{table}-Floor"
            in_calls[0] = 0.0
            started = time.perf_counter()
            for event in events:
                client.update_item(
                    TableName=table,
                    Key={"taskArn": {"S": event["detail"]["quantumTaskArn"]}},
                    UpdateExpression="SET #s = :s ADD eventIds :e",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":s": {"S": event["detail"]["status"]}, ":e": {"SS": [event["id"]]}},
                )
            return time.perf_counter() - started, len(events), 0

        deliver([e for stream in events_for(5) for e in stream])  # warm: first requests, schema caches
        in_order = [e for stream in events_for(tasks) for e in stream]
        shuffled = [e for stream in events_for(tasks) for e in stream]
        shuffled += random.sample(shuffled, int(len(shuffled) * DUPLICATE_SHARE))
        random.shuffle(shuffled)
        floor_events = [e for stream in events_for(tasks) for e in stream]
        one_write = [e for stream in events_for(tasks) for e in stream]

        def deliver_one_write(events: list[dict[str, Any]]) -> tuple[float, int, int]:
            """detailsAfterEnd false: an end waits for Braket's details and is written once with them."""
            handler.recorder.details_after_end = False
            try:
                return deliver(events)
            finally:
                handler.recorder.details_after_end = True

        results = {}
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request lines
        for name, measure, events in (
            ("floor: one raw UpdateItem per event", floor, floor_events),
            ("recorder, in order", deliver, in_order),
            ("recorder, in order, detailsAfterEnd false", deliver_one_write, one_write),
            (f"recorder, shuffled + {DUPLICATE_SHARE:.0%} duplicates", deliver, shuffled),
        ):
            in_calls[0] = 0.0
            seconds, count, failures = measure(events)
            results[name] = {
                "events": len(events),
                "seconds": seconds,
                "in_calls": in_calls[0],
                "requests": count,
                "failures": failures,
            }
        ops: dict[str, int] = {}
        for request in requests:
            ops[request.split(".")[-1]] = ops.get(request.split(".")[-1], 0) + 1
        results["_shuffled_ops"] = {k: float(v) for k, v in ops.items()}
        return results


def report(results: dict[str, dict[str, float]], tasks: int) -> str:
    ops = results.pop("_shuffled_ops")
    floor = next(iter(results.values()))
    floor_per_event = floor["seconds"] / floor["events"]
    rows = [
        "| stream | events | events/s | ms per event | x floor | of which in DynamoDB calls | own work per event "
        "| DynamoDB requests per event | failed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        per_event = r["seconds"] / r["events"]
        rows.append(
            f"| {name} | {r['events']:.0f} | {r['events'] / r['seconds']:.0f} | {per_event * 1000:.2f} "
            f"| {per_event / floor_per_event:.2f} | {r['in_calls'] / r['events'] * 1000:.2f} ms "
            f"| {(r['seconds'] - r['in_calls']) / r['events'] * 1000:.2f} ms "
            f"| {r['requests'] / r['events']:.2f} | {r['failures']:.0f} |"
        )
    in_order = results["recorder, in order"]
    ratio = (in_order["seconds"] / in_order["events"]) / floor_per_event
    own_share = (in_order["seconds"] - in_order["in_calls"]) / in_order["events"] / floor_per_event
    per_event = in_order["requests"] / in_order["events"]
    single = results["recorder, in order, detailsAfterEnd false"]
    single_per_event = single["requests"] / single["events"]
    return "\n".join(
        [
            "# Recorder cost per event",
            "",
            machine(),
            "",
            f"{tasks} tasks, 4 events each, in SQS batches of {BATCH}, through tracker.recorder.handler against "
            "moto server on 127.0.0.1. The floor writes to a table made as the task table is (the same key and "
            "indexes).",
            "",
            *rows,
            "",
            "Targets: at most 1.1 DynamoDB requests per in-order event: "
            f"**{'met' if per_event <= 1.1 else 'not met'}** with the stack's default ({per_event:.2f}: one "
            "write per event, and one more per finished task for Braket's details, written after the end is "
            "pushed, docs/latency.md), "
            f"**{'met' if single_per_event <= 1.1 else 'not met'}** with detailsAfterEnd false "
            f"({single_per_event:.2f}); handler time at most 1.3x the floor: "
            f"**{'met' if ratio <= 1.3 else 'not met'}** "
            f"({ratio:.2f}x). The recorder's own work per in-order event is {own_share:.2f}x the floor; the rest "
            "of the gap is moto taking longer on the recorder's one write than on the floor's.",
            "",
            "DynamoDB requests in the shuffled stream, by operation: "
            + ", ".join(f"{name} {count:.0f}" for name, count in sorted(ops.items()))
            + ". An in-order event is one conditional write (PutItem for CREATED, UpdateItem after). An "
            "out-of-order or duplicate one finds its condition failed; the failed write returns the stored item "
            "(ReturnValuesOnConditionCheckFailure), so no read follows: a duplicate costs that one request, a "
            "late event one more (the merge, a PutItem conditioned on the item it merged with).",
            "",
            "'In DynamoDB calls' is the time inside the client's calls (signing, HTTP, moto's work, parsing the "
            "answer); 'own work' is the rest: SQS batch handling, event validation, the merge, logging and "
            "metrics. The recorder's writes carry more attributes and a condition, so moto takes longer on "
            "each than on the floor's two-attribute UpdateItem.",
            "",
            "The floor's time is what moto server takes per UpdateItem here (an in-process Python server on a "
            "shared 2-core machine); DynamoDB's own latency is lower and steadier, so in AWS the recorder's own "
            "CPU share (parsing, merging, Powertools logging and metrics) weighs more in the ratio than here.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=200)
    args = parser.parse_args()
    write("recorder-cost.md", report(run(args.tasks), args.tasks))


if __name__ == "__main__":
    main()
