"""cdk-nag (AwsSolutions) on every synth, with acknowledgements that give a specific reason."""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, App, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_nag_checks(app: App) -> None:
    """Any unacknowledged finding makes synth fail with a validation report."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))


def nag_resource(scope: IConstruct, value: str) -> str:
    """A resource as cdk-nag spells it in a finding id: `Ref`s become `<AWS::Partition>` and the like.

    Partition, Region and account are literals in an environment-specific synth and references
    otherwise, so the id is derived from the template rather than written out.
    """
    resolved = Stack.of(scope).resolve(value)
    if isinstance(resolved, str):
        return resolved
    _, parts = resolved["Fn::Join"]
    return "".join(part if isinstance(part, str) else _reference(part) for part in parts)


def _reference(part: dict[str, Any]) -> str:
    if "Fn::GetAtt" in part:
        return "<{}.{}>".format(*part["Fn::GetAtt"])
    return f"<{part['Ref']}>"
