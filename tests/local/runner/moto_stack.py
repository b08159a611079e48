"""Minimal deploys into moto for the runner's tests (the real deploy code lives elsewhere).

A deploy gets the template without what moto cannot create (event source mappings, Custom::
resources, Lambda layers), as the local mode's transform does; the runner gets the ORIGINAL template.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3

from local.aws import LocalAws, deploy
from local.runner import LocalRunner
from local.template import for_local
from tests.support.app import STACK_NAME

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
CREDENTIALS = ("testing", "testing")
HANDLERS = Path(__file__).resolve().parent / "handlers"
T = TypeVar("T")


class Aws:
    """boto3 clients on moto, with the runner's credentials."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._session = boto3.Session(
            aws_access_key_id=CREDENTIALS[0], aws_secret_access_key=CREDENTIALS[1], region_name=REGION
        )

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.endpoint)  # type: ignore[call-overload]


@dataclass
class Deployed:
    aws: Aws
    stack_name: str
    template: dict[str, Any]  # the original
    cdk_out: Path
    physical: dict[str, str]

    def runner(self, **options: Any) -> LocalRunner:
        return LocalRunner(self.template, self.cdk_out, self.stack_name, self.aws.endpoint, REGION, **options)

    @contextmanager
    def running(self, **options: Any) -> Iterator[LocalRunner]:
        with warnings.catch_warnings():  # moto's, on describe_stack_resources (see create_stack)
            warnings.simplefilter("ignore")
            runner = self.runner(**options).start()
        try:
            yield runner
        finally:
            runner.stop()


def create_stack(aws: Aws, template: dict[str, Any], name: str) -> dict[str, str]:
    cfn = aws.client("cloudformation")
    with warnings.catch_warnings():  # moto warns for each type it accepts without creating it (policies, alarms)
        warnings.simplefilter("ignore")
        cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    assert status == "CREATE_COMPLETE", status
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in resources
        if r.get("LogicalResourceId") and r.get("PhysicalResourceId")
    }


def deploy_test_stack(aws: Aws, template: dict[str, Any], workdir: Path) -> Deployed:
    """A small test template, with tests/local/runner/handlers as its functions' asset."""
    cdk_out = workdir / "cdk.out"
    shutil.copytree(HANDLERS, cdk_out / "asset.handlers", ignore=shutil.ignore_patterns("__pycache__"))
    name = f"RunnerTest-{uuid.uuid4().hex[:8]}"
    physical = create_stack(aws, for_local(template), name)
    return Deployed(aws, name, template, cdk_out, physical)


def deploy_synthesized(aws: Aws, template: dict[str, Any], cdk_out: Path, name: str) -> Deployed:
    """The real synthesized stack, deployed as local mode deploys it (local.aws.deploy)."""
    deployed = deploy(LocalAws(aws.endpoint), cdk_out, STACK_NAME, REGION, deployed_name=name)
    return Deployed(aws, name, template, cdk_out, deployed.physical_ids)


def eventually(check: Callable[[], T | None], timeout: float = 15.0, interval: float = 0.1) -> T:
    """The first truthy result of `check` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


class QueueReader:
    """Collects the messages of a queue (deleting them) as JSON or text."""

    def __init__(self, aws: Aws, url: str, as_json: bool = True) -> None:
        self.sqs = aws.client("sqs")
        self.url = url
        self.as_json = as_json
        self.received: list[Any] = []

    def poll(self) -> list[Any]:
        answer = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
        )
        for message in answer.get("Messages", []):
            self.received.append(json.loads(message["Body"]) if self.as_json else message)
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return self.received

    def until(self, count: int, timeout: float = 15.0) -> list[Any]:
        return eventually(lambda: len(self.poll()) >= count and self.received, timeout)


def process_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (an exited child nobody has reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
