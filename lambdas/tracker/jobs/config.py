"""The job functions' configuration, read from the environment once at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from tracker import constants
from tracker.config import ConfigError


@dataclass(frozen=True)
class JobsConfig:
    job_table: str
    get_job_rate: float  # GetJob requests per second, per instance of the function
    topic_arn: str | None = None

    @classmethod
    def from_env(cls, default_rate: float, env: Mapping[str, str] = os.environ, *, topic: bool = False) -> JobsConfig:
        needed = [constants.ENV_JOB_TABLE] + ([constants.ENV_TOPIC_ARN] if topic else [])
        missing = [name for name in needed if not env.get(name)]
        if missing:
            raise ConfigError(f"missing environment variables: {', '.join(missing)}")
        topic_arn = env.get(constants.ENV_TOPIC_ARN) if topic else None
        if topic_arn is not None and not topic_arn.startswith("arn:"):
            raise ConfigError(f"{constants.ENV_TOPIC_ARN} must be a topic ARN, not {topic_arn!r}")
        return cls(
            env[constants.ENV_JOB_TABLE],
            rate(env, constants.ENV_GET_JOB_RATE, default_rate, constants.GET_JOB_QUOTA),
            topic_arn,
        )


def rate(env: Mapping[str, str], name: str, default: float, most: float) -> float:
    try:
        value = float(env.get(name) or default)
    except ValueError:
        value = -1.0
    if not 0 < value <= most:
        raise ConfigError(f"{name} must be a number of requests per second above 0 and at most {most:g}")
    return value
