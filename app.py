#!/usr/bin/env python3
"""Builds the tracker's stacks. Synth needs no AWS credentials and makes no context lookups."""

import os

import aws_cdk as cdk

from stacks.config import TrackerConfig
from stacks.nag import add_nag_checks
from stacks.tracker_stack import TrackerStack

app = cdk.App()
config = TrackerConfig.from_app(app)
TrackerStack(
    app,
    config.stack_name,
    config=config,
    env=cdk.Environment(
        account=os.getenv("CDK_DEFAULT_ACCOUNT"),
        region=os.getenv("AWS_REGION") or os.getenv("CDK_DEFAULT_REGION"),
    ),
)
add_nag_checks(app)
app.synth()
