"""Benchmark: throughput and latency of the whole local pipeline (not a timed test).

Submits N Bell-pair tasks to the local Braket service and follows the task table's stream (as a
stream reader in AWS would: one GetRecords per shard and poll, whatever the number of tasks). Reports:
- tasks per second from the first submission until every task's end is recorded;
- for each task, the delay from Braket's endedAt (in the record itself) to the moment its end was
  read from the stream: median and p95;
- how long each phase of the run took (start, submissions, waiting, the SDK batch, stopping).

Then the Braket SDK's own batch workflow in the same local mode: `device.run_batch` of BATCH Bell
pairs on SV1 with max_parallel=BATCH, through the endpoints `make up` exports, timed from the call
until `results()` returns, and the Braket requests it took, by signing access key (the researcher's
against the tracker's functions', from the local service's /_local/request-counts).

moto and the local Braket service run in processes of their own (bench/processes.py).

Run: make bench  (or: .venv/bin/python -m bench.local_pipeline --tasks 50 --batch 100)
"""

from __future__ import annotations

import argparse
import json
import os
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from bench.common import machine, median, p95, write
from bench.processes import BraketProcess, MotoProcess, load_average
from local.faults import FaultPlan
from local.tracker import LocalTracker

BELL_PAIR = "OPENQASM 3.0; bit[2] b; qubit[2] q; h q[0]; cnot q[0], q[1]; b = measure q;"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
BATCH = 100
POLL_SECONDS = 0.25  # the stream is read 4 times a second, as Lambda reads a shard
FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
_deserialize = TypeDeserializer().deserialize


