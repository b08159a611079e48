"""One job's run, on a thread of its own: the workspace, the job's process (container.py), its log, its end.

The process gets the environment Braket gives a job's container (the SDK reads it: braket/jobs/
environment_variables.py, braket/aws/aws_session.py, aws_device.py), pointed at local mode: boto3 and the
SDK reach moto and the local Braket service, signed with the job role's own credentials (access key id =
the role's name), so the service's request counts tell the job's calls apart from the researcher's.
AMZN_BRAKET_JOB_TOKEN is the job's ARN: the SDK puts it into each CreateQuantumTask, and the service links
those tasks to the job and queues them in its priority queue.

The stopping condition is enforced from the moment the process starts; cancelling or running out of time
sends SIGTERM to the process group, then SIGKILL after a grace period (SageMaker also asks first).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from local.braket.aws import AwsClients
from local.braket.jobs.logs import JobLog
from local.braket.jobs.models import Job
from local.braket.jobs.workspace import JobStorage, StorageError, Workspace, parse_s3_uri
from local.braket.models import CANCELLED, COMPLETED, FAILED, now
from local.braket.scheduler import Scheduler

log = logging.getLogger(__name__)

CONTAINER = Path(__file__).resolve().with_name("container.py")
STOP_GRACE_SECONDS = 2.0
MAX_REASON = 1024  # GetJobResponse.failureReason: String1024
CANCEL, TIMEOUT, SHUTDOWN = "cancel", "timeout", "shutdown"


@dataclass(frozen=True)
class Outcome:
    status: str  # COMPLETED, FAILED or CANCELLED
    ended_at: datetime
    reason: str | None = None
    timed_out: bool = False


@dataclass(frozen=True)
class Endpoints:
    """Where the job's own AWS calls go: moto for every service, the local service for Braket."""

    aws: str
    braket: str


def failure_reason(text: str, exit_code: int) -> str:
    """Braket's format, e.g. "AlgorithmError: FileNotFoundError: [Errno 2] ..., exit code: 1" (the SDK's
    integration test test_failed_quantum_job), cut to the model's 1024 characters."""
    tail = f", exit code: {exit_code}"
    room = MAX_REASON - len("AlgorithmError: ") - len(tail)
    body = text if len(text) <= room else text[: room - 3] + "..."
    return f"AlgorithmError: {body}{tail}"


def job_environment(job: Job, workspace: Workspace, endpoints: Endpoints) -> dict[str, str]:
    """The process's environment: this one's without any AWS or Braket setting, and the job's."""
    bucket, _ = parse_s3_uri(job.request["outputDataConfig"]["s3Path"])
    script = job.request["algorithmSpecification"]["scriptModeConfig"]
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AMZN_BRAKET_", "BRAKET_"))}
    env = {
        **inherited,
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
        "AWS_REGION": job.region,
        "AWS_DEFAULT_REGION": job.region,
        "AWS_ACCESS_KEY_ID": job.role_name,
        "AWS_SECRET_ACCESS_KEY": f"local-{job.role_name}",
        "AWS_ENDPOINT_URL": endpoints.aws,
        "AWS_ENDPOINT_URL_BRAKET": endpoints.braket,
        "BRAKET_ENDPOINT": endpoints.braket,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AMZN_BRAKET_JOB_NAME": job.name,
        "AMZN_BRAKET_DEVICE_ARN": job.device,
        "AMZN_BRAKET_JOB_RESULTS_DIR": str(workspace.model),
        "AMZN_BRAKET_CHECKPOINT_DIR": str(workspace.checkpoints),
        "AMZN_BRAKET_OUT_S3_BUCKET": bucket,
        "AMZN_BRAKET_TASK_RESULTS_S3_URI": f"s3://{bucket}/jobs/{job.name}/tasks",
        "AMZN_BRAKET_JOB_TOKEN": job.arn,
        "AMZN_BRAKET_SCRIPT_S3_URI": script["s3Uri"],
        "AMZN_BRAKET_SCRIPT_ENTRY_POINT": script["entryPoint"],
    }
    if script.get("compressionType"):
        env["AMZN_BRAKET_SCRIPT_COMPRESSION_TYPE"] = script["compressionType"]
    if job.request.get("hyperParameters"):
        env["AMZN_BRAKET_HP_FILE"] = str(workspace.hyperparameters_file)
    if job.request.get("inputDataConfig"):
        env["AMZN_BRAKET_INPUT_DIR"] = str(workspace.input_data)
    return env


