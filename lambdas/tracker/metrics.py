"""Publishes metric points (tracker.logic.task_metrics) as CloudWatch embedded metrics (EMF).

Points without a dimension of their own join the function's Metrics, flushed once per invocation;
points that share extra dimensions (a device, a status) go out together in one EMF document of their
own, since Powertools' Metrics puts one set of dimensions on everything it flushes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from tracker.logic.task_metrics import MetricPoint


def publish(metrics: Metrics, points: Iterable[MetricPoint]) -> None:
    by_dimensions: dict[tuple[tuple[str, str], ...], list[MetricPoint]] = defaultdict(list)
    for point in points:
        if point.dimensions:
            by_dimensions[point.dimensions].append(point)
        else:
            metrics.add_metric(name=point.name, unit=MetricUnit(point.unit), value=point.value)
    for dimensions, group in by_dimensions.items():
        document = EphemeralMetrics(namespace=metrics.namespace, service=metrics.service)
        for name, value in dimensions:
            document.add_dimension(name=name, value=value)
        for point in group:
            document.add_metric(name=point.name, unit=MetricUnit(point.unit), value=point.value)
        document.flush_metrics()
