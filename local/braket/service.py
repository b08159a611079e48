"""The task store and every task's lifecycle: CREATED -> QUEUED -> RUNNING -> COMPLETED | FAILED, or cancelled."""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.braket import programs, responses, rules
from local.braket.aws import AwsClients
from local.braket.devices import Device, managed_simulators
from local.braket.errors import (
    ConflictException,
    InternalServiceException,
    ResourceNotFoundException,
    ValidationException,
)
from local.braket.events import EventPublisher
from local.braket.models import (
    CANCELLED,
    CANCELLING,
    COMPLETED,
    CREATED,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    Task,
    iso_ms,
    now,
)
from local.braket.scheduler import Scheduler
from local.braket.search import page, task_filter
from local.braket.simulators import SimulationCrashed, SimulationFailed, SimulatorPool
from local.faults import FaultPlan

log = logging.getLogger(__name__)

CANCEL_DELAY = 0.1  # seconds from CANCELLING to CANCELLED for a task that never ran
FAULT_FAILURE = "An internal service error has occurred (local fault mode: fail_task)."
_JOB_ARN = re.compile(r"arn:aws[a-z\-]*:braket:[a-z0-9\-]+:[0-9]{12}:job/.+")
_BAD_PREFIX = re.compile(r"[{}\[\]<>\\|^~`%#\"\x00-\x1f\x7f-\xff]|(^|/)\.\.?(/|$)")


