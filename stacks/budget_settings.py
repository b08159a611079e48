"""The `budgets` context setting, checked at synth: monthly budgets on cost scopes, and their alerts.

    [{"scope": "tag:project=qml", "monthlyUsd": 500, "alertAt": [50, 80, 100]},
     {"scope": "submitter:arn:aws:iam::123456789012:user/ada", "monthlyUsd": 200},
     {"scope": "device:arn:aws:braket:us-east-1::device/qpu/ionq/Forte-1", "monthlyUsd": 1000},
     {"scope": "account", "monthlyUsd": 5000, "alertAt": [80, 100, 120]}]

The functions receive it as JSON with amounts as decimal strings (tracker.logic.budgets parses it
again at cold start). Totals exist for promoted tag keys only, so a tag budget names one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from stacks.errors import ConfigurationError

DEFAULT_ALERTS = ("50", "80", "100")
MAX_BUDGETS = 20
MAX_ALERTS = 10
MAX_JSON_BYTES = 2048
"""Lambda's environment holds 4 KB in all: the budgets may take half."""
_DEVICE_ARN = re.compile(r"arn:aws[a-z-]*:braket:[a-z0-9-]*::device/[A-Za-z0-9_./-]{1,200}")
_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:(user|role|assumed-role)/[\w+=,.@/-]{1,512}")
_TAG_VALUE = re.compile(r"[\w .:/=+@-]{1,256}")


@dataclass(frozen=True)
class BudgetSetting:
    scope: str
    monthly_usd: str
    alert_at: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"scope": self.scope, "monthlyUsd": self.monthly_usd, "alertAt": list(self.alert_at)}


def budgets_json(budgets: tuple[BudgetSetting, ...]) -> str:
    return json.dumps([budget.to_json() for budget in budgets], separators=(",", ":"))


def parse_budgets(value: Any, promoted_tag_keys: tuple[str, ...]) -> tuple[BudgetSetting, ...]:
    if value in (None, "", []):
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"budgets: not JSON: {exc}") from None
    if not isinstance(value, list):
        raise ConfigurationError("budgets: give a list of {scope, monthlyUsd, alertAt}")
    budgets = tuple(_budget(entry, promoted_tag_keys) for entry in value)
    scopes = [budget.scope for budget in budgets]
    duplicates = sorted({scope for scope in scopes if scopes.count(scope) > 1})
    if duplicates:
        raise ConfigurationError(f"budgets: one budget per scope; twice: {', '.join(duplicates)}")
    if len(budgets) > MAX_BUDGETS:
        raise ConfigurationError(f"budgets: at most {MAX_BUDGETS}")
    if len(budgets_json(budgets).encode()) > MAX_JSON_BYTES:
        raise ConfigurationError(f"budgets: more than {MAX_JSON_BYTES} bytes as JSON (the functions' environment)")
    return budgets


def _budget(entry: Any, promoted_tag_keys: tuple[str, ...]) -> BudgetSetting:
    if not isinstance(entry, dict) or set(entry) - {"scope", "monthlyUsd", "alertAt"} or "scope" not in entry:
        raise ConfigurationError(f"budgets: {entry!r} is not {{scope, monthlyUsd, alertAt}}")
    scope = _scope(entry["scope"], promoted_tag_keys)
    monthly = _amount(f"budgets: {scope}: monthlyUsd", entry.get("monthlyUsd"), Decimal("1e9"))
    alerts = entry.get("alertAt", list(DEFAULT_ALERTS))
    if not isinstance(alerts, list) or not 1 <= len(alerts) <= MAX_ALERTS:
        raise ConfigurationError(f"budgets: {scope}: alertAt is a list of 1 to {MAX_ALERTS} percentages")
    percents = sorted({_amount(f"budgets: {scope}: alertAt", p, Decimal(1000)) for p in alerts}, key=Decimal)
    return BudgetSetting(scope, monthly, tuple(percents))


def _scope(value: Any, promoted_tag_keys: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"budgets: a scope is text, not {value!r}")
    if value == "account":
        return value
    kind, _, rest = value.partition(":")
    if kind == "device" and _DEVICE_ARN.fullmatch(rest):
        return value
    if kind == "submitter" and _PRINCIPAL_ARN.fullmatch(rest):
        return value
    if kind == "tag":
        key, equals, tag_value = rest.partition("=")
        if key not in promoted_tag_keys:
            raise ConfigurationError(
                f"budgets: {value!r}: {key!r} is not a promoted tag key ({', '.join(promoted_tag_keys) or 'none'}); "
                "costs are totalled by promoted tags only (promotedTagKeys)"
            )
        if equals and _TAG_VALUE.fullmatch(tag_value):
            return value
    raise ConfigurationError(
        f"budgets: scope {value!r}: give account, device:<device ARN>, submitter:<IAM ARN> or tag:<key>=<value>"
    )


def _amount(what: str, value: Any, most: Decimal) -> str:
    """A positive amount up to `most`, with at most 6 decimals, as a plain decimal string."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigurationError(f"{what}: give a number, not {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ConfigurationError(f"{what}: give a number, not {value!r}") from None
    if not amount.is_finite() or not 0 < amount <= most or amount != amount.quantize(Decimal("0.000001")):
        raise ConfigurationError(f"{what}: a number above 0, at most {most:f}, with at most 6 decimals: {value!r}")
    return f"{amount.normalize():f}"
