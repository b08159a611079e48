"""Local AWS: moto server on 127.0.0.1, and the synthesized stack deployed into it as `cdk deploy` would."""

from __future__ import annotations

import functools
import io
import json
import logging
import threading
import time
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from local.template import Template, for_local

ACCOUNT = "123456789012"  # moto's account
CREDENTIALS = ("testing", "testing")
BOOTSTRAP_QUALIFIER = "hnb659fds"
BOOTSTRAP_VERSION = "30"


@dataclass
class LocalAws:
    """boto3 clients for moto at `url`, with local mode's credentials."""

    url: str

    def client(self, service: str, region: str) -> Any:
        make_client: Any = boto3.client  # any service name, so not one of the stubs' overloads
        return make_client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id=CREDENTIALS[0],
            aws_secret_access_key=CREDENTIALS[1],
        )


class AtomicDynamoDB:
    """WSGI middleware: moto's DynamoDB answers one request at a time, so each write is atomic, as in DynamoDB.

    moto checks a ConditionExpression and then writes the item, without a lock: two concurrent conditional
    writes to one item can both pass their checks, and the second overwrites the first (a lost update that
    DynamoDB never allows). The recorder's optimistic writes (`eventCount = :expected`) lost a task's
    COMPLETED that way under load. DynamoDB Streams and every other service stay concurrent.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB_20120810."):
            return self.app(environ, start_response)
        with self._lock:
            return list(self.app(environ, start_response))


def _cache_jsonpath_parsing() -> None:
    """moto's EventBridge parses the same eight JSONPath expressions anew for every event it delivers
    (its default input template), about half of a PutEvents' CPU: parse each once. Compiled expressions
    are immutable, so the events delivered are the same."""
    import jsonpath_ng.ext  # noqa: PLC0415 (moto's dependency, imported where moto runs)

    parse = getattr(jsonpath_ng.ext, "parse")  # noqa: B009 (not in the module's declared exports)
    if not hasattr(parse, "cache_info"):
        setattr(jsonpath_ng.ext, "parse", functools.lru_cache(maxsize=1024)(parse))  # noqa: B010


def _sqs_in_time_per_message() -> None:
    """moto's SQS work per message grows with the queue: every message it hands out recomputes every
    queue attribute (counting the queue with two clock reads per message) to check the retention
    period, and deleting one message scans the queue twice. With 3,000 messages queued, receiving and
    deleting ten cost about 2 s of CPU: a backlog slowed its own draining (bench/results/burst.md).
    The same rules, with one clock read per count and one scan up to the message deleted."""
    from moto.core.utils import unix_time_millis  # noqa: PLC0415
    from moto.sqs.exceptions import ReceiptHandleIsInvalid  # noqa: PLC0415
    from moto.sqs.models import Message, Queue, SQSBackend  # noqa: PLC0415

    def visible(queue: Queue) -> list[Message]:
        now = unix_time_millis()
        return [m for m in queue._messages if now > m.visible_at and now >= m.delayed_until]

    def not_visible(queue: Queue) -> int:
        now = unix_time_millis()
        return sum(1 for m in queue._messages if now <= m.visible_at)

    def delayed(queue: Queue) -> int:
        now = unix_time_millis()
        return sum(1 for m in queue._messages if now < m.delayed_until)

    def delete_message(self: Queue, receipt_handle: str) -> None:
        if receipt_handle in self.deleted_messages:
            return  # deleted before: SQS accepts it again
        position = next(
            (i for i, m in enumerate(self._messages) if receipt_handle in (m.receipt_handle, *m._old_receipt_handles)),
            None,
        )
        if position is None:
            raise ReceiptHandleIsInvalid()
        message = self._messages.pop(position)
        self.pending_messages.discard(message)
        self.deleted_messages.update(handle for handle in message.all_receipt_handles if handle)

    def retained(self: SQSBackend, queue_name: str, message: Message) -> bool:
        period = int(getattr(self.get_queue(queue_name), "message_retention_period"))  # noqa: B009
        return bool(period + (message.sent_timestamp or 0) / 1000 > unix_time_millis() / 1000)

    setattr(Queue, "messages", property(visible))  # noqa: B010
    setattr(Queue, "approximate_number_of_messages_not_visible", property(not_visible))  # noqa: B010
    setattr(Queue, "approximate_number_of_messages_delayed", property(delayed))  # noqa: B010
    setattr(Queue, "delete_message", delete_message)  # noqa: B010
    setattr(SQSBackend, "is_message_valid_based_on_retention_period", retained)  # noqa: B010


class NoJobImages:
    """WSGI middleware: ECR's BatchGetImage of a Braket job image answers why local mode cannot help.

    The SDK's @hybrid_job decorator reads the Braket job image's tags from ECR (AwsSession.get_full_image_tag,
    braket/jobs/hybrid_job.py _validate_python_version) before it creates a job. Local mode runs jobs without
    container images, so it refuses that read with a reason the researcher can act on, instead of moto's
    "repository does not exist".
    """

    TARGET = "AmazonEC2ContainerRegistry_V20150921.BatchGetImage"
    MESSAGE = (
        "Local mode has no container images: the Braket job image '{repository}' is not in its ECR, so the "
        "@hybrid_job decorator (which reads it) does not work in local mode. Create the job with "
        "AwsQuantumJob.create(device, source_module, entry_point=...), which runs in local mode."
    )

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET") != self.TARGET:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            repository = str(json.loads(body or b"{}").get("repositoryName", ""))
        except (ValueError, AttributeError):
            repository = ""
        if not repository.startswith("amazon-braket-"):
            environ["wsgi.input"] = io.BytesIO(body)
            return self.app(environ, start_response)
        answer = json.dumps(
            {"__type": "RepositoryNotFoundException", "message": self.MESSAGE.format(repository=repository)}
        ).encode()
        start_response(
            "400 Bad Request",
            [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(answer)))],
        )
        return [answer]


def _numbers_as_dynamodb_stores_them() -> None:
    """DynamoDB stores a number normalized (0.00375 - 0.00375 is 0); moto keeps Decimal's text ("0E-8"),
    and its next ADD reads a number without a "." with int(): ValueError, a cancelled transaction. Sums
    and differences are computed in Decimal and kept as DynamoDB would: no exponent, no trailing zeros."""
    from decimal import Decimal  # noqa: PLC0415

    from moto.dynamodb.models.dynamo_type import DDBType, DynamoType  # noqa: PLC0415

    def number(value: Decimal) -> DynamoType:
        return DynamoType({DDBType.NUMBER: format(value.normalize(), "f") if value else "0"})

    if getattr(DynamoType, "_numbers_normalized", False):
        return
    add, sub = DynamoType.__add__, DynamoType.__sub__

    def plus(self: DynamoType, other: DynamoType) -> DynamoType:
        if self.type == other.type == DDBType.NUMBER:
            return number(Decimal(self.value) + Decimal(other.value))
        return add(self, other)

    def minus(self: DynamoType, other: DynamoType) -> DynamoType:
        if self.type == other.type == DDBType.NUMBER:
            return number(Decimal(self.value) - Decimal(other.value))
        return sub(self, other)

    DynamoType.__add__, DynamoType.__sub__ = plus, minus  # type: ignore[method-assign]
    DynamoType._numbers_normalized = True  # type: ignore[attr-defined]


class _LocalMotoServer(ThreadedMotoServer):
    """moto's threaded server, with DynamoDB's writes made atomic (AtomicDynamoDB), Braket's job images
    refused with a reason (NoJobImages), and two of moto's costs that grow with its state made constant
    (_cache_jsonpath_parsing, _sqs_in_time_per_message), and numbers kept as DynamoDB keeps them."""

    def _server_entry(self) -> None:
        _numbers_as_dynamodb_stores_them()
        _cache_jsonpath_parsing()
        _sqs_in_time_per_message()
        app = NoJobImages(AtomicDynamoDB(DomainDispatcherApplication(create_backend_app)))
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


@dataclass
class MotoServer(LocalAws):
    server: ThreadedMotoServer | None = None

    @classmethod
    def start(cls, host: str = "127.0.0.1", port: int = 0) -> MotoServer:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        # moto warns about each resource type it accepts without creating it: local.template lists them.
        logging.getLogger("moto").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="Tried to parse AWS::", category=UserWarning)
        server = _LocalMotoServer(ip_address=host, port=port, verbose=False)
        server.start()
        bound_host, bound_port = server.get_host_and_port()
        return cls(f"http://{bound_host}:{bound_port}", server)

    def stop(self) -> None:
        """Stop, forgetting every resource: moto's backends are shared by all servers in a process."""
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=10).close()
        if self.server is not None:
            self.server.stop()


