"""LocalRunner: runs the real handlers of a stack deployed into moto, driven by its synthesized template."""

from __future__ import annotations

import atexit
import logging
import signal
import tempfile
import threading
import zipfile
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from botocore.exceptions import ClientError

from local.faults import FaultPlan
from local.runner.apigateway import ApiEndpoint, RestApi
from local.runner.deployed import Credentials, DeployedStack
from local.runner.environment import lambda_environment
from local.runner.functions import FunctionConfig, Invocation, LocalFunction
from local.runner.logs import RunnerLogs
from local.runner.rest_api_spec import rest_apis
from local.runner.schedules import ScheduledRule, Scheduler
from local.runner.sigv4 import SigV4Verifier
from local.runner.sqs import QueueSource, SqsPoller
from local.runner.streams import StreamObserver, StreamPoller, StreamSource
from local.runner.template import FunctionSpec, MappingSpec, StackTemplate, ref_target
from local.runner.websocket import WebSocketApi
from local.runner.websocket_spec import local_variables, websocket_apis

logger = logging.getLogger("local.runner")


def function_credentials(function_name: str) -> Credentials:
    """A function's own local credentials: its access key id is its name, as each function in AWS signs with its
    role's credentials. The local Braket service counts requests by access key id, so the tracker's own calls
    are told apart from a researcher's."""
    return Credentials(access_key=function_name, secret_key=f"local-{function_name}")


