"""A small Braket (and S3 GetObject) on 127.0.0.1, for the unmodified SDK's own calls in unit tests:
CreateQuantumTask, GetQuantumTask, CancelQuantumTask and GetDevice in REST-JSON, each request counted
by Region (from its SigV4 credential scope) and operation; results.json served path-style, as boto3
asks an S3 endpoint given by IP. Point boto3 at it with AWS_ENDPOINT_URL_BRAKET / AWS_ENDPOINT_URL_S3."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from local.braket.devices import managed_simulators

ACCOUNT = "123456789012"
SV1 = "arn:aws:braket:::device/quantum-simulator/amazon/sv1"
FORTE = "arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1"
BELL = "OPENQASM 3.0; bit[2] b; qubit[2] q; h q[0]; cnot q[0], q[1]; b = measure q;"


def qpu_capabilities() -> dict[str, Any]:
    """A gate-model QPU's capabilities (IonQ's schema, as its docstring's example builds them)."""
    from braket.device_schema.ionq import IonqDeviceParameters

    return {
        "braketSchemaHeader": {"name": "braket.device_schema.ionq.ionq_device_capabilities", "version": "1"},
        "service": {
            "braketSchemaHeader": {"name": "braket.device_schema.device_service_properties", "version": "1"},
            "executionWindows": [{"executionDay": "Everyday", "windowStartHour": "00:00", "windowEndHour": "23:59"}],
            "shotsRange": [1, 10000],
            "deviceCost": {"price": 0.08, "unit": "shot"},
            "deviceDocumentation": {"imageUrl": "", "summary": "a QPU", "externalDocumentationUrl": ""},
            "deviceLocation": "us-east-1",
            "updatedAt": "2026-11-01T00:00:00",
        },
        "action": {
            "braket.ir.openqasm.program": {
                "actionType": "braket.ir.openqasm.program",
                "version": ["1"],
                "supportedOperations": ["h", "cnot", "rx", "ry", "x"],
                "supportedResultTypes": [],
            }
        },
        "paradigm": {
            "braketSchemaHeader": {"name": "braket.device_schema.gate_model_qpu_paradigm_properties", "version": "1"},
            "qubitCount": 36,
            "nativeGateSet": ["gpi", "gpi2", "ms"],
            "connectivity": {"fullyConnected": True, "connectivityGraph": {}},
        },
        "deviceParameters": json.loads(IonqDeviceParameters.schema_json()),
    }


