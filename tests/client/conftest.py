"""Fixtures for the client's unit tests: no network, except WebSocket servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from braket_tracker import TrackerClient

from tests.client.fakes import API_URL, FakeTaskApi, session


class FakeTime:
    """A clock that moves only when the code under test sleeps; `on_sleep` runs at each sleep."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[int], None] = lambda count: None

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds
        self.on_sleep(len(self.sleeps))


@pytest.fixture
def api() -> FakeTaskApi:
    return FakeTaskApi()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(api: FakeTaskApi, fake_time: FakeTime) -> Callable[..., TrackerClient]:
    def make(**options: Any) -> TrackerClient:
        settings: dict[str, Any] = {
            "api_url": API_URL,
            "session": session(),
            "transport": api,
            "clock": fake_time.clock,
            "sleep": fake_time.sleep,
            "sdk_results": False,
        }
        return TrackerClient(**(settings | options))

    return make


@pytest.fixture
def client(make_client: Callable[..., TrackerClient]) -> TrackerClient:
    return make_client()
