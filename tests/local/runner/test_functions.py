"""Functions: worker processes with Lambda's environment and context, cold starts, timeouts, no orphans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.local.runner import templates
from tests.local.runner.moto_stack import ACCOUNT, REGION, Deployed, eventually, process_alive

BRAKET = "http://127.0.0.1:9/braket"
PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture
def probe_stack(deploy: Callable[[dict[str, Any]], Deployed]) -> Deployed:
    return deploy(
        templates.stack(
            Work=templates.queue(),
            Topic={"Type": "AWS::SNS::Topic"},
            Tasks=templates.table(),
            Probe=templates.function(
                "probe.handler",
                memory=512,
                timeout=5,
                QUEUE_URL={"Ref": "Work"},
                QUEUE_ARN={"Fn::GetAtt": ["Work", "Arn"]},
                TOPIC_ARN={"Ref": "Topic"},
                TABLE_NAME={"Ref": "Tasks"},
                STREAM_ARN={"Fn::GetAtt": ["Tasks", "StreamArn"]},
                POWERTOOLS_LOG_LEVEL="INFO",
            ),
            Sleepy=templates.function("probe.handler", timeout=1),
        )
    )


def test_environment_resolves_to_the_deployed_resources(probe_stack: Deployed) -> None:
    aws, physical = probe_stack.aws, probe_stack.physical
    with probe_stack.running(braket_endpoint=BRAKET) as runner:
        invocation = runner.invoke("Probe", {"hello": "world"})

    assert invocation.ok, invocation.error
    seen = invocation.payload
    env = seen["env"]
    table = aws.client("dynamodb").describe_table(TableName=physical["Tasks"])["Table"]
    queue_arn = aws.client("sqs").get_queue_attributes(QueueUrl=physical["Work"], AttributeNames=["QueueArn"])
    assert env["QUEUE_URL"] == physical["Work"]
    assert env["QUEUE_ARN"] == queue_arn["Attributes"]["QueueArn"]
    assert env["TOPIC_ARN"] == physical["Topic"]
    assert env["TABLE_NAME"] == physical["Tasks"]
    assert env["STREAM_ARN"] == table["LatestStreamArn"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "runner-test"
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
    # Lambda's own variables, the local endpoints and credentials
    name = physical["Probe"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert env["AWS_ENDPOINT_URL"] == aws.endpoint
    assert env["AWS_ENDPOINT_URL_BRAKET"] == BRAKET
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (name, f"local-{name}")  # its own
    assert "AWS_SESSION_TOKEN" not in env  # the test process has one; the function's environment is its own
    # the context object, as the Python runtime builds it
    context = seen["context"]
    assert context["function_name"] == name
    assert context["memory_limit_in_mb"] == "512"
    assert context["invoked_function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    assert context["aws_request_id"] == invocation.request_id
    assert context["log_stream_name"].split("/")[-1].startswith("[$LATEST]")
    assert 0 < context["remaining_ms"] <= 5000
    # the asset first on sys.path, the project not importable, a process of its own
    asset = (probe_stack.cdk_out / templates.ASSET).resolve()
    assert seen["sys_path0"] == str(asset) == seen["cwd"]
    assert seen["project_visible"] is False
    assert seen["pid"] != os.getpid() and seen["ppid"] == os.getpid()
    assert seen["event"] == {"hello": "world"}


def test_module_is_imported_once_per_worker(probe_stack: Deployed) -> None:
    with probe_stack.running() as runner:
        first = runner.invoke("Probe", {})
        second = runner.invoke("Probe", {})
        failed = runner.invoke("Probe", {"fail": "handled error"})
        third = runner.invoke("Probe", {})

    assert first.cold_start and not second.cold_start and not third.cold_start
    assert first.worker_pid == second.worker_pid == third.worker_pid
    assert (first.payload["invocations"], second.payload["invocations"], third.payload["invocations"]) == (1, 2, 4)
    assert failed.error is not None
    assert failed.error["errorType"] == "ValueError"
    assert failed.error["errorMessage"] == "handled error"
    assert any("probe.py" in line for line in failed.error["stackTrace"])


def test_timeout_kills_the_worker_and_the_next_invocation_cold_starts(probe_stack: Deployed) -> None:
    with probe_stack.running() as runner:
        warm = runner.invoke("Sleepy", {})
        slow = runner.invoke("Sleepy", {"sleep": 5})
        after = runner.invoke("Sleepy", {})

    assert warm.ok and warm.cold_start
    assert slow.timed_out
    assert slow.error is not None
    assert "Task timed out after 1.00 seconds" in slow.error["errorMessage"]
    assert 900 < slow.duration_ms < 3000  # killed at the timeout, not after the 5 s sleep
    assert slow.worker_pid == warm.worker_pid
    assert not process_alive(slow.worker_pid)
    assert after.ok and after.cold_start
    assert after.worker_pid != slow.worker_pid
    assert after.payload["invocations"] == 1  # a fresh import


def test_worker_output_goes_to_the_log_file_with_the_logical_id(probe_stack: Deployed, tmp_path: Path) -> None:
    log_file = tmp_path / "runner.log"
    with probe_stack.running(log_file=log_file) as runner:
        runner.invoke("Probe", {"fail": "went wrong"})
        eventually(lambda: "went wrong" in log_file.read_text())
    assert "[Probe] [ERROR] ValueError: went wrong" in log_file.read_text()


def test_no_worker_outlives_stop(probe_stack: Deployed) -> None:
    runner = probe_stack.runner().start()
    try:
        runner.invoke("Probe", {})
        runner.invoke("Sleepy", {})
        pids = runner.worker_pids()
    finally:
        runner.stop()
    assert len(pids) == 2
    assert all(process_alive(pid) is False for pid in pids)
    assert runner.worker_pids() == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT])
def test_workers_die_with_the_runner_process(probe_stack: Deployed, tmp_path: Path, sig: signal.Signals) -> None:
    """A runner process killed any way (even SIGKILL, which runs no cleanup) leaves no worker behind."""
    config = tmp_path / "runner.json"
    config.write_text(
        json.dumps(
            {
                "template": probe_stack.template,
                "cdk_out": str(probe_stack.cdk_out),
                "stack_name": probe_stack.stack_name,
                "endpoint": probe_stack.aws.endpoint,
                "invoke": ["Probe", "Sleepy"],
            }
        )
    )
    parent = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("run_runner.py")), str(config)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        pids = json.loads(parent.stdout.readline())
        assert len(pids) == 2 and all(process_alive(pid) for pid in pids)
        parent.send_signal(sig)
        parent.wait(timeout=60)  # a loaded machine may take a while to stop the runner; it must stop
        eventually(lambda: not any(process_alive(pid) for pid in pids), timeout=5)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