class FakeBraket:
    def __init__(self) -> None:
        sv1 = managed_simulators()[SV1].describe(0)
        forte = {
            "deviceArn": FORTE,
            "deviceName": "Forte 1",
            "providerName": "IonQ",
            "deviceType": "QPU",
            "deviceStatus": "ONLINE",
            "deviceCapabilities": json.dumps(qpu_capabilities()),
        }
        self.devices: dict[str, dict[str, Any]] = {SV1: sv1, FORTE: forte}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}  # GetJob answers (JSON: ISO times) by job ARN
        self.objects: dict[str, bytes] = {}  # "bucket/key" -> body
        self.sources: dict[str, str] = {}  # task ARN -> its OpenQASM source
        self.requests: Counter[tuple[str, str]] = Counter()  # (Region, operation) -> count
        self.access_keys: Counter[tuple[str, str]] = Counter()  # (access key id, operation) -> count
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, payload, error = fake.route(self.command, self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                if error:
                    self.send_header("x-amzn-ErrorType", error)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PUT = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeBraket:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, operation: str, region: str | None = None) -> int:
        with self._lock:
            return sum(n for (where, name), n in self.requests.items() if name == operation and region in {None, where})

    # -- the API --------------------------------------------------------------------------------

    def route(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str | None]:  # noqa: PLR0911
        path = urlsplit(raw_path).path
        scope = {k.lower(): v for k, v in headers.items()}.get("authorization", "").split("Credential=")[-1]
        key, region = scope.split("/")[0], [*scope.split("/"), "", "", ""][2]
        operation = self._operation(method, path)
        with self._lock:
            self.requests[(region, operation)] += 1
            self.access_keys[(key, operation)] += 1
        if operation == "GetObject":
            found = self.objects.get(unquote(path.lstrip("/")))
            if found is None:
                return 404, b"<Error><Code>NoSuchKey</Code></Error>", "NoSuchKey"
            return 200, found, None
        if operation == "CreateQuantumTask":
            return 201, json.dumps({"quantumTaskArn": self.create(region, json.loads(body))}).encode(), None
        if operation == "GetDevice":
            device = self.devices.get(unquote(path.removeprefix("/device/")))
            return (200, json.dumps(device).encode(), None) if device else self._missing("device")
        if operation in ("GetJob", "CancelJob"):
            job = self.jobs.get(unquote(path.removeprefix("/job/").removesuffix("/cancel")))
            if job is None:
                return self._missing("job")
            if operation == "CancelJob":
                return 200, json.dumps({"jobArn": job["jobArn"], "cancellationStatus": "CANCELLING"}).encode(), None
            return 200, json.dumps(job).encode(), None
        arn = unquote(path.removeprefix("/quantum-task/").removesuffix("/cancel"))
        task = self.tasks.get(arn)
        if task is None:
            return self._missing(arn)
        if operation == "CancelQuantumTask":
            task["status"] = "CANCELLING"
            return 200, json.dumps({"cancellationStatus": "CANCELLING", "quantumTaskArn": arn}).encode(), None
        queue = {"queue": "QUANTUM_TASKS_QUEUE", "queuePriority": "Normal"}
        queue |= {"position": "3"} if task["status"] == "QUEUED" else {"position": "None", "message": "not queued"}
        return 200, json.dumps({**task, "queueInfo": queue}).encode(), None

    @staticmethod
    def _operation(method: str, path: str) -> str:
        if path.startswith("/device/"):
            return "GetDevice"
        if path == "/quantum-task" and method == "POST":
            return "CreateQuantumTask"
        if path.startswith("/quantum-task/"):
            return "CancelQuantumTask" if path.endswith("/cancel") else "GetQuantumTask"
        if path.startswith("/job/"):
            return "CancelJob" if path.endswith("/cancel") else "GetJob"
        return "GetObject"

    @staticmethod
    def _missing(what: str) -> tuple[int, bytes, str]:
        return 404, json.dumps({"message": f"{what} not found"}).encode(), "ResourceNotFoundException"

    def create(self, region: str, params: dict[str, Any]) -> str:
        task_id = str(uuid.uuid4())
        arn = f"arn:aws:braket:{region}:{ACCOUNT}:quantum-task/{task_id}"
        action = json.loads(params["action"])
        self.tasks[arn] = {
            "quantumTaskArn": arn,
            "status": "CREATED",
            "deviceArn": params["deviceArn"],
            "deviceParameters": params.get("deviceParameters", "{}"),
            "shots": params["shots"],
            "outputS3Bucket": params["outputS3Bucket"],
            "outputS3Directory": f"{params['outputS3KeyPrefix']}/{task_id}",
            "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "tags": params.get("tags") or {},
            "actionMetadata": {"actionType": action["braketSchemaHeader"]["name"]},
        }
        self.sources[arn] = action["source"]
        return arn

    def finish(self, arn: str, status: str = "COMPLETED") -> dict[str, Any]:
        """End a task; a COMPLETED one gets its results.json, simulated (in the calling thread)."""
        from braket.default_simulator import StateVectorSimulator
        from braket.ir.openqasm import Program

        task = self.tasks[arn]
        if status == "COMPLETED":
            result = StateVectorSimulator().run_openqasm(Program(source=self.sources[arn]), shots=task["shots"])
            result.taskMetadata.id = arn
            self.objects[f"{task['outputS3Bucket']}/{task['outputS3Directory']}/results.json"] = result.json().encode()
        task["status"] = status
        task["endedAt"] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return task
