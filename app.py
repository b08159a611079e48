#!/usr/bin/env python3
"""Builds the tracker's stacks. Synth needs no AWS credentials and makes no context lookups."""

import os

import aws_cdk as cdk

from stacks.config import TrackerConfig
from stacks.forwarders import ForwarderStack, forwarder_stack_name
from stacks.nag import add_nag_checks
from stacks.tracker_stack import TrackerStack

app = cdk.App()
config = TrackerConfig.from_app(app)
account = os.getenv("CDK_DEFAULT_ACCOUNT")
home_region = os.getenv("AWS_REGION") or os.getenv("CDK_DEFAULT_REGION")
TrackerStack(
    app,
    config.stack_name,
    config=config,
    env=cdk.Environment(account=account, region=home_region),
)
# One forwarder in every other Braket Region (braketRegions), once the home Region is known.
for region in config.braket_regions if home_region else ():
    if region != home_region:
        ForwarderStack(
            app,
            forwarder_stack_name(config.stack_name, region),
            home_region=str(home_region),
            alarm_emails=config.alarm_emails,
            tracker_stack_name=config.stack_name,
            results_retention_days=config.api.results_retention_days,
            env=cdk.Environment(account=account, region=region),
        )
add_nag_checks(app)
app.synth()
