"""`python -m local demo` (make demo) and `python -m local up` (make up)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from local.aws import ACCOUNT, CREDENTIALS
from local.braket.jobs.service import JOBS_ROLE_NAME, JOBS_ROLE_PATH
from local.faults import FaultPlan
from local.signed_http import SignedApi
from local.tracker import LocalTracker

BELL_PAIR = """OPENQASM 3.0;
bit[2] b;
qubit[2] q;
h q[0];
cnot q[0], q[1];
b = measure q;"""
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
FINISHED = {"COMPLETED", "FAILED", "CANCELLED"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description="Run the tracker offline, on this machine.")
    parser.add_argument("command", choices=["demo", "up"])
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--faults", action="store_true", help="duplicate, delay, reorder and drop events; fail tasks")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault mode")
    parser.add_argument("--queue-delay", type=float, default=3.0, help="seconds a task waits in QUEUED")
    args = parser.parse_args(argv)
    faults = FaultPlan.chaos(args.seed) if args.faults else FaultPlan(seed=args.seed)
    print("Synthesizing the app and starting local mode (moto, the local Braket service, the Lambda runner)...")
    with LocalTracker(region=args.region, faults=faults, queue_delay=args.queue_delay) as tracker:
        return demo(tracker) if args.command == "demo" else up(tracker)


def up(tracker: LocalTracker) -> int:
    env = tracker.environment()
    assert tracker.stack is not None
    print("\nLocal mode is up. Endpoints (127.0.0.1 only):")
    print(f"  AWS (moto: DynamoDB, SQS, EventBridge, S3, ...)  {env['AWS_ENDPOINT_URL']}")
    print(f"  Amazon Braket (local service)                     {env['AWS_ENDPOINT_URL_BRAKET']}")
    counts = f"{env['AWS_ENDPOINT_URL_BRAKET']}/_local/request-counts"
    print(f"  {'Braket requests by operation and access key':<50}{counts}")
    for name, endpoint in sorted(tracker.runner.endpoints.items() if tracker.runner else []):
        print(f"  API {name:<46}{endpoint.url}")
    for endpoint in tracker.runner.websocket_endpoints.values() if tracker.runner else []:
        print(f"  {'Live updates (WebSocket, SigV4-signed connect)':<50}{endpoint.url}")
    print("\nStack outputs:")
    width = max(map(len, tracker.stack.outputs)) + 2
    for key, value in sorted(tracker.stack.outputs.items()):
        print(f"  {key:<{width}}{value}")
    print("\nPoint boto3, the AWS CLI and the client at it (paste into another shell):")
    print("  export " + " ".join(f"{k}={v}" for k, v in env.items()))
    functions = tracker.runner.function_credentials.values() if tracker.runner else []
    keys = ", ".join(sorted(credentials.access_key for credentials in functions))
    print(f"\nThe functions sign with access keys of their own (the counts name them): {keys}")
    print(
        f"Hybrid jobs: AwsQuantumJob.create(device, source_module, ...) works with the SDK's defaults (role "
        f"arn:aws:iam::{ACCOUNT}:role{JOBS_ROLE_PATH}{JOBS_ROLE_NAME}); a job signs with the key {JOBS_ROLE_NAME}"
    )
    print(f"\nFunction logs: {tracker.log_file}")
    print("\nPress Ctrl-C to stop.")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    print("\nStopping local mode...")
    return 0


def demo(tracker: LocalTracker, timeout: float = 120) -> int:
    assert tracker.runner is not None
    api = SignedApi(tracker.runner.api_endpoints()[0].url, tracker.region, *CREDENTIALS)
    inbox = subscribe_queue(tracker)
    submitted = api.request(
        "POST",
        "/tasks",
        body={"deviceArn": SV1, "shots": 1000, "program": BELL_PAIR, "tags": {"project": "demo"}},
        headers={"Idempotency-Key": f"demo-{time.time_ns()}"},
    )
    if submitted.status != 201:
        print(f"\nThe Task API refused the task: {submitted.status} {submitted.body}", file=sys.stderr)
        return 1
    arn = submitted["taskArn"]
    print(f"\nPOST {api.base_url}tasks (SigV4-signed): a Bell pair on the local SV1 simulator, 1,000 shots")
    print(f"  {submitted.status} {arn}\n")
    print("The task table, as the API and then the recorder update it:")
    print(f"  {'seen at':<14}{'status':<12}{'events':>7}  statusTimes")
    item = watch(tracker.client("dynamodb"), tracker.output("TaskTableName"), arn, timeout)
    if item is None or item["status"] not in FINISHED:
        print(f"\nThe task did not finish within {timeout:.0f} s.", file=sys.stderr)
        return 1
    print("\nThe item:")
    print(json.dumps(item, indent=2, default=_plain, sort_keys=True))
    if item["status"] == "COMPLETED":
        result = api.request("GET", f"/tasks/{submitted['taskId']}/result")
        print(f"\nGET {api.base_url}tasks/{submitted['taskId']}/result: counts from {item['resultsUri']}")
        for bits, count in sorted(result["counts"].items()):
            print(f"  {bits}  {count:>5}  {'#' * (count // 20)}")
    print_notification(tracker, inbox)
    print_cost(tracker, api, arn)
    print("\nStopping local mode.")
    return 0


def print_cost(tracker: LocalTracker, api: SignedApi, arn: str, timeout: float = 20) -> None:
    """The task's cost, as the cost keeper writes it on the item, and the month's total by project."""
    dynamodb, table = tracker.client("dynamodb"), tracker.output("TaskTableName")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = dynamodb.get_item(TableName=table, Key={"taskArn": {"S": arn}}, ConsistentRead=True).get("Item", {})
        if "costBasis" in item:
            basis = TypeDeserializer().deserialize(item["costBasis"])
            usd = TypeDeserializer().deserialize(item["costUsd"]) if "costUsd" in item else None
            print(f"\nIts cost, as the cost keeper wrote it on the item (costUsd): {cost_line(usd, basis)}")
            report = api.request("GET", "/costs", query={"by": "tag:project", "month": str(basis_month(item))})
            for row in report.body.get("rows", []) if report.status == 200 else []:
                print(
                    f"  GET /costs?by=tag:project: {row['value'] or '(none)'} ${row['usd']} in {row['tasks']} task(s)"
                )
            return
        time.sleep(0.2)
    print(f"\nNo cost on the item within {timeout:.0f} s.", file=sys.stderr)


def basis_month(item: dict[str, Any]) -> str:
    return str(item.get("endedAt", {}).get("S", ""))[:7]


def cost_line(usd: Decimal | None, basis: dict[str, Any]) -> str:
    """`$0.00375 (simulator: 3,000 ms billed at $0.075 per minute)`, or why the task is not priced."""
    if usd is None:
        return f"not priced: {basis.get('reason')}"
    prices = ", ".join(f"${price['usd']} per {price['unit']}" for price in basis.get("prices", ()))
    if basis.get("rule") == "simulator":
        detail = f"{int(basis['billedMs']):,} ms billed at {prices}"
    elif basis.get("rule") == "qpu":
        detail = f"{int(basis['shots']):,} shots at {prices}"
    else:
        detail = str(basis.get("reason"))
    return f"${usd.normalize():f} ({basis.get('rule')}: {detail}; catalogue {basis.get('catalogueVersion')})"


def subscribe_queue(tracker: LocalTracker) -> str:
    """A local SQS queue subscribed to the notification topic, as a program would subscribe."""
    sqs, sns = tracker.client("sqs"), tracker.client("sns")
    url: str = sqs.create_queue(QueueName="demo-notifications")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=tracker.output("NotificationTopicArn"), Protocol="sqs", Endpoint=arn)
    return url


def print_notification(tracker: LocalTracker, inbox: str, timeout: float = 20) -> None:
    sqs = tracker.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=inbox, WaitTimeSeconds=1).get("Messages", []):
            envelope = json.loads(message["Body"])
            print("\nThe notification, as an SQS subscriber of the topic received it:")
            print(f"  Subject: {envelope.get('Subject')}")
            print("  " + json.dumps(json.loads(envelope["Message"]), indent=2, sort_keys=True).replace("\n", "\n  "))
            return
    print(f"\nNo notification arrived within {timeout:.0f} s.", file=sys.stderr)


def watch(dynamodb: Any, table: str, arn: str, timeout: float) -> dict[str, Any] | None:
    """Show each change of the task's item until it finishes. (Reading the table to display it.)"""
    deserialize = TypeDeserializer().deserialize
    deadline, last = time.monotonic() + timeout, None
    item: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        raw = dynamodb.get_item(TableName=table, Key={"taskArn": {"S": arn}}, ConsistentRead=True).get("Item")
        if raw:
            item = {k: deserialize(v) for k, v in raw.items()}
            shown = (item["status"], int(item["eventCount"]))
            if shown != last:
                last = shown
                times = ", ".join(f"{s} {t[11:23]}" for s, t in sorted(item["statusTimes"].items(), key=lambda x: x[1]))
                print(f"  {time.strftime('%H:%M:%S'):<14}{item['status']:<12}{shown[1]:>7}  {times}")
            if item["status"] in FINISHED and item.get("enriched") is not None:
                return item
        time.sleep(0.1)
    return item


def _plain(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