class BraketService:
    def __init__(
        self,
        clients: AwsClients,
        publisher: EventPublisher,
        scheduler: Scheduler,
        faults: FaultPlan,
        *,
        account: str,
        queue_delay: float,
        workers: int = 2,
    ) -> None:
        self.devices: dict[str, Device] = managed_simulators()
        self._clients = clients
        self._publisher = publisher
        self._scheduler = scheduler
        self._faults = faults
        self._account = account
        self.queue_delay = queue_delay  # seconds a task waits in QUEUED; tests may hold tasks there longer
        self._tasks: dict[str, Task] = {}
        self._by_token: dict[tuple[str, str], str] = {}
        self._lock = threading.RLock()
        self._ready: queue.Queue[str | None] = queue.Queue()
        self.simulators = SimulatorPool(workers)
        self._stopping = threading.Event()
        self.queued_jobs: Callable[[str, str], int] = lambda region, device_arn: 0  # set by LocalBraket
        self._workers = [
            threading.Thread(target=self._work, name=f"local-braket-worker-{i}", daemon=True) for i in range(workers)
        ]

    def start(self) -> None:
        self.simulators.start()
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        """Kill the simulator workers (running simulations are abandoned), then join the worker threads."""
        self._stopping.set()
        for _ in self._workers:
            self._ready.put(None)
        self.simulators.stop()
        for worker in self._workers:
            if worker.is_alive():
                worker.join()

    # --- operations (region from the request's signature, params validated against the service model) ---

    def create_quantum_task(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        token = params["clientToken"]
        with self._lock:
            if (existing := self._by_token.get((region, token))) is not None:
                return {"quantumTaskArn": existing}
        device = self.devices.get(params["deviceArn"])
        if device is None:
            raise ValidationException(f"Device {params['deviceArn']} does not exist or is not available in {region}")
        shots, (low, high) = params["shots"], device.shots_range
        if not low <= shots <= high:
            raise ValidationException(f"Shots {shots} is outside the range [{low}, {high}] supported by {device.name}")
        tags = dict(params.get("tags") or {})
        rules.check_tags(tags)
        program = programs.parse_action(params["action"], device)
        qubits = programs.check_program(program, device, shots)
        device_parameters = programs.device_parameters(params.get("deviceParameters"), qubits)
        prefix, bucket = params["outputS3KeyPrefix"], params["outputS3Bucket"]
        if _BAD_PREFIX.search(prefix):
            raise ValidationException(f"outputS3KeyPrefix '{prefix}' contains characters or path segments not allowed")
        self._require_bucket(region, bucket)
        with self._lock:
            if (existing := self._by_token.get((region, token))) is not None:
                return {"quantumTaskArn": existing}
            task_id = str(uuid.uuid4())
            task = Task(
                arn=f"arn:aws:braket:{region}:{self._account}:quantum-task/{task_id}",
                region=region,
                device_arn=device.arn,
                shots=shots,
                program=program,
                output_bucket=bucket,
                output_directory=f"{prefix}/{task_id}",
                device_parameters=device_parameters,
                created_at=now(),
                client_token=token,
                tags=tags,
                job_arn=params["jobToken"] if _JOB_ARN.fullmatch(params.get("jobToken") or "") else None,
                associations=list(params.get("associations") or []),
                experimental_capabilities=params.get("experimentalCapabilities"),
            )
            self._tasks[task.arn] = task
            self._by_token[(region, token)] = task.arn
            self._change(task, CREATED, at=task.created_at)
            self._scheduler.call_later(0, partial(self._enqueue, task))
        return {"quantumTaskArn": task.arn}

    def get_quantum_task(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            task = self._task(region, params["quantumTaskArn"])
            with_queue = "QueueInfo" in (params.get("additionalAttributeNames") or [])
            return responses.quantum_task(task, self._tasks.values() if with_queue else None)

    def cancel_quantum_task(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            task = self._task(region, params["quantumTaskArn"])
            answer = {"quantumTaskArn": task.arn, "cancellationStatus": task.status}
            if task.status in (CANCELLING, CANCELLED):
                return answer
            if task.finished:
                raise ConflictException(f"Quantum task {task.arn} is {task.status} and can no longer be cancelled")
            before = task.status
            self._change(task, CANCELLING)
            if before in (CREATED, QUEUED):
                self._scheduler.call_later(CANCEL_DELAY, partial(self._cancelled, task))
        if before == RUNNING:  # its simulation is killed: the worker thread then records CANCELLED
            self.simulators.cancel(task.arn)
        return {**answer, "cancellationStatus": CANCELLING}

    def search_quantum_tasks(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        matches = task_filter(params["filters"])
        with self._lock:
            tasks = [t for t in self._tasks.values() if t.region == region and matches(t)]
            tasks.sort(key=lambda t: (t.created_at, t.arn), reverse=True)  # newest first
            chunk, token = page(tasks, lambda t: t.arn, params.get("maxResults"), params.get("nextToken"))
            response: dict[str, Any] = {"quantumTasks": [responses.summary(t) for t in chunk]}
        if token:
            response["nextToken"] = token
        return response

    def get_device(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        device = self.devices.get(params["deviceArn"])
        if device is None:
            raise ResourceNotFoundException(f"Braket device {params['deviceArn']} not found in {region}")
        with self._lock:
            queued = [
                t
                for t in self._tasks.values()
                if t.status == QUEUED and t.device_arn == device.arn and t.region == region
            ]
        priority = sum(responses.priority(t) == "Priority" for t in queued)
        return device.describe(len(queued) - priority, priority, self.queued_jobs(region, device.arn))

    def search_devices(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        devices = sorted(self.devices.values(), key=lambda d: d.arn)
        for f in params["filters"]:
            if f["name"] != "deviceArn":
                raise ValidationException(f"Invalid filter name '{f['name']}': only deviceArn is supported")
            devices = [d for d in devices if d.arn in f["values"]]
        chunk, token = page(devices, lambda d: d.arn, params.get("maxResults"), params.get("nextToken"))
        response: dict[str, Any] = {"devices": [d.summary() for d in chunk]}
        if token:
            response["nextToken"] = token
        return response

    # --- tags: TagResource, UntagResource, ListTagsForResource (a quantum task's, in its Region) ---

    def tag_resource(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            task = self._task(region, params["resourceArn"])
            tags = {**task.tags, **dict(params["tags"])}
            rules.check_tags(tags)
            task.tags = tags
        return {}

    def untag_resource(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            task = self._task(region, params["resourceArn"])
            task.tags = {k: v for k, v in task.tags.items() if k not in set(params["tagKeys"])}
        return {}

    def list_tags_for_resource(self, region: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {"tags": dict(self._task(region, params["resourceArn"]).tags)}

    # --- lifecycle ---

    def _change(
        self,
        task: Task,
        status: str,
        *,
        at: datetime | None = None,
        reason: str | None = None,
        ended_at: datetime | None = None,
    ) -> None:
        """Record a status change and publish its event (callers hold the lock, so events leave in order)."""
        moment = at or now()
        task.status = status
        if status in FINISHED:
            task.ended_at = ended_at or moment
            task.failure_reason = reason
        log.info("%s %s%s", task.arn, status, f" ({reason})" if reason else "")
        self._publisher.publish(task, status, moment)

    def _enqueue(self, task: Task) -> None:
        with self._lock:
            if task.status == CREATED:
                self._change(task, QUEUED)
                self._scheduler.call_later(self.queue_delay, partial(self._ready.put, task.arn))

    def _cancelled(self, task: Task) -> None:
        with self._lock:
            if task.status == CANCELLING:
                self._change(task, CANCELLED)

    def _work(self) -> None:
        while (arn := self._ready.get()) is not None:
            self._run(self._tasks[arn])

    def _run(self, task: Task) -> None:
        with self._lock:
            if task.status != QUEUED:
                return
            if self._faults.fails_task():
                self._change(task, FAILED, reason=FAULT_FAILURE)
                return
            self._change(task, RUNNING)
        try:
            document = self.simulators.run(task.arn, self._job(task))
            ended = datetime.fromisoformat(document["taskMetadata"]["endedAt"])
            with self._lock:
                if task.status == CANCELLING:
                    self._change(task, CANCELLED)
                    return
            self._clients.client("s3", task.region).put_object(
                Bucket=task.output_bucket,
                Key=f"{task.output_directory}/results.json",
                Body=json.dumps(document).encode(),
                ContentType="application/json",
            )
        except (BotoCoreError, ClientError) as exc:
            self._finish(task, FAILED, reason=f"Failed to write results to s3://{task.output_bucket}: {exc}")
        except SimulationCrashed as crash:
            if not self._stopping.is_set():
                log.warning("%s: %s", task.arn, crash.reason)
                self._finish(task, FAILED, reason=crash.reason)
        except SimulationFailed as failure:
            self._finish(task, FAILED, reason=failure.reason)
        else:
            self._finish(task, COMPLETED, ended_at=ended)

    def _job(self, task: Task) -> dict[str, Any]:
        """What a simulator worker needs (local/braket/results.py)."""
        return {
            "taskArn": task.arn,
            "deviceArn": task.device_arn,
            "simulator": self.devices[task.device_arn].simulator,
            "shots": task.shots,
            "program": task.program,
            "createdAt": iso_ms(task.created_at),
            "deviceParameters": task.device_parameters,
        }

    def _finish(self, task: Task, status: str, *, reason: str | None = None, ended_at: datetime | None = None) -> None:
        with self._lock:
            if task.status == CANCELLING:
                status, reason, ended_at = CANCELLED, None, None
            self._change(task, status, reason=reason, ended_at=ended_at)

    # --- helpers ---

    def _task(self, region: str, arn: str) -> Task:
        task = self._tasks.get(arn)
        if task is None or task.region != region:
            raise ResourceNotFoundException(f"Quantum task {arn} not found")
        return task

    def _require_bucket(self, region: str, bucket: str) -> None:
        """Braket's results bucket rules (local/braket/rules.py): the name prefix, existence, the Region."""
        rules.check_bucket_name(bucket)
        s3 = self._clients.client("s3", region)
        try:
            s3.head_bucket(Bucket=bucket)
            location = s3.get_bucket_location(Bucket=bucket)
        except BotoCoreError as exc:
            raise InternalServiceException(f"S3 is unreachable at {self._clients.endpoint_url}: {exc}") from exc
        except ClientError as exc:
            raise ValidationException(
                f"Caller doesn't have access to s3://{bucket} or it doesn't exist "
                f"({exc.response.get('Error', {}).get('Code', 'error')})"
            ) from exc
        rules.check_bucket_region(bucket, rules.bucket_region(location), region)
