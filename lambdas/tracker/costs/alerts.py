"""Budget alerts: one per budget, month and threshold, whatever the deliveries.

After a task's count moves, the budgets of its scopes are read (one consistent BatchGetItem) and
every threshold reached but not yet alerted is claimed with a conditional write (only one claimer
wins, however many functions see it at once), published, then confirmed. A failed publish gives
the claim back and fails the record, so the retry sends it. A claim whose sender died between the
claim and the publish (nothing else leaves one) is taken over after LEASE_SECONDS by the next task
end in that scope. Alerts follow notifications' rule for imported history: a backfilled task never
sets one off (its cost still counts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tracker.data.cost_totals import CostTotals
from tracker.data.topic import NotificationTopic, PublishFailed
from tracker.domain import normalize_time
from tracker.logic.budget_alert import Crossing, build
from tracker.logic.budgets import Budget, alert_attribute, budgets_for, percent_text

LEASE_SECONDS = 300


@dataclass(frozen=True)
class Sent:
    crossing: Crossing
    notification_id: str
    message_id: str


class BudgetAlerts:
    def __init__(
        self,
        budgets: Sequence[Budget],
        totals: CostTotals,
        topic: NotificationTopic,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.budgets = tuple(budgets)
        self.totals = totals
        self.topic = topic
        self.clock = clock

    def check(self, month: str, scopes: Sequence[str], task_arn: str | None) -> list[Sent]:
        """Send the alerts that the totals of `scopes` in `month` have reached and nobody has sent."""
        budgets = budgets_for(self.budgets, scopes)
        if not budgets:
            return []
        now = self.clock()
        stale = normalize_time(now - timedelta(seconds=LEASE_SECONDS))
        totals = self.totals.totals([(month, budget.scope) for budget in budgets])
        sent = []
        for budget in budgets:
            key = (month, budget.scope)
            total = totals[key]
            for percent in budget.reached(total.usd):
                alert = total.alerts.get(percent_text(percent))
                if alert and ("sentAt" in alert or str(alert.get("claimedAt", "")) >= stale):
                    continue  # sent, or being sent by another invocation right now
                claimed_at = normalize_time(now)
                claim = {"claimedAt": claimed_at, "usd": total.usd, **({"taskArn": task_arn} if task_arn else {})}
                attribute = alert_attribute(percent)
                if not self.totals.claim_alert(key, attribute, budget.threshold_usd(percent), claim, stale):
                    continue
                crossing = Crossing(budget, month, percent, total.usd, total.reserved_usd, task_arn)
                notification = build(crossing)
                try:
                    message_id = self.topic.publish(notification)
                except PublishFailed:
                    self.totals.unclaim_alert(key, attribute, claimed_at)
                    raise
                self.totals.confirm_alert(key, attribute, claimed_at, message_id, normalize_time(self.clock()))
                sent.append(Sent(crossing, notification.notification_id, message_id))
        return sent
