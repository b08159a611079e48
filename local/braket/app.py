"""LocalBraket: the local Amazon Braket service, wired and run on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from local.braket.aws import AwsClients
from local.braket.events import EventPublisher
from local.braket.jobs.service import JobService
from local.braket.scheduler import Scheduler
from local.braket.server import BraketHTTPServer
from local.braket.service import BraketService
from local.faults import FaultPlan

log = logging.getLogger(__name__)

DEFAULT_ACCOUNT = "123456789012"  # moto's default account


class LocalBraket:
    """Braket's REST-JSON API for boto3 clients (AWS_ENDPOINT_URL_BRAKET), with S3, EventBridge, IAM and
    CloudWatch Logs from moto: quantum tasks (service.py) and hybrid jobs (jobs/service.py).

    >>> braket = LocalBraket("http://127.0.0.1:5000")
    >>> url = braket.start()  # boto3.client("braket", endpoint_url=url)
    >>> braket.stop()
    """

    def __init__(
        self,
        aws_endpoint_url: str,
        *,
        account: str = DEFAULT_ACCOUNT,
        queue_delay: float = 0.5,
        faults: FaultPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        workers: int = 2,
    ) -> None:
        self.faults = faults or FaultPlan()
        self._clients = AwsClients(aws_endpoint_url)
        self._scheduler = Scheduler()
        self._publisher = EventPublisher(self._clients, self._scheduler, self.faults)
        self.service = BraketService(
            self._clients,
            self._publisher,
            self._scheduler,
            self.faults,
            account=account,
            queue_delay=queue_delay,
            workers=workers,
        )
        self.jobs = JobService(
            self._clients,
            self._publisher,
            self._scheduler,
            account=account,
            devices=lambda: frozenset(self.service.devices),
            queue_delay=queue_delay,
        )
        self.service.queued_jobs = self.jobs.queued_for
        self._address = (host, port)
        self._server: BraketHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("LocalBraket is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def events_in_flight(self) -> int:
        """Status-change events not yet on EventBridge (queued to send, or held back in fault mode)."""
        return self._publisher.pending

    def request_counts(self) -> dict[str, int]:
        """The requests answered so far, by operation (CreateQuantumTask, GetQuantumTask, ...)."""
        return {} if self._server is None else self._server.request_counts()

    def start(self) -> str:
        if self._server is not None:
            return self.url
        service = self.service
        self._server = BraketHTTPServer(
            self._address,
            {
                "CreateQuantumTask": service.create_quantum_task,
                "GetQuantumTask": service.get_quantum_task,
                "CancelQuantumTask": service.cancel_quantum_task,
                "SearchQuantumTasks": service.search_quantum_tasks,
                "GetDevice": service.get_device,
                "SearchDevices": service.search_devices,
                "TagResource": service.tag_resource,
                "UntagResource": service.untag_resource,
                "ListTagsForResource": service.list_tags_for_resource,
                "CreateJob": self.jobs.create_job,
                "GetJob": self.jobs.get_job,
                "CancelJob": self.jobs.cancel_job,
                "SearchJobs": self.jobs.search_jobs,
            },
        )
        self._scheduler.start()
        self._publisher.start()
        service.start()
        self.jobs.start(self.url)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="local-braket-http", daemon=True
        )
        self._thread.start()
        log.info("local Braket listening on %s (faults: %s)", self.url, self.faults if self.faults.active else "none")
        return self.url

    def stop(self) -> None:
        """Stop serving and join every thread: HTTP, workers (running simulations finish), timer, event sender."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
        self.jobs.stop()
        self.service.stop()
        self._scheduler.stop()
        self._publisher.stop()
        log.info("local Braket stopped")

    def __enter__(self) -> LocalBraket:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
