"""Function configuration, read from the environment once at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from tracker.constants import (
    ENV_CONNECTIONS_ENDPOINT,
    ENV_CONNECTIONS_TABLE,
    ENV_ENRICH_MAX_ATTEMPTS,
    ENV_REJECTED_TABLE,
    ENV_TASK_TABLE,
    ENV_TOPIC_ARN,
)


class ConfigError(RuntimeError):
    """The function's environment is incomplete or wrong: a deployment problem, not a data one."""


@dataclass(frozen=True)
class RecorderConfig:
    task_table: str
    rejected_table: str
    enrich_max_attempts: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> RecorderConfig:
        _require(env, ENV_TASK_TABLE, ENV_REJECTED_TABLE)
        attempts = env.get(ENV_ENRICH_MAX_ATTEMPTS, "5")
        if not attempts.isdigit() or not 1 <= int(attempts) <= 10:
            raise ConfigError(f"{ENV_ENRICH_MAX_ATTEMPTS} must be a whole number from 1 to 10, not {attempts!r}")
        return cls(env[ENV_TASK_TABLE], env[ENV_REJECTED_TABLE], int(attempts))


@dataclass(frozen=True)
class NotifierConfig:
    task_table: str
    topic_arn: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> NotifierConfig:
        _require(env, ENV_TASK_TABLE, ENV_TOPIC_ARN)
        if not env[ENV_TOPIC_ARN].startswith("arn:"):
            raise ConfigError(f"{ENV_TOPIC_ARN} must be a topic ARN, not {env[ENV_TOPIC_ARN]!r}")
        return cls(env[ENV_TASK_TABLE], env[ENV_TOPIC_ARN])


@dataclass(frozen=True)
class LiveConfig:
    """The live-updates functions: the WebSocket connections handler and the stream pusher."""

    task_table: str
    connections_table: str
    connections_endpoint: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> LiveConfig:
        _require(env, ENV_TASK_TABLE, ENV_CONNECTIONS_TABLE, ENV_CONNECTIONS_ENDPOINT)
        endpoint = env[ENV_CONNECTIONS_ENDPOINT]
        if not endpoint.startswith(("https://", "http://")) or endpoint.count("/") < 3:
            raise ConfigError(f"{ENV_CONNECTIONS_ENDPOINT} must be a stage URL (https://HOST/STAGE), not {endpoint!r}")
        return cls(env[ENV_TASK_TABLE], env[ENV_CONNECTIONS_TABLE], endpoint.rstrip("/"))


def _require(env: Mapping[str, str], *names: str) -> None:
    missing = [name for name in names if not env.get(name)]
    if missing:
        raise ConfigError(f"missing environment variables: {', '.join(missing)}")
