# Everything installs into the project: .venv (Python) and node_modules (the CDK CLI).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_RUNTIME_PACKAGE_CACHE_ROOT := $(CURDIR)/.cache/jsii
export CDK_DISABLE_CLI_TELEMETRY := true
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install demo up bench test lint typecheck unit integration infrastructure e2e openapi diagrams synth deploy diff clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(BIN)/.installed node_modules/.installed ## Create .venv and node_modules from the pinned files

demo: install ## Local mode: submit a Bell pair offline and watch the task table record it
	$(BIN)/python -m local demo

up: install ## Local mode: keep the whole tracker running on 127.0.0.1 until Ctrl-C (FAULTS=1 for fault mode)
	$(BIN)/python -m local up $(if $(FAULTS),--faults)

bench: install ## Benchmarks, about 15 minutes (results in bench/results/, the cost model in bench/cost.md)
	$(BIN)/python -m bench.local_pipeline
	$(BIN)/python -m bench.polling_vs_tracker
	$(BIN)/python -m bench.burst
	$(BIN)/python -m bench.sdk_session
	$(BIN)/python -m bench.jobs_waiting
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.recorder_cost
	$(BIN)/python -m bench.query_cost
	$(BIN)/python -m bench.cost_model

lint: install ## ruff (lint and format check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install ## mypy over lambdas/, stacks/, local/, ops/, the client and docs/tools/
	$(BIN)/mypy lambdas/tracker
	$(BIN)/mypy stacks app.py
	$(BIN)/mypy local
	$(BIN)/mypy ops
	MYPYPATH=client $(BIN)/mypy -p braket_tracker
	$(BIN)/mypy docs/tools

test: lint typecheck ## The whole check: lint, types and every test suite
	$(BIN)/python -m pytest

unit: install ## Unit tests only (no network)
	$(BIN)/python -m pytest tests/unit tests/client

integration: install ## Integration tests (moto server on 127.0.0.1)
	$(BIN)/python -m pytest tests/integration

infrastructure: install ## CDK assertions, cdk-nag, cfn-lint
	$(BIN)/python -m pytest tests/infrastructure

e2e: install ## End-to-end tests in local mode
	$(BIN)/python -m pytest tests/e2e tests/local

openapi: install ## Regenerate docs/openapi.json from the Task API's routes
	PYTHONPATH=lambdas $(BIN)/python -m tracker.api.openapi > docs/openapi.json

diagrams: install ## Draw the docs' Mermaid diagrams to SVG in docs/img/ (needs Chromium; CI only checks they are current)
	$(BIN)/python docs/tools/diagrams.py render

synth: install ## Synthesize the CloudFormation template into cdk.out/
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk synth --quiet --no-notices

diff: install ## Compare with the deployed stack (needs AWS credentials)
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk diff --all --no-notices

deploy: install ## Deploy into the current AWS account and Region (needs credentials)
	PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk deploy --all --no-notices

clean: ## Remove build output and caches (keeps .venv and node_modules)
	rm -rf cdk.out .local .pytest_cache .mypy_cache .ruff_cache .hypothesis

.PHONY: backfill replay
backfill: install ## Import the tasks Braket already has: make backfill SINCE=2026-01-01 [REGIONS="eu-north-1 us-east-1"]
	@test -n "$(SINCE)" || { echo "usage: make backfill SINCE=2026-01-01 [REGIONS=\"eu-north-1 us-east-1\"]"; exit 2; }
	$(BIN)/python -m ops backfill --since $(SINCE) $(foreach region,$(REGIONS),--region $(region))

replay: install ## Move the events parked in the dead-letter queues back into the capture queue
	$(BIN)/python -m ops replay