@dataclass
class DeployedStack:
    name: str
    region: str
    template: Template
    outputs: dict[str, str]
    physical_ids: dict[str, str]


def deploy(
    moto: LocalAws,
    cdk_out: Path,
    stack_name: str,
    region: str,
    *,
    deployed_name: str | None = None,
    api_urls: dict[str, str] | None = None,
) -> DeployedStack:
    """Bootstrap (as `cdk bootstrap` would), publish the assets, and create the stack in moto.

    `stack_name` names the synthesized stack in `cdk_out`; `deployed_name` (default: the same)
    names it in moto, whose state every server of a process shares. `api_urls` (API logical id -> local
    URL) makes the outputs that hold an API's URL name where local mode serves it.
    """
    template: Template = json.loads((cdk_out / f"{stack_name}.template.json").read_text())
    _bootstrap(moto, region)
    _publish_assets(moto, cdk_out, stack_name, region)
    cloudformation = moto.client("cloudformation", region)
    stack_name = deployed_name or stack_name
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(for_local(template, api_urls)),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    stack = _wait_for_stack(cloudformation, stack_name)
    resources = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    deployed = DeployedStack(
        name=stack_name,
        region=region,
        template=template,
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        # moto lists the resource types it only accepts (policies, alarms, gateway responses) and
        # Lambda permissions without a physical id
        physical_ids={
            r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources if r.get("PhysicalResourceId")
        },
    )
    _subscribe(moto, deployed)
    return deployed


