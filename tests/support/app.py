"""Synthesize the CDK app as `app.py` does, for tests that read the template."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from stacks.config import TrackerConfig
from stacks.forwarders import ForwarderStack, forwarder_stack_name
from stacks.nag import add_nag_checks
from stacks.tracker_stack import TrackerStack

STACK_NAME = "BraketTaskTracker"
CDK_JSON_CONTEXT: dict[str, Any] = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]


@dataclass
class SynthesizedApp:
    outdir: Path
    stack: TrackerStack
    template: Template
    template_path: Path

    @property
    def resources(self) -> dict[str, Any]:
        return json.loads(self.template_path.read_text())["Resources"]  # type: ignore[no-any-return]

    def resources_of_type(self, resource_type: str) -> dict[str, Any]:
        return {name: r for name, r in self.resources.items() if r["Type"] == resource_type}


def synthesize(
    outdir: Path, context: dict[str, Any] | None = None, env: cdk.Environment | None = None
) -> SynthesizedApp:
    """Synthesize with cdk.json's context (as `cdk synth` passes it), plus `context`.

    Without `env` the stack is environment-agnostic; with it, as `cdk deploy` to that account
    and Region synthesizes it (partition, Region and account become literals).
    """
    app = cdk.App(outdir=str(outdir), context=CDK_JSON_CONTEXT | (context or {}))
    stack = TrackerStack(app, STACK_NAME, config=TrackerConfig.from_app(app), env=env)
    add_nag_checks(app)
    app.synth()
    return SynthesizedApp(outdir, stack, Template.from_stack(stack), outdir / f"{STACK_NAME}.template.json")


@dataclass
class SynthesizedRegions:
    """The home stack and a forwarder stack per other Braket Region, as `app.py` builds them."""

    outdir: Path
    home: SynthesizedApp
    forwarders: dict[str, Any]  # Region -> ForwarderStack

    def forwarder_template(self, region: str) -> dict[str, Any]:
        stack = self.forwarders[region]
        return json.loads((self.outdir / f"{stack.stack_name}.template.json").read_text())  # type: ignore[no-any-return]


def synthesize_regions(
    outdir: Path, home_region: str, account: str, context: dict[str, Any] | None = None
) -> SynthesizedRegions:
    """Synthesize as `app.py` does for a home Region: the tracker, and its forwarders, cdk-nag on."""
    app = cdk.App(outdir=str(outdir), context=CDK_JSON_CONTEXT | (context or {}))
    config = TrackerConfig.from_app(app)
    stack = TrackerStack(app, STACK_NAME, config=config, env=cdk.Environment(account=account, region=home_region))
    forwarders = {
        region: ForwarderStack(
            app,
            forwarder_stack_name(STACK_NAME, region),
            home_region=home_region,
            alarm_emails=config.alarm_emails,
            tracker_stack_name=config.stack_name,
            results_retention_days=config.api.results_retention_days,
            env=cdk.Environment(account=account, region=region),
        )
        for region in config.braket_regions
        if region != home_region
    }
    add_nag_checks(app)
    app.synth()
    home = SynthesizedApp(outdir, stack, Template.from_stack(stack), outdir / f"{STACK_NAME}.template.json")
    return SynthesizedRegions(outdir, home, forwarders)
