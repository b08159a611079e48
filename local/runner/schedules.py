"""Scheduled EventBridge rules with Lambda targets: rate(...) and cron(...) expressions (UTC), and the
"Scheduled Event" payload. `Scheduler.trigger` fires a rule now, so nothing has to wait minutes.

EventBridge invokes a Lambda target asynchronously; here each firing runs on its own thread and its
outcome is logged (Lambda's asynchronous retries of a failed invocation are not emulated).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from local.runner.functions import Invocation, LocalFunction
from local.runner.template import ScheduleSpec, TargetSpec

logger = logging.getLogger("local.runner")

_RATE = re.compile(r"rate\(([0-9]+)\s+(minute|minutes|hour|hours|day|days)\)")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    m: i + 1 for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"))
}
_WEEKDAYS = {d: i + 1 for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}


class Rate:
    def __init__(self, seconds: int, since: dt.datetime) -> None:
        self.seconds = seconds
        self._since = since

    def next_after(self, now: dt.datetime) -> dt.datetime:
        periods = int((now - self._since).total_seconds() // self.seconds) + 1
        return self._since + dt.timedelta(seconds=periods * self.seconds)


class Cron:
    """EventBridge's six-field cron: minutes hours day-of-month month day-of-week year (L, W and # unsupported)."""

    def __init__(self, fields: str) -> None:
        parts = fields.split()
        if len(parts) != 6:
            raise ValueError(f"cron({fields}): six fields expected")
        self.minutes = sorted(_field(parts[0], 0, 59, {}) or range(60))
        self.hours = sorted(_field(parts[1], 0, 23, {}) or range(24))
        self.days = _field(parts[2], 1, 31, {})
        self.months = _field(parts[3], 1, 12, _MONTHS)
        self.weekdays = _field(parts[4], 1, 7, _WEEKDAYS)
        self.years = _field(parts[5], 1970, 2199, {})

    def next_after(self, now: dt.datetime) -> dt.datetime | None:
        start = (now + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * 5):
            if self._day_matches(day):
                for hour in self.hours:
                    for minute in self.minutes:
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += dt.timedelta(days=1)
        return None

    def _day_matches(self, day: dt.datetime) -> bool:
        weekday = (day.weekday() + 1) % 7 + 1  # SUN=1 ... SAT=7
        return all(
            allowed is None or value in allowed
            for allowed, value in (
                (self.years, day.year),
                (self.months, day.month),
                (self.days, day.day),
                (self.weekdays, weekday),
            )
        )


def _field(text: str, low: int, high: int, names: dict[str, int]) -> set[int] | None:
    """The values a cron field allows; None for `*` or `?` (any)."""
    if text in ("*", "?"):
        return None
    if re.search(r"[LW#]", re.sub("|".join(names) or "^$", "", text.upper())):
        raise ValueError(f"cron field {text!r}: L, W and # are not supported locally")

    def value(token: str) -> int:
        return names[token.upper()] if token.upper() in names else int(token)

    allowed: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first, last = (value(t) for t in base.split("-", 1))
        else:
            first = value(base)
            last = high if step else first
        allowed.update(range(first, last + 1, int(step or 1)))
    return allowed


def parse_expression(expression: str, since: dt.datetime) -> Rate | Cron:
    rate = _RATE.fullmatch(expression.strip())
    if rate:
        return Rate(int(rate.group(1)) * _UNITS[rate.group(2).rstrip("s")], since)
    if expression.startswith("cron(") and expression.endswith(")"):
        return Cron(expression[5:-1])
    raise ValueError(f"unsupported schedule expression {expression!r}")


def scheduled_event(rule_arn: str, account: str, region: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def target_input(target: TargetSpec, event: dict[str, Any]) -> Any:
    """What the target receives: its constant Input, the part of the event its InputPath selects, or the event."""
    if target.input is not None:
        return json.loads(target.input)
    if target.input_path:
        selected: Any = event
        for key in target.input_path.lstrip("$").strip(".").split("."):
            if key:
                selected = selected.get(key) if isinstance(selected, dict) else None
        return selected
    if target.input_transformer:
        logger.warning("InputTransformer of target %s is not supported locally: sending the event", target.target_id)
    return event


@dataclass(frozen=True)
class ScheduledRule:
    spec: ScheduleSpec
    arn: str
    functions: dict[str, LocalFunction]


class Scheduler:
    def __init__(self, rules: list[ScheduledRule], account: str, region: str) -> None:
        self.rules = {rule.spec.logical_id: rule for rule in rules}
        self.account = account
        self.region = region
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="schedules", daemon=True)

    def start(self) -> None:
        if self.rules:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self) -> None:
        if self._thread.is_alive():
            self._thread.join()

    def trigger(self, rule_id: str) -> list[Invocation]:
        """Fire a rule now and wait for its targets' invocations."""
        rule = self.rules[rule_id]
        event = scheduled_event(rule.arn, self.account, self.region, dt.datetime.now(dt.UTC))
        return [rule.functions[t.function_id].invoke(target_input(t, event)) for t in rule.spec.targets]

    def _run(self) -> None:
        now = dt.datetime.now(dt.UTC)
        schedules: dict[str, Rate | Cron] = {}
        for rule_id, rule in self.rules.items():
            if not rule.spec.enabled:
                continue
            try:
                schedules[rule_id] = parse_expression(rule.spec.expression, now)
            except ValueError as exc:
                logger.warning("Schedule %s never fires locally (use trigger_schedule): %s", rule_id, exc)
        due = {rule_id: s.next_after(now) for rule_id, s in schedules.items()}
        while not self._stop.is_set():
            pending = {rule_id: when for rule_id, when in due.items() if when is not None}
            if not pending:
                return
            rule_id, when = min(pending.items(), key=lambda item: item[1])
            wait = (when - dt.datetime.now(dt.UTC)).total_seconds()
            if wait > 0 and self._stop.wait(min(wait, 1.0)):
                return
            if wait > 1.0:
                continue
            threading.Thread(target=self._fire, args=(rule_id,), daemon=True).start()
            due[rule_id] = schedules[rule_id].next_after(when)

    def _fire(self, rule_id: str) -> None:
        try:
            for invocation in self.trigger(rule_id):
                if invocation.error:
                    logger.warning("Schedule %s: %s failed: %s", rule_id, invocation.function, invocation.error)
        except Exception:
            logger.exception("Schedule %s failed", rule_id)
