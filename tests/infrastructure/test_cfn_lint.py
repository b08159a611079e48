"""cfn-lint accepts the synthesized templates (W3005 is CDK's own redundant DependsOn)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.app import SynthesizedApp

pytestmark = pytest.mark.infrastructure

CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def test_cfn_lint_passes_on_the_templates(
    synthesized: SynthesizedApp, synthesized_with_email: SynthesizedApp, synthesized_with_notifications: SynthesizedApp
) -> None:
    # Given the default template, the one with an alarm email subscription and the one with notification
    # subscriptions (all with cdk.json's context)
    templates = [
        str(app.template_path) for app in (synthesized, synthesized_with_email, synthesized_with_notifications)
    ]

    # When cfn-lint checks them
    result = subprocess.run(
        [str(CFN_LINT), *templates, "--ignore-checks", "W3005"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    # Then it finds nothing
    assert result.returncode == 0, f"cfn-lint exited {result.returncode}:\n{result.stdout}{result.stderr}"
