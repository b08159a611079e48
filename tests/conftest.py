"""Shared fixtures: safe AWS settings, Braket event fixtures, and the synthesized app."""

from __future__ import annotations

import os

# No test may reach AWS: fake credentials, and a Region, before anything imports boto3.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "BraketTaskTracker",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_DEV": "false",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault(
    "JSII_RUNTIME_PACKAGE_CACHE_ROOT", os.path.join(os.path.dirname(os.path.dirname(__file__)), ".cache", "jsii")
)

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from tests.support.app import SynthesizedApp, synthesize  # noqa: E402

# Hypothesis checks invariants, never speed: no per-example deadline (a loaded 2-core machine made
# pure examples take 900 ms against the default 200 ms). Performance lives in bench/.
settings.register_profile("tracker", deadline=None, print_blob=True)
settings.load_profile("tracker")


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedApp:
    """The CDK app, synthesized once per test session with cdk-nag on (as `python app.py` does)."""
    return synthesize(tmp_path_factory.mktemp("cdk.out"))
