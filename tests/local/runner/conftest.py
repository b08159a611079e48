"""A moto server for the runner's tests, and a fixture deploying small test stacks into it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.local.runner.moto_stack import Aws, Deployed, deploy_test_stack
from tests.support.moto_server import start_moto_server


@pytest.fixture(autouse=True)
def runner_logs() -> Iterator[None]:
    """The runner's and the functions' log lines in pytest's report of a failing test; not moto's requests."""
    runner, werkzeug = logging.getLogger("local.runner"), logging.getLogger("werkzeug")
    levels = runner.level, werkzeug.level
    runner.setLevel(logging.DEBUG)
    werkzeug.setLevel(logging.WARNING)
    yield
    runner.setLevel(levels[0])
    werkzeug.setLevel(levels[1])


@pytest.fixture(scope="session")
def aws() -> Iterator[Aws]:
    server, url = start_moto_server()
    yield Aws(url)
    server.stop()


@pytest.fixture
def deploy(aws: Aws, tmp_path: Path) -> Callable[[dict[str, Any]], Deployed]:
    """Deploys a test template (its event source mappings removed) and returns it with its cdk.out."""

    def _deploy(template: dict[str, Any]) -> Deployed:
        return deploy_test_stack(aws, template, tmp_path)

    return _deploy
