"""Every alarm the stack raises is in an alarms table of the README or docs/, so an operator who
gets one finds what it means and what to do."""

from __future__ import annotations

import re

import pytest

from docs.tools.links import documentation_files
from docs.tools.markdown import MarkdownFile
from stacks.dashboard import alarms_of
from tests.support.app import SynthesizedApp

pytestmark = pytest.mark.infrastructure


def documented_alarms() -> set[str]:
    """The first cell of every table row, in the README and docs/*.md, outside code blocks."""
    cells = set()
    for path in documentation_files():
        for _, line in MarkdownFile(path).prose:
            match = re.match(r"\|\s*`?([A-Za-z][A-Za-z0-9]+)`?\s*\|", line)
            if match:
                cells.add(match[1])
    return cells


def test_every_alarm_of_the_stack_has_a_row_in_an_alarms_table(synthesized: SynthesizedApp) -> None:
    alarms = {alarm.node.id for alarm in alarms_of(synthesized.stack)}
    assert len(alarms) >= 13
    missing = sorted(alarms - documented_alarms())
    assert not missing, f"alarms with no table row (| Name | fires when | what to do |): {missing}"
