"""The whole tracker on one machine: moto, the deployed stack, the local Braket service and the runner."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3

from local.aws import ACCOUNT, CREDENTIALS, DeployedStack, MotoServer, deploy
from local.braket import LocalBraket
from local.faults import FaultPlan
from local.forwarders import deploy_forwarders
from local.runner import LocalRunner
from local.runner.rest_api_spec import rest_apis
from local.runner.template import StackTemplate
from local.runner.websocket_spec import websocket_apis

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_STACK = "BraketTaskTracker"


def synthesize(outdir: Path, region: str, context: dict[str, Any] | None = None) -> Path:
    """Run `python app.py` as `cdk synth` does: same context (cdk.json's, with `context` over it, as
    `-c key=value` would), template and cdk-nag checks."""
    context = json.loads((PROJECT / "cdk.json").read_text())["context"] | (context or {})
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(context),  # how the CDK CLI hands cdk.json's context to the app
        "CDK_OUTDIR": str(outdir),
        "AWS_REGION": region,
        "CDK_DEFAULT_ACCOUNT": ACCOUNT,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    env.setdefault("JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(PROJECT / ".cache" / "jsii"))
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=PROJECT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"synth failed:\n{result.stdout}\n{result.stderr}")
    return outdir


def api_addresses(cdk_out: Path, stack_name: str) -> tuple[dict[str, int], dict[str, str]]:
    """A free port for each REST and WebSocket API of the synthesized stack, and the local URL of its first
    stage: the runner serves each API there, and the stack's outputs name those URLs (local/template.py)."""
    template = StackTemplate(json.loads((cdk_out / f"{stack_name}.template.json").read_text()), cdk_out)
    ports: dict[str, int] = {}
    urls: dict[str, str] = {}
    for api in rest_apis(template):
        ports[api.logical_id] = _free_port()
        urls[api.logical_id] = f"http://127.0.0.1:{ports[api.logical_id]}/{next(iter(api.stages))}/"
    for websocket in websocket_apis(template):
        ports[websocket.logical_id] = _free_port()
        urls[websocket.logical_id] = f"ws://127.0.0.1:{ports[websocket.logical_id]}/{next(iter(websocket.stages))}"
    return ports, urls


PORTS = range(20_000, 32_768)
"""Where the APIs' ports are chosen: below Linux's ephemeral range (32768-60999), which the kernel gives to
outgoing connections and to port 0. The runner binds a chosen port a moment later, after the stack is
deployed with its URL; a port from the ephemeral range could be taken meanwhile by one of the many
connections local mode opens (it was, in CI: "Address already in use")."""


def _free_port() -> int:
    """A port nothing listens on now, outside the ephemeral range (the runner binds it a moment later)."""
    for port in random.sample(PORTS, 50):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port from {PORTS.start} to {PORTS.stop - 1} after 50 tries")


@dataclass
class LocalTracker:
    """Start with `with LocalTracker(...) as tracker:`; everything stops on exit."""

    cdk_out: Path = PROJECT / ".local" / "cdk.out"
    region: str = "us-east-1"
    stack_name: str = DEFAULT_STACK
    faults: FaultPlan = field(default_factory=FaultPlan)
    queue_delay: float = 0.5
    synth: bool = True
    log_file: Path | None = PROJECT / ".local" / "local-mode.log"
    moto: MotoServer | None = None
    stack: DeployedStack | None = None
    braket: LocalBraket | None = None
    runner: LocalRunner | None = None
    forwarders: bool = True  # deploy the forwarder stacks of the other Braket Regions too
    forwarder_stacks: dict[str, DeployedStack] = field(default_factory=dict)

    def start(self) -> LocalTracker:
        if self.synth:
            synthesize(self.cdk_out, self.region)
        try:
            if self.moto is None:  # one given (a moto server in a process of its own, for benchmarks) is used
                self.moto = MotoServer.start()
            ports, urls = api_addresses(self.cdk_out, self.stack_name)
            self.stack = deploy(self.moto, self.cdk_out, self.stack_name, self.region, api_urls=urls)
            if self.forwarders:
                self.forwarder_stacks = deploy_forwarders(self.moto, self.cdk_out, self.stack_name, self.region)
            if self.braket is None:  # as moto: a benchmark may run it in a process of its own
                self.braket = LocalBraket(
                    self.moto.url, account=ACCOUNT, queue_delay=self.queue_delay, faults=self.faults
                )
            self.braket.start()
            if self.log_file is not None:
                self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self.runner = LocalRunner(
                template=self.stack.template,
                cdk_out=self.cdk_out,
                stack_name=self.stack_name,
                aws_endpoint=self.moto.url,
                region=self.region,
                braket_endpoint=self.braket.url,
                faults=self.faults,
                credentials=CREDENTIALS,
                log_file=self.log_file,
                ports=ports,
            )
            self.runner.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for part in (self.runner, self.braket, self.moto):
            if part is not None:
                part.stop()
        self.runner = self.braket = self.moto = None

    def __enter__(self) -> LocalTracker:
        return self.start()

    def __exit__(self, *exc: object | type[BaseException] | TracebackType | None) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """What points boto3, the AWS CLI and the client (`braket-tracker`) at local mode."""
        assert self.moto is not None and self.braket is not None and self.runner is not None
        return {
            "AWS_ENDPOINT_URL": self.moto.url,
            "AWS_ENDPOINT_URL_BRAKET": self.braket.url,
            "AWS_ACCESS_KEY_ID": CREDENTIALS[0],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS[1],
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            # The stack's outputs name them too (TaskApiUrl, LiveUpdatesUrl): --stack works as well.
            "BRAKET_TRACKER_API_URL": self.runner.api_endpoints()[0].url,
            "BRAKET_TRACKER_LIVE_URL": self.live_updates_url(),
        }

    def client(self, service: str) -> Any:
        assert self.moto is not None
        if service == "braket":
            assert self.braket is not None
            return boto3.client(
                "braket",
                region_name=self.region,
                endpoint_url=self.braket.url,
                aws_access_key_id=CREDENTIALS[0],
                aws_secret_access_key=CREDENTIALS[1],
            )
        return self.moto.client(service, self.region)

    def output(self, key: str) -> str:
        assert self.stack is not None
        return self.stack.outputs[key]

    def live_updates_url(self) -> str:
        """The live-updates WebSocket API's local URL (ws://127.0.0.1:PORT/live), as LiveUpdatesUrl names it."""
        assert self.runner is not None
        (endpoint,) = self.runner.websocket_endpoints.values()
        return endpoint.url