class JobRun:
    """start() once; stop(cause) from any thread; `record` and `finish` are called back from the run's thread."""

    def __init__(
        self,
        job: Job,
        clients: AwsClients,
        endpoints: Endpoints,
        scheduler: Scheduler,
        *,
        record: Callable[[Job, str, str], None],
        finish: Callable[[Job, Outcome], None],
    ) -> None:
        self.job = job
        self._clients = clients
        self._endpoints = endpoints
        self._scheduler = scheduler
        self._record = record
        self._finish = finish
        self._lock = threading.Lock()
        self._cause: str | None = None
        self._process: subprocess.Popen[str] | None = None
        self._thread = threading.Thread(target=self._run, name=f"local-braket-job-{job.job_id[:8]}", daemon=True)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        if self._thread.is_alive():
            self._thread.join()

    def stop(self, cause: str) -> None:
        """Ask the process group to stop (SIGTERM), and kill it after the grace period."""
        with self._lock:
            process = self._process
            if process is not None and process.poll() is not None:
                return  # it has ended already: the end stands
            if self._cause is None:
                self._cause = cause
        if process is not None:
            self._signal(process, signal.SIGTERM)
            self._scheduler.call_later(STOP_GRACE_SECONDS, partial(self._signal, process, signal.SIGKILL))

    @staticmethod
    def _signal(process: subprocess.Popen[str], signum: int) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)

    def _run(self) -> None:
        workspace: Workspace | None = None
        try:
            workspace = Workspace.create(self.job)
            storage = JobStorage(self._clients.client("s3", self.job.region), self.job, workspace)
            outcome = self._execute(workspace, storage)
        except Exception as exc:  # whatever goes wrong here, the job still ends, with the reason
            log.exception("job %s: the run failed", self.job.arn)
            outcome = Outcome(FAILED, now(), f"InternalServiceError: local mode could not run the job: {exc}")
        finally:
            if workspace is not None:
                workspace.remove()
        self._finish(self.job, outcome)

    def _execute(self, workspace: Workspace, storage: JobStorage) -> Outcome:
        self._record(self.job, "DOWNLOADING_DATA", "Downloading input data and checkpoints.")
        try:
            if hyperparameters := self.job.request.get("hyperParameters"):
                workspace.write_hyperparameters(dict(hyperparameters))
            storage.download_input()
            storage.download_checkpoints()
        except StorageError as exc:
            return Outcome(FAILED, now(), str(exc))
        job_log = JobLog(
            self._clients.client("logs", self.job.region),
            f"{self.job.name}/{self.job.job_id}/algo-1-{int(now().timestamp())}",
        )
        job_log.open()
        try:
            exit_code = self._launch_and_wait(workspace, job_log)
        finally:
            job_log.close()
        outcome = self._outcome(exit_code, workspace)
        if outcome.status == COMPLETED:
            self._record(self.job, "UPLOADING_RESULTS", "Uploading the results folder as model.tar.gz.")
        try:
            if outcome.status == COMPLETED:
                storage.upload_results()
            storage.upload_checkpoints()
        except StorageError as exc:
            return Outcome(FAILED, now(), str(exc)) if outcome.status == COMPLETED else outcome
        return outcome

    def _launch_and_wait(self, workspace: Workspace, job_log: JobLog) -> int | None:
        """The process's exit code, or None when the job was stopped before it started."""
        with self._lock:
            if self._cause is not None:
                return None
            self._process = process = subprocess.Popen(
                [sys.executable, "-P", str(CONTAINER), str(workspace.root)],
                cwd=workspace.extracted,
                env=job_environment(self.job, workspace, self._endpoints),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,  # its own process group: a stop reaches whatever the script started
            )
        self._record(self.job, "RUNNING", f"The job's process started (pid {process.pid}).")
        self._scheduler.call_later(self.job.max_runtime, partial(self.stop, TIMEOUT))
        assert process.stdout is not None
        for line in process.stdout:
            job_log.write(line)
        return process.wait()

    def _outcome(self, exit_code: int | None, workspace: Workspace) -> Outcome:
        ended = now()
        with self._lock:
            cause = self._cause
        if cause == CANCEL:
            return Outcome(CANCELLED, ended)
        if cause == TIMEOUT:
            reason = (
                f"MaxRuntimeExceeded: the job ran longer than its stopping condition allows "
                f"(maxRuntimeInSeconds {self.job.max_runtime}) and was stopped"
            )
            return Outcome(FAILED, ended, reason, timed_out=True)
        if cause == SHUTDOWN or exit_code is None:
            return Outcome(FAILED, ended, "InternalServiceError: the local Braket service stopped while the job ran")
        text = workspace.failure_text()
        if exit_code == 0 and not text:
            return Outcome(COMPLETED, ended)
        if exit_code < 0:
            code, text = 128 - exit_code, text or f"the job's process was killed by {signal.Signals(-exit_code).name}"
        else:
            code, text = exit_code, text or "the job's process exited with an error and no failure message"
        return Outcome(FAILED, ended, failure_reason(text, code))
