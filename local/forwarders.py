"""The forwarder stacks in local mode: each one deployed into moto in its own Region.

moto's EventBridge delivers to an event bus target in another Region as EventBridge does, with one
difference the recorder is built for: the forwarded event has the home Region in its envelope (and
no `resources`, and the forwarding time), so only the task ARN tells the task's Region.
"""

from __future__ import annotations

import json
from pathlib import Path

from local.aws import DeployedStack, LocalAws, deploy
from stacks.names import forwarder_stack_name


def deploy_forwarders(moto: LocalAws, cdk_out: Path, stack_name: str, home_region: str) -> dict[str, DeployedStack]:
    """Deploy every forwarder stack synthesized next to `stack_name`, by Region."""
    manifest = json.loads((cdk_out / "manifest.json").read_text())
    deployed = {}
    for name, artifact in sorted(manifest["artifacts"].items()):
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        region = str(artifact.get("environment", "")).rsplit("/", 1)[-1]
        if region != home_region and name == forwarder_stack_name(stack_name, region):
            deployed[region] = deploy(moto, cdk_out, name, region)
    return deployed
