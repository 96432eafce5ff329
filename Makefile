# rcs-testers: every entry point sets up what it needs on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
ENGINE_ENV = eval "$$(scripts/engine-env)"
BACKEND ?= file

.PHONY: help venv engine demo test test-unit test-sandbox test-e2e test-reliability test-backends \
	lint typecheck sandbox bench bench-backends clean policy-venv

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "venv: installing rcs-testers[dev] into $(VENV)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP) ## create .venv and install the package with its dev, sandbox and backends extras

engine: ## build (once) or reuse the Pulumi engine in ~/.cache/rcs-testers
	@scripts/bootstrap-engine >/dev/null

demo: venv engine ## the main job: sandbox + file backend + pulumi up (BACKEND=postgres: throw-away PostgreSQL)
	@$(ENGINE_ENV); $(PY) scripts/demo.py --backend $(BACKEND)

# Test processes in parallel (pytest-xdist): most of a test's time is spent waiting on the
# engine's subprocesses and loopback HTTP, so more workers than cores still shortens the run.
PYTEST_WORKERS ?= 4
PARALLEL = -n $(PYTEST_WORKERS) --dist worksteal

test: venv engine lint typecheck ## everything: lint, types, unit, sandbox, e2e, reliability, backends
	@$(ENGINE_ENV); scripts/run-pytest tests $(PARALLEL) --cov=rcs_provider --cov-report=term \
		--cov-fail-under=90

test-unit: venv ## unit tests only (no network, no engine)
	@scripts/run-pytest tests/unit

test-sandbox: venv ## sandbox tests (loopback HTTP)
	@scripts/run-pytest tests/sandbox

policy-venv: engine ## create the policy pack's own virtualenv (policy/venv) with `pulumi install`
	@$(ENGINE_ENV); cd policy && pulumi install && touch venv/.installed-$$(sha256sum requirements.txt | cut -c1-12)

test-e2e: venv engine ## real-engine end-to-end tests
	@$(ENGINE_ENV); scripts/run-pytest tests/e2e $(PARALLEL)

test-reliability: venv engine ## the long fault, crash and quota runs only
	@$(ENGINE_ENV); scripts/run-pytest tests/reliability -m reliability $(PARALLEL)

test-backends: venv engine ## team state backends (file, PostgreSQL, S3) on real local servers
	@$(ENGINE_ENV); scripts/run-pytest tests/backends -m backends $(PARALLEL)

lint: venv ## ruff format --check and ruff check
	@$(VENV)/bin/ruff format --check --quiet rcs_provider tests bench scripts policy __main__.py
	@$(VENV)/bin/ruff check --quiet rcs_provider tests bench scripts policy __main__.py

typecheck: venv ## mypy --strict on the package
	@$(VENV)/bin/mypy

sandbox: venv ## serve the local Kaleyra-compatible sandbox on 127.0.0.1:8766
	@$(PY) -m rcs_provider.sandbox

bench: venv engine ## benchmarks (never part of make test); writes bench/RESULTS.md
	@$(ENGINE_ENV); $(PY) bench/run.py

bench-backends: venv engine ## per-backend timings of up / no-op up (never part of make test)
	@$(ENGINE_ENV); $(PY) bench/backends.py

clean: ## remove the venv, local state and caches (the engine cache stays)
	rm -rf $(VENV) .pulumi-state .sandbox .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
