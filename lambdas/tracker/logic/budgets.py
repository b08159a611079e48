"""Monthly budgets on cost scopes, their alert thresholds, and the arithmetic of refusing a
submission that would pass one: pure.

A budget names a scope as the totals do (`account`, `device:<ARN>`, `submitter:<ARN>`,
`tag:<key>=<value>`), a monthly amount in USD and the percentages at which to alert. The deployment's
`budgets` context setting is checked at synth (stacks/config) and reaches the functions as JSON,
with amounts as decimal strings; it is parsed again here, strictly, at cold start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from tracker.logic.task_costs import ACCOUNT, DEVICE_PREFIX, SUBMITTER_PREFIX, tag_scope

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
_AMOUNT = re.compile(r"\d{1,12}(?:\.\d{1,6})?")


@dataclass(frozen=True)
class Budget:
    scope: str
    monthly_usd: Decimal
    alert_at: tuple[Decimal, ...]
    """Percentages of `monthly_usd`, ascending."""

    def threshold_usd(self, percent: Decimal) -> Decimal:
        return self.monthly_usd * percent / HUNDRED

    def reached(self, spent_usd: Decimal) -> list[Decimal]:
        """The thresholds that `spent_usd` has reached."""
        return [percent for percent in self.alert_at if spent_usd >= self.threshold_usd(percent)]

    def room(self, estimate_usd: Decimal) -> Decimal:
        """The most that may be committed (spent or reserved) already for `estimate_usd` to fit."""
        return self.monthly_usd - estimate_usd

    def remaining(self, committed_usd: Decimal) -> Decimal:
        return max(self.monthly_usd - committed_usd, Decimal(0))

    def percent_used(self, spent_usd: Decimal) -> Decimal:
        return (spent_usd * HUNDRED / self.monthly_usd).quantize(CENT)

    def to_json(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "monthlyUsd": _plain(self.monthly_usd),
            "alertAt": [_plain(percent) for percent in self.alert_at],
        }


def parse_budgets(text: str) -> tuple[Budget, ...]:
    """The budgets as the stack passes them (a JSON list). Raises ValueError naming what is wrong."""
    try:
        value = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise ValueError(f"budgets are not JSON: {exc}") from exc
    if not isinstance(value, list):
        raise ValueError("budgets are a JSON list")
    budgets = tuple(_budget(entry) for entry in value)
    scopes = [budget.scope for budget in budgets]
    if len(set(scopes)) != len(scopes):
        raise ValueError("two budgets name the same scope")
    return budgets


def _budget(entry: object) -> Budget:
    if not isinstance(entry, dict) or set(entry) != {"scope", "monthlyUsd", "alertAt"}:
        raise ValueError(f"a budget is {{scope, monthlyUsd, alertAt}}, not {entry!r}")
    scope, alert_at = entry["scope"], entry["alertAt"]
    if not isinstance(scope, str) or not scope or not isinstance(alert_at, list):
        raise ValueError(f"a budget's scope is text and alertAt a list: {entry!r}")
    monthly = _amount(entry["monthlyUsd"])
    if monthly <= 0:
        raise ValueError(f"{scope}: monthlyUsd must be more than 0")
    percents = sorted({_amount(percent) for percent in alert_at})
    if any(percent <= 0 for percent in percents):
        raise ValueError(f"{scope}: alertAt percentages are more than 0")
    return Budget(scope, monthly, tuple(percents))


def _amount(value: object) -> Decimal:
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        raise ValueError(f"an amount is a decimal string, not {value!r}")
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover (the pattern admits only decimals)
        raise ValueError(str(exc)) from exc


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def budgets_for(budgets: Iterable[Budget], scopes: Iterable[str]) -> list[Budget]:
    wanted = set(scopes)
    return [budget for budget in budgets if budget.scope in wanted]


def submission_scopes(
    device_arn: str, submitter: str, tags: Mapping[str, str], promoted_tag_keys: Sequence[str]
) -> tuple[str, ...]:
    """The scopes a task submitted through the API will count in (see logic.task_costs.scopes_of)."""
    scopes = [ACCOUNT, DEVICE_PREFIX + device_arn, SUBMITTER_PREFIX + submitter]
    scopes += [tag_scope(key, tags.get(key) or "") for key in promoted_tag_keys]
    return tuple(dict.fromkeys(scopes))


def alert_id(scope: str, month: str, percent: Decimal) -> str:
    """One alert per budget, month and threshold: what a subscriber dedupes on."""
    return f"budget#{scope}#{month}#{_plain(percent)}"


def alert_attribute(percent: Decimal) -> str:
    """The totals item's attribute that records a threshold's alert: `alert:80`."""
    return f"alert:{percent_text(percent)}"


def percent_text(percent: Decimal) -> str:
    """A threshold as written in attribute names and ids: `80`, `12.5`."""
    return _plain(percent)
