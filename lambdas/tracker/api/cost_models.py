"""The Task API's wire models for costs: a month's totals by submitter, device or tag, with budgets
and Braket's spending limits beside them. Amounts are exact decimal strings (USD)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class BudgetView(BaseModel):
    monthlyUsd: str
    percentUsed: str = Field(description="Spent, as a percentage of the monthly budget")
    remainingUsd: str = Field(description="The budget less what is spent and held by tasks still running")
    alertAt: list[str] = Field(description="Thresholds (percentages) that send an alert")
    alertsSent: list[str] = Field(description="Thresholds already alerted this month")


class SpendingLimitView(BaseModel):
    """Braket's spending limit of a QPU, as Braket last reported it."""

    spendingLimitArn: str
    deviceArn: str
    spendingLimitUsd: str
    totalSpendUsd: str
    queuedSpendUsd: str
    remainingUsd: str
    startAt: str | None = None
    endAt: str | None = None
    reportedAt: str
    source: Literal["event", "search"] = Field(description="A spend change event, or SearchSpendingLimits")


class CostRow(BaseModel):
    scope: str = Field(description="account, device:<ARN>, submitter:<ARN> or tag:<key>=<value>")
    value: str | None = Field(description="The device, submitter or tag value; empty: none recorded")
    usd: str
    tasks: int
    unpricedTasks: int = Field(description="Tasks the catalogue could not price (counted at $0)")
    reservedUsd: str = Field(description="Estimates held by API submissions still running (budgets)")
    budget: BudgetView | None = None
    braketSpendingLimit: SpendingLimitView | None = None


class CostReport(BaseModel):
    month: str
    by: str
    currency: Literal["USD"] = "USD"
    rows: list[CostRow]
    totalUsd: str | None = Field(default=None, description="The sum of the rows, on the last page")
    next: str | None = Field(default=None, description="Pass as ?next= for the following page; absent on the last")


class TrackerFigures(BaseModel):
    month: str
    usd: str
    tasks: int


class DeviceSpendingLimit(SpendingLimitView):
    tracker: TrackerFigures = Field(description="What the tracker counts for the device this month")


class SpendingLimitsReport(BaseModel):
    limits: list[DeviceSpendingLimit]
    problems: list[str] = Field(default_factory=list, description="Regions that did not answer")
