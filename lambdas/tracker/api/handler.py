"""Task API handler: API Gateway (REST, IAM-authorized) -> routes -> TaskService."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from tracker import constants
from tracker.api import jobs_routes
from tracker.api.budgets import BudgetGuard
from tracker.api.cost_routes import bind as bind_costs
from tracker.api.costs import CostService
from tracker.api.jobs_service import JobService
from tracker.api.routes import bind, logger, resolve
from tracker.api.service import TaskService
from tracker.config import ApiConfig, CostApiConfig
from tracker.data.braket_jobs import BraketJobs
from tracker.data.braket_tasks import BraketSubmissions
from tracker.data.budget_holds import BudgetHolds
from tracker.data.cost_totals import CostTotals
from tracker.data.idempotency import IdempotencyStore
from tracker.data.job_table import JobTable
from tracker.data.job_tasks import JobTasks
from tracker.data.price_catalogue import CatalogueSource, CatalogueStore
from tracker.data.results_store import ResultsStore
from tracker.data.spending_limits import BraketSpendingLimits
from tracker.data.task_table import TaskTable
from tracker.jobs.config import JobsConfig
from tracker.logic.budgets import parse_budgets

config = ApiConfig.from_env()
costs = CostApiConfig.from_env()
jobs_config = JobsConfig.from_env(constants.RECORDER_GET_JOB_RATE)
dynamodb = boto3.client("dynamodb")  # one client for every table
guard = None
if costs is not None:
    totals = CostTotals(costs.totals_table, costs.ledger_table, dynamodb)
    budgets = parse_budgets(costs.budgets_json)
    catalogue = CatalogueSource(CatalogueStore(costs.prices_table, dynamodb))
    guard = BudgetGuard(budgets, BudgetHolds(totals), catalogue, config.promoted_tag_keys) if budgets else None
    bind_costs(
        CostService(
            totals,
            budgets,
            config.promoted_tag_keys,
            limits=BraketSpendingLimits(),
            regions=sorted(config.results_buckets),
        )
    )
bind(
    TaskService(
        config,
        TaskTable(config.task_table, dynamodb, config.promoted_tag_keys),
        IdempotencyStore(config.idempotency_table, constants.IDEMPOTENCY_RETENTION_HOURS * 3600, dynamodb),
        BraketSubmissions(),
        ResultsStore(),
        budgets=guard,
    )
)
jobs_routes.bind(
    JobService(
        JobTable(jobs_config.job_table, dynamodb),
        JobTasks(config.task_table, jobs_config.job_table, dynamodb),
        BraketJobs(jobs_config.get_job_rate),
        config.admin_principals,
    )
)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(event, context)