class LocalRunner:
    """Every AWS::Lambda::Function of the template runs its real handler in worker processes of its own,
    fed by the template's SQS and DynamoDB stream event source mappings, scheduled rules and REST APIs.

    - `template`: the ORIGINAL synthesized template (with its event source mappings); `cdk_out`: the
      directory holding it and its assets; `stack_name`: the stack as deployed in moto.
    - `aws_endpoint`: moto; `braket_endpoint`: given to functions as AWS_ENDPOINT_URL_BRAKET.
    - `faults`: `redeliver_message` leaves processed SQS messages for SQS to redeliver.
    - `credentials`: (key, secret) or (key, secret, token): the runner's credentials, which the APIs accept.
      Each function signs with credentials of its own (`function_credentials`: its name as access key id),
      which the APIs accept too.
    - `retry_visibility_seconds`: how soon a failed SQS message comes back (see `SqsPoller`); the one
      place the runner shortens AWS timing. None keeps the queue's visibility timeout.
    - `log_file` / `verbose`: where the runner's and the functions' log lines go (quiet by default).
    - `ports`: the port of each REST or WebSocket API, by logical id (local mode fixes them before deploying,
      so that the stack's URL outputs can name them); any free port otherwise.
    """

    def __init__(
        self,
        template: dict[str, Any],
        cdk_out: Path,
        stack_name: str,
        aws_endpoint: str,
        region: str,
        *,
        braket_endpoint: str | None = None,
        faults: FaultPlan | None = None,
        credentials: tuple[str, ...] | Credentials = ("testing", "testing"),
        retry_visibility_seconds: int | None = 2,
        log_file: Path | None = None,
        verbose: bool = False,
        ports: dict[str, int] | None = None,
    ) -> None:
        self.template = StackTemplate(template, Path(cdk_out))
        self.stack_name = stack_name
        self.aws_endpoint = aws_endpoint
        self.region = region
        self.braket_endpoint = braket_endpoint
        self.faults = faults or FaultPlan()
        self.credentials = Credentials.of(credentials)
        self.function_credentials: dict[str, Credentials] = {}  # by logical id: each function signs as itself
        self.retry_visibility_seconds = retry_visibility_seconds
        self.ports = dict(ports or {})  # API logical id -> the port to serve it on (0 or absent: any free port)
        self.functions: dict[str, LocalFunction] = {}
        self._logs = RunnerLogs(log_file, verbose)
        self._pollers: list[SqsPoller | StreamPoller] = []
        self._apis: list[RestApi] = []
        self._websocket_apis: list[WebSocketApi] = []
        self._scheduler: Scheduler | None = None
        self._temporary: list[tempfile.TemporaryDirectory[str]] = []
        self._stopped = threading.Event()
        self._started = False

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> LocalRunner:
        self._logs.attach()
        self._started = True
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        stack = DeployedStack(self.stack_name, self.aws_endpoint, self.region, self.credentials)
        self.function_credentials = {
            spec.logical_id: function_credentials(name)
            for spec in self.template.functions()
            if (name := stack.physical.get(spec.logical_id))
        }
        self._websocket_apis = self._websockets(stack)  # before the functions: their variables name its URL
        for spec in self.template.functions():
            function = self._function(spec, stack)
            if function is not None:
                self.functions[spec.logical_id] = function
        clients = {name: stack.client(name) for name in ("sqs", "sns")}
        for mapping in self.template.mappings():
            poller = self._poller(mapping, stack, clients)
            if poller is not None:
                self._pollers.append(poller)
        self._scheduler = Scheduler(
            [
                ScheduledRule(
                    spec, f"arn:{stack.partition}:events:{self.region}:{stack.account}:rule/{name}", self.functions
                )
                for spec in self.template.schedules()
                if (name := stack.physical.get(spec.logical_id))
                and all(t.function_id in self.functions for t in spec.targets)
            ],
            stack.account,
            self.region,
        )
        apis = rest_apis(self.template)
        if apis:
            identity = stack.caller_identity()
            verifier = self._verifier()
            for api in apis:
                api_id = stack.physical.get(api.logical_id, api.logical_id)
                self._apis.append(
                    RestApi(
                        api,
                        api_id=api_id,
                        functions=self.functions,
                        verifier=verifier,
                        identity=identity,
                        account=stack.account,
                        port=self.ports.get(api.logical_id, 0),
                    )
                )
        for poller in self._pollers:
            poller.start()
        self._scheduler.start()
        for rest_api in self._apis:
            rest_api.start()
        for websocket_api in self._websocket_apis:
            websocket_api.start()
        logger.info(
            "Local runner: %d function(s), %d mapping(s), %d API(s), %d WebSocket API(s)",
            len(self.functions),
            len(self._pollers),
            len(apis),
            len(self._websocket_apis),
        )

    def stop(self) -> None:
        """Stop polling and serving, kill every worker, wait for the threads. Idempotent."""
        if not self._started or self._stopped.is_set():
            return
        self._stopped.set()
        atexit.unregister(self.stop)
        for poller in self._pollers:
            poller.stop()
        if self._scheduler is not None:
            self._scheduler.stop()
        for api in self._apis:
            api.stop()
        for websocket_api in self._websocket_apis:
            websocket_api.stop()
        for function in self.functions.values():
            function.stop()
        for poller in self._pollers:
            poller.join()
        if self._scheduler is not None:
            self._scheduler.join()
        for directory in self._temporary:
            directory.cleanup()
        self._logs.detach()

    def wait(self) -> None:
        """Block until stop(), SIGTERM or Ctrl-C, then stop (signals are handled only on the main thread)."""
        signalled = threading.Event()
        previous = None
        if threading.current_thread() is threading.main_thread():

            def on_sigterm(signum: int, frame: FrameType | None) -> None:
                signalled.set()

            previous = signal.signal(signal.SIGTERM, on_sigterm)
        try:
            while not (signalled.is_set() or self._stopped.is_set()):
                signalled.wait(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def __enter__(self) -> LocalRunner:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- what it serves ----------------------------------------------------------------------------

    @property
    def endpoints(self) -> dict[str, ApiEndpoint]:
        """Each REST API by logical id (its first stage); `ApiEndpoint.url` is http://127.0.0.1:PORT/STAGE/."""
        found: dict[str, ApiEndpoint] = {}
        for api in self._apis:
            for endpoint in api.endpoints:
                found.setdefault(endpoint.logical_id, endpoint)
        return found

    def api_endpoints(self) -> list[ApiEndpoint]:
        """Every stage of every REST API."""
        return [endpoint for api in self._apis for endpoint in api.endpoints]

    def invoke(self, function_id: str, event: Any) -> Invocation:
        """Invoke a function synchronously, as `lambda invoke` would."""
        return self.functions[function_id].invoke(event)

    def trigger_schedule(self, rule_id: str) -> list[Invocation]:
        """Fire a scheduled rule now (its targets get the "Scheduled Event" payload) and wait for them."""
        if self._scheduler is None:
            raise RuntimeError("the runner is not started")
        return self._scheduler.trigger(rule_id)

    def worker_pids(self) -> list[int]:
        return sorted(pid for function in self.functions.values() for pid in function.worker_pids())

    def observe_streams(self, observer: StreamObserver | None) -> None:
        """Tell `observer` of every stream read that returned records (benchmarks time the stream hop)."""
        for poller in self._pollers:
            if isinstance(poller, StreamPoller):
                poller.observer = observer

    # -- building ----------------------------------------------------------------------------------

    def _verifier(self) -> SigV4Verifier:
        """AWS_IAM as the APIs check it here: the runner's credentials, or a function's own."""
        return SigV4Verifier([self.credentials, *self.function_credentials.values()], self.region)

    def _function(self, spec: FunctionSpec, stack: DeployedStack) -> LocalFunction | None:
        name = stack.physical.get(spec.logical_id)
        if name is None:
            logger.warning("Function %s is not in the deployed stack: not run", spec.logical_id)
            return None
        if not spec.runtime.startswith("python"):
            logger.warning("Function %s: runtime %s cannot run locally", spec.logical_id, spec.runtime)
            return None
        code = spec.code
        if code is not None and code.is_file() and code.suffix == ".zip":
            directory = tempfile.TemporaryDirectory(prefix=f"{spec.logical_id}-")
            self._temporary.append(directory)
            with zipfile.ZipFile(code) as archive:
                archive.extractall(directory.name)
            code = Path(directory.name)
        if code is None or not code.is_dir():
            logger.warning(
                "Function %s: no asset directory found in %s: not run", spec.logical_id, self.template.cdk_out
            )
            return None
        try:
            variables = stack.function_environment(name)
        except ClientError as error:
            logger.warning("Function %s: moto has no configuration for it (%s): not run", spec.logical_id, error)
            return None
        template_variables = (self.template.resources[spec.logical_id]["Properties"].get("Environment") or {}).get(
            "Variables"
        ) or {}
        variables = local_variables(variables, template_variables, self._websocket_apis)
        log_group = stack.physical.get(ref_target(spec.log_group) or "") or f"/aws/lambda/{name}"
        environment = lambda_environment(
            variables=variables,
            function_name=name,
            memory_size=spec.memory_size,
            code=code.resolve(),
            handler=spec.handler,
            runtime=spec.runtime,
            log_group=log_group,
            region=self.region,
            credentials=self.function_credentials.get(spec.logical_id, self.credentials),
            aws_endpoint=self.aws_endpoint,
            braket_endpoint=self.braket_endpoint,
        )
        config = FunctionConfig(
            logical_id=spec.logical_id,
            name=name,
            arn=stack.function_arn(name),
            handler=spec.handler,
            code=code.resolve(),
            timeout=spec.timeout,
            memory_size=spec.memory_size,
            environment=environment,
        )
        return LocalFunction(config)

    def _poller(
        self, spec: MappingSpec, stack: DeployedStack, clients: dict[str, Any]
    ) -> SqsPoller | StreamPoller | None:
        function = self.functions.get(spec.function_id)
        if function is None or not spec.enabled:
            logger.warning("Event source mapping %s: disabled or its function is not run", spec.logical_id)
            return None
        if spec.kind == "sqs":
            url = stack.queue_url(spec.source)
            source = QueueSource(url=url, arn=stack.queue_arn(url), region=self.region)
            return SqsPoller(
                spec,
                function,
                source=source,
                sqs=clients["sqs"],
                faults=self.faults,
                retry_visibility_seconds=self.retry_visibility_seconds,
            )
        destination = stack.destination(spec.on_failure) if spec.on_failure else None
        stream = StreamSource(arn=stack.stream_arn(spec.source), region=self.region)
        return StreamPoller(
            spec,
            function,
            source=stream,
            streams=stack.client("dynamodbstreams"),
            destination=destination,
            clients=clients,
        )

    # -- WebSocket APIs ----------------------------------------------------------------------------

    def _websockets(self, stack: DeployedStack) -> list[WebSocketApi]:
        specs = websocket_apis(self.template)
        if not specs:
            return []
        identity = stack.caller_identity()
        verifier = self._verifier()
        return [
            WebSocketApi(
                spec,
                api_id=stack.physical.get(spec.logical_id, spec.logical_id.lower()[:10]),
                functions=self.functions,
                verifier=verifier,
                identity=identity,
                account=stack.account,
                port=self.ports.get(spec.logical_id, 0),
            )
            for spec in specs
        ]

    @property
    def websocket_endpoints(self) -> dict[str, ApiEndpoint]:
        """Each WebSocket API by logical id (its first stage): `url` is ws://127.0.0.1:PORT/STAGE."""
        found: dict[str, ApiEndpoint] = {}
        for api in self._websocket_apis:
            for stage in api.spec.stages:
                endpoint = ApiEndpoint(api.spec.logical_id, api.api_id, stage, api.url(stage))
                found.setdefault(api.spec.logical_id, endpoint)
        return found

    def websocket_api(self, logical_id: str) -> WebSocketApi:
        return next(api for api in self._websocket_apis if api.spec.logical_id == logical_id)