class TableStream:
    """The task table's stream, followed from now: ends as they are written, with their endedAt."""

    def __init__(self, tracker: LocalTracker) -> None:
        self.client = tracker.client("dynamodbstreams")
        arn = tracker.output("TaskTableStreamArn")
        shards = self.client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.iterators = {
            shard["ShardId"]: self.client.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards
        }
        self.ends: dict[str, tuple[float, float]] = {}  # arn -> (read at, endedAt)
        self.enriched: set[str] = set()
        self.reads = 0

    def poll(self) -> None:
        for shard, iterator in list(self.iterators.items()):
            answer = self.client.get_records(ShardIterator=iterator, Limit=1000)
            self.reads += 1
            self.iterators[shard] = answer["NextShardIterator"]
            now = time.time()
            for record in answer.get("Records", []):
                image = {k: _deserialize(v) for k, v in record["dynamodb"].get("NewImage", {}).items()}
                if image.get("status") in FINISHED:
                    arn = str(image["taskArn"])
                    ended = image.get("endedAt")
                    if arn not in self.ends and isinstance(ended, str):
                        self.ends[arn] = (now, _epoch(ended))
                    if "enriched" in image:
                        self.enriched.add(arn)

    def wait(self, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise RuntimeError(f"not done within {timeout:.0f} s")
            self.poll()
            time.sleep(POLL_SECONDS)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def run(tasks: int, batch: int) -> dict[str, Any]:
    phases: dict[str, float] = {}
    started = time.monotonic()
    moto = MotoProcess.launch()
    braket = BraketProcess(moto.url, 0.0)
    tracker = LocalTracker(faults=FaultPlan(), moto=moto, braket=braket, forwarders=False, log_file=None)
    tracker.start()
    try:
        phases["local mode started (synth, deploy, runner)"] = time.monotonic() - started
        bucket = "amazon-braket-us-east-1-123456789012"
        tracker.client("s3").create_bucket(Bucket=bucket)
        client = tracker.client("braket")
        action = json.dumps(
            {"braketSchemaHeader": {"name": "braket.ir.openqasm.program", "version": "1"}, "source": BELL_PAIR}
        )
        stream = TableStream(tracker)

        def submit() -> str:
            answer = client.create_quantum_task(
                action=action, deviceArn=SV1, shots=100, outputS3Bucket=bucket, outputS3KeyPrefix="bench"
            )
            return str(answer["quantumTaskArn"])

        warm = submit()  # the simulator compiles on its first run, the workers import the handlers
        stream.wait(lambda: warm in stream.ends, 300)
        mark = time.monotonic()
        arns = {submit() for _ in range(tasks)}
        phases[f"{tasks} submissions"] = time.monotonic() - mark
        stream.wait(lambda: arns <= set(stream.ends), 900)
        elapsed = time.monotonic() - mark
        phases["until every end was read from the stream"] = elapsed - phases[f"{tasks} submissions"]
        delays = [stream.ends[arn][0] - stream.ends[arn][1] for arn in arns]
        mark = time.monotonic()
        sdk_batch = run_batch(tracker, batch, stream)
        phases[f"SDK run_batch of {batch}, and its tasks recorded"] = time.monotonic() - mark
    finally:
        mark = time.monotonic()
        tracker.stop()
        phases["stopping"] = time.monotonic() - mark
    return {
        "tasks": tasks,
        "seconds": elapsed,
        "tasks_per_second": tasks / elapsed,
        "delay_median_s": median(delays),
        "delay_p95_s": p95(delays),
        "stream_reads": stream.reads,
        "phases": phases,
        "load": load_average(),
        **sdk_batch,
    }


def run_batch(tracker: LocalTracker, size: int, stream: TableStream) -> dict[str, Any]:
    """The SDK's device.run_batch of `size` Bell pairs on SV1, max_parallel=size, at the SDK's defaults."""
    os.environ.update(tracker.environment())  # what `make up` tells a researcher to export
    os.environ.pop("AWS_SESSION_TOKEN", None)
    from braket.aws import AwsDevice  # type: ignore[import-untyped]  # noqa: PLC0415
    from braket.circuits import Circuit  # type: ignore[import-untyped]  # noqa: PLC0415

    assert tracker.runner is not None and tracker.braket is not None
    counts = f"{tracker.braket.url}/_local/request-counts"
    functions = {credentials.access_key for credentials in tracker.runner.function_credentials.values()}
    _counts(counts, "DELETE")
    started = time.monotonic()
    batch = AwsDevice(SV1).run_batch([Circuit().h(0).cnot(0, 1)] * size, shots=100, max_parallel=size)
    results = batch.results()
    seconds = time.monotonic() - started
    if batch.unsuccessful or len(results) != size:
        raise RuntimeError(f"run_batch: {len(batch.unsuccessful)} of {size} tasks did not complete")
    # The tracker reads each finished task once (the recorder's details): count after it has.
    ids = {task.id for task in batch.tasks}
    stream.wait(lambda: ids <= stream.enriched, 600)
    recorded = time.monotonic() - started
    by_key = _counts(counts)["byAccessKey"]
    researcher = by_key.get(os.environ["AWS_ACCESS_KEY_ID"], {})
    tracker_calls = sum(sum(ops.values()) for key, ops in by_key.items() if key in functions)
    return {
        "batch": size,
        "batch_seconds": seconds,
        "batch_recorded_seconds": recorded,
        "batch_researcher_calls": sum(researcher.values()),
        "batch_researcher_get": researcher.get("GetQuantumTask", 0),
        "batch_tracker_calls": tracker_calls,
    }


def _counts(url: str, method: str = "GET") -> dict[str, Any]:
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as response:
        return dict(json.loads(response.read()))


def report(result: dict[str, Any]) -> str:
    phases = [f"| {name} | {seconds:.1f} s |" for name, seconds in result["phases"].items()]
    return "\n".join(
        [
            "# Local pipeline benchmark",
            "",
            machine(),
            f"Load average at the end: {result['load']} (1, 5, 15 min).",
            "",
            "| measure | value |",
            "|---|---|",
            f"| tasks | {result['tasks']:.0f} Bell pairs on the local SV1, 100 shots each |",
            f"| throughput | {result['tasks_per_second']:.1f} tasks/s ({result['seconds']:.1f} s in all) |",
            f"| end -> read from the table's stream, median | {result['delay_median_s'] * 1000:.0f} ms |",
            f"| end -> read from the table's stream, p95 | {result['delay_p95_s'] * 1000:.0f} ms |",
            f"| SDK `device.run_batch` of {result['batch']} Bell pairs on SV1, max_parallel={result['batch']} | "
            f"all results in {result['batch_seconds']:.1f} s "
            f"({result['batch'] / result['batch_seconds']:.1f} tasks/s) |",
            f"| ... and all of them recorded with Braket's details | after {result['batch_recorded_seconds']:.1f} s |",
            f"| Braket requests for the batch: the SDK's (GetQuantumTask) | {result['batch_researcher_calls']} "
            f"({result['batch_researcher_get']}), {result['batch_researcher_calls'] / result['batch']:.1f} per task |",
            f"| Braket requests for the batch: the tracker's functions | {result['batch_tracker_calls']} "
            f"({result['batch_tracker_calls'] / result['batch']:.2f} per task) |",
            "",
            "Phases of the run:",
            "",
            "| phase | took |",
            "|---|---|",
            *phases,
            "",
            f"The ends are read from the task table's stream every {POLL_SECONDS * 1000:.0f} ms (one GetRecords per "
            f"shard and read, {result['stream_reads']} reads in all, however many tasks are pending), so the delay "
            "includes up to that interval; endedAt comes with the record. Each task passes through the local Braket "
            "service, moto's EventBridge and SQS, and the recorder in its worker process: four events per task. "
            "The batch runs at the SDK's defaults (a thread per task, GetQuantumTask every second per task) while "
            "the tracker records the same tasks; requests are counted by signing access key at the local service.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--batch", type=int, default=BATCH, help="tasks in the SDK's run_batch")
    parser.add_argument("--output", default="local-pipeline.md", help="file name under bench/results/")
    args = parser.parse_args()
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    write(args.output, report(run(args.tasks, args.batch)))


if __name__ == "__main__":
    main()