def _subscribe(moto: LocalAws, stack: DeployedStack) -> None:
    """Create the template's SNS subscriptions, which moto's CloudFormation accepts but does not create."""
    sns, sqs = moto.client("sns", stack.region), moto.client("sqs", stack.region)

    def resolve(value: Any) -> str:
        if isinstance(value, str):
            return value
        if "Ref" in value:
            return stack.physical_ids[value["Ref"]]
        logical_id, attribute = value["Fn::GetAtt"]
        if attribute != "Arn":
            raise ValueError(f"local mode cannot resolve {value} in an SNS subscription")
        url = stack.physical_ids[logical_id]
        return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

    for resource in stack.template["Resources"].values():
        if resource["Type"] != "AWS::SNS::Subscription":
            continue
        properties = resource["Properties"]
        attributes = {
            name: json.dumps(properties[name]) if isinstance(properties[name], dict) else str(properties[name]).lower()
            for name in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery")
            if name in properties
        }
        if "FilterPolicyScope" in attributes:
            attributes["FilterPolicyScope"] = properties["FilterPolicyScope"]
        sns.subscribe(
            TopicArn=resolve(properties["TopicArn"]),
            Protocol=properties["Protocol"],
            Endpoint=resolve(properties["Endpoint"]),
            Attributes=attributes,
        )


def _bootstrap(moto: LocalAws, region: str) -> None:
    moto.client("ssm", region).put_parameter(
        Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version", Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True
    )
    s3 = moto.client("s3", region)
    bucket = _assets_bucket(region)
    if bucket in {existing["Name"] for existing in s3.list_buckets()["Buckets"]}:
        return
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})


def _publish_assets(moto: LocalAws, cdk_out: Path, stack_name: str, region: str) -> None:
    manifest = json.loads((cdk_out / f"{stack_name}.assets.json").read_text())
    s3 = moto.client("s3", region)
    for asset in manifest.get("files", {}).values():
        source = cdk_out / asset["source"]["path"]
        body = _zip(source) if asset["source"].get("packaging") == "zip" else source.read_bytes()
        for destination in asset["destinations"].values():
            s3.put_object(Bucket=_assets_bucket(region), Key=destination["objectKey"], Body=body)


def _zip(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def _assets_bucket(region: str) -> str:
    return f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{ACCOUNT}-{region}"


def _wait_for_stack(cloudformation: Any, stack_name: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stack: dict[str, Any] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status == "CREATE_COMPLETE":
            return stack
        if status.endswith(("FAILED", "ROLLBACK_COMPLETE")) or time.monotonic() > deadline:
            events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
            reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events[:5]]
            raise RuntimeError(f"local stack {stack_name} is {status}: {'; '.join(reasons)}")
        time.sleep(0.1)
