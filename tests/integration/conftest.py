"""Integration tests: the recorder handler against moto server over HTTP on 127.0.0.1."""

from __future__ import annotations

import importlib
import json
import os
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from tests.support.app import SynthesizedApp
from tests.support.events import sqs_batch
from tests.support.lambda_context import FakeLambdaContext
from tests.support.moto_server import create_tables_from_template, start_moto_server
from tracker.data.braket_tasks import BraketTasks

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server, url = start_moto_server()
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = url
    yield url
    server.stop()
    if previous is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = previous


@pytest.fixture(scope="session")
def dynamodb(moto_endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=moto_endpoint)


@pytest.fixture(scope="session")
def table_names(dynamodb: Any, synthesized: SynthesizedApp) -> dict[str, str]:
    return create_tables_from_template(dynamodb, synthesized.resources, prefix=f"it-{uuid.uuid4().hex[:6]}")


DEVICE_PARAMETERS = json.dumps(
    {
        "braketSchemaHeader": {
            "name": "braket.device_schema.simulators.gate_model_simulator_device_parameters",
            "version": "1",
        },
        "paradigmParameters": {"qubitCount": 2, "disableQubitRewiring": False},
    }
)
RESERVATION = "arn:aws:braket:us-east-1:012345678901:reservation/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


class DocumentedBraket:
    """A Braket client double answering GetQuantumTask in the documented shape."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def get_quantum_task(self, quantumTaskArn: str) -> dict[str, Any]:
        self.calls.append(quantumTaskArn)
        return {
            "quantumTaskArn": quantumTaskArn,
            "status": "COMPLETED",
            "tags": {"team": "qml"},
            "numSuccessfulShots": 1000,
            "deviceParameters": DEVICE_PARAMETERS,
            "actionMetadata": {"actionType": "braket.ir.openqasm.program"},
            "associations": [{"arn": RESERVATION, "type": "RESERVATION_TIME_WINDOW_ARN"}],
        }


@pytest.fixture(scope="session")
def recorder_module(table_names: dict[str, str]) -> ModuleType:
    """The handler module, imported as Lambda would at cold start, with the tables' names."""
    os.environ["TASK_TABLE_NAME"] = table_names["taskArn"]
    os.environ["REJECTED_EVENTS_TABLE_NAME"] = table_names["messageId"]
    os.environ["ENRICH_MAX_ATTEMPTS"] = "2"
    os.environ["JOB_TABLE_NAME"] = table_names["jobArn"]
    return importlib.import_module("tracker.recorder.handler")


@pytest.fixture
def braket(recorder_module: ModuleType) -> Iterator[DocumentedBraket]:
    fake = DocumentedBraket()
    original = recorder_module.recorder.braket
    recorder_module.recorder.braket = BraketTasks(max_attempts=1, client_factory=lambda region: fake)
    yield fake
    recorder_module.recorder.braket = original


class Recorder:
    """Delivers SQS batches to the handler and counts the DynamoDB requests it sends."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.requests: list[str] = []
        module.recorder.table._client.meta.events.register("before-send.dynamodb", self._count)

    def _count(self, request: Any, **_: Any) -> None:
        self.requests.append(request.headers["X-Amz-Target"].decode().split(".")[-1])

    def deliver(self, bodies: list[str], receive_count: int = 1) -> dict[str, Any]:
        """`receive_count` > 1: SQS delivers the messages again (ApproximateReceiveCount)."""
        batch = sqs_batch(bodies)
        for message in batch["Records"]:
            message["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        return self.module.lambda_handler(batch, FakeLambdaContext())  # type: ignore[no-any-return]

    def close(self) -> None:
        self.module.recorder.table._client.meta.events.unregister("before-send.dynamodb", self._count)


@pytest.fixture
def recorder(recorder_module: ModuleType, braket: DocumentedBraket) -> Iterator[Recorder]:
    harness = Recorder(recorder_module)
    yield harness
    harness.close()
