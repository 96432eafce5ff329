# rcs-testers: every entry point sets up what it needs on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# Exact versions of everything this repository runs with; pyproject.toml holds only ranges.
LOCK := requirements/lock.txt
# The lowest versions pyproject.toml allows (runtime requirements at their lower bounds).
LOWEST_LOCK := requirements/lowest.txt
LOWEST_VENV := .venv-lowest
# uv alone, pinned with its hashes (make lock copies its entry from the lock): the first install.
BOOTSTRAP := requirements/bootstrap.txt
# The policy pack's own virtualenv: its requirements compiled against the lock.
POLICY_IN := policy/requirements.in
POLICY_LOCK := policy/requirements.txt
# What the pack shares with the program, at the lock's versions (a regular expression of names).
# The rest of its tree is resolved for the pack alone (pulumi-policy pins its own protobuf line).
POLICY_SHARED := pulumi|phonenumbers
POLICY_STAMP := policy/venv/.installed-$(shell sha256sum $(POLICY_LOCK) | cut -c1-12)
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | sha256sum | cut -c1-12)
LOWEST_STAMP := $(LOWEST_VENV)/.installed-$(shell cat pyproject.toml $(LOWEST_LOCK) | sha256sum | cut -c1-12)
# One resolution for every platform and Python >= 3.11 (the lock is read on CI and laptops alike),
# each package with the hashes of all its files: installs check them (--require-hashes).
UV_COMPILE = $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade)
COMPILE = $(UV_COMPILE) pyproject.toml
# Installs from the lock are hash-checked; the project itself is local source, built with the
# lock's setuptools (no build isolation, which would fetch an unpinned setuptools).
SYNC = $(UV) pip sync --quiet --require-hashes
# The project and the dev tooling (devtools/: tests, bench and the demo import it; never in the wheel).
INSTALL_PROJECT = $(UV) pip install --quiet --no-deps --no-build-isolation -e . -e devtools
# The lowest file re-resolves the install requirements each time (a pin kept from an earlier
# run would hide a moved lower bound); the rest keep their pins like the lock.
LOWER_BOUNDS_AFRESH = $(shell $(PYTHON) -c 'import re, tomllib; \
	project = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	print(*("-P " + re.match(r"[A-Za-z0-9._-]+", r)[0] for r in project["dependencies"]))')
ENGINE_ENV = eval "$$(scripts/engine-env)"
BACKEND ?= file

.PHONY: help venv engine engine-upgrade demo test test-unit test-lowest test-sandbox test-e2e \
	test-reliability test-backends lint typecheck lock sandbox bench bench-backends clean policy-venv

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# uv itself comes from the lock (the dev extra) and is bootstrapped with pip the first time,
# from requirements/bootstrap.txt: uv's pin and hashes, copied from the lock by `make lock`.
$(UV):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r $(BOOTSTRAP)

$(STAMP): pyproject.toml $(LOCK) | $(UV)
	@echo "venv: syncing $(VENV) with $(LOCK)"
	@$(SYNC) --python $(PY) $(LOCK)
	@$(INSTALL_PROJECT) --python $(PY)
	@rm -f $(VENV)/.installed-*; touch $@

$(LOWEST_STAMP): pyproject.toml $(LOWEST_LOCK) | $(UV)
	@echo "venv: syncing $(LOWEST_VENV) with $(LOWEST_LOCK)"
	@test -x $(LOWEST_VENV)/bin/python || $(PYTHON) -m venv --without-pip $(LOWEST_VENV)
	@$(SYNC) --python $(LOWEST_VENV)/bin/python $(LOWEST_LOCK)
	@$(INSTALL_PROJECT) --python $(LOWEST_VENV)/bin/python
	@rm -f $(LOWEST_VENV)/.installed-*; touch $@

venv: $(STAMP) ## create .venv: the package and devtools/ (editable), its extras (dev, sandbox, backends) at the exact versions of requirements/lock.txt

lock: $(UV) ## re-resolve requirements/*.txt and policy/requirements.txt, with hashes (UPGRADE=1: newest allowed)
	@$(COMPILE) --all-extras -o $(LOCK)
	@$(COMPILE) --extra dev --resolution lowest-direct $(LOWER_BOUNDS_AFRESH) -o $(LOWEST_LOCK)
	@{ echo "# uv alone, with its hashes: what \`make venv\` installs first (pip --require-hashes)."; \
		echo "# Copied from $(LOCK) by \`make lock\`."; \
		sed -n '/^uv==/,/^    #/p' $(LOCK) | sed '$$d'; } >$(BOOTSTRAP)
	@$(UV_COMPILE) $(POLICY_IN) -o $(POLICY_LOCK) --constraint <(sed -n -E \
		's/^(($(POLICY_SHARED))==[^ ;]+).*/\1/p' $(LOCK))
	@sed -i 's|-c /dev/fd/[0-9]*|-c $(LOCK)|' $(POLICY_LOCK)
	@echo "lock: $(LOCK), $(LOWEST_LOCK), $(BOOTSTRAP) and $(POLICY_LOCK) are up to date"

engine: ## build (once) or reuse the Pulumi engine in ~/.cache/rcs-testers
	@scripts/bootstrap-engine >/dev/null

# The engine's release: scripts/engine-common, engine/go.mod and engine/go.sum move together.
engine-upgrade: ## move the engine to another Pulumi release: make engine-upgrade VERSION=3.277.0
	@test -n "$(VERSION)" || { echo "engine-upgrade: give the release: make engine-upgrade VERSION=3.x.y" >&2; exit 2; }
	@scripts/upgrade-engine $(VERSION)

demo: venv engine ## the main job: sandbox + file backend + pulumi up (BACKEND=postgres: throw-away PostgreSQL)
	@$(ENGINE_ENV); $(PY) scripts/demo.py --backend $(BACKEND)

# Test processes in parallel (pytest-xdist): most of a test's time is spent waiting on the
# engine's subprocesses and loopback HTTP, so more workers than cores still shortens the run.
PYTEST_WORKERS ?= 4
PARALLEL = -n $(PYTEST_WORKERS) --dist worksteal

test: venv engine lint typecheck test-lowest ## everything: lint, types, lowest versions, unit, sandbox, e2e, reliability, backends
	@$(ENGINE_ENV); scripts/run-pytest tests $(PARALLEL) --cov=rcs_provider --cov-report=term \
		--cov-fail-under=90

test-unit: venv ## unit tests only (no network, no engine)
	@scripts/run-pytest tests/unit

test-lowest: $(LOWEST_STAMP) ## unit tests against the lowest versions pyproject.toml allows
	@PYTEST_VENV=$(LOWEST_VENV) scripts/run-pytest tests/unit -q -p no:cacheprovider $(PARALLEL)

test-sandbox: venv ## sandbox tests (loopback HTTP)
	@scripts/run-pytest tests/sandbox

# The pack's pins are installed hash-checked, and nothing else: `pulumi install` in policy/ would
# check the same hashes, but first upgrades pip, setuptools and wheel unpinned.
$(POLICY_STAMP): $(POLICY_LOCK)
	@echo "policy-venv: installing the policy pack's dependencies into policy/venv (hash-checked)"
	@rm -rf policy/venv && $(PYTHON) -m venv policy/venv
	@policy/venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r $(POLICY_LOCK)
	@touch $@

policy-venv: $(POLICY_STAMP) ## create the policy pack's own virtualenv (policy/venv) from policy/requirements.txt

test-e2e: venv engine ## real-engine end-to-end tests
	@$(ENGINE_ENV); scripts/run-pytest tests/e2e $(PARALLEL)

test-reliability: venv engine ## the long fault, crash and quota runs only
	@$(ENGINE_ENV); scripts/run-pytest tests/reliability -m reliability $(PARALLEL)

test-backends: venv engine ## team state backends (file, PostgreSQL, S3) on real local servers
	@$(ENGINE_ENV); scripts/run-pytest tests/backends -m backends $(PARALLEL)

# The workflows: actionlint (with shellcheck on their run: scripts; built from Go modules the
# first time, see scripts/bootstrap-actionlint) and zizmor's security audits, offline (zizmor
# reads .github/dependabot.yml too).
WORKFLOWS := .github/workflows

lint: venv ## ruff format --check, ruff check; actionlint and zizmor --offline on .github/workflows
	@$(VENV)/bin/ruff format --check --quiet rcs_provider devtools tests bench scripts policy __main__.py
	@$(VENV)/bin/ruff check --quiet rcs_provider devtools tests bench scripts policy __main__.py
	@"$$(scripts/bootstrap-actionlint)" -shellcheck $(VENV)/bin/shellcheck $(WORKFLOWS)/*.yml
	@$(VENV)/bin/zizmor --offline --quiet --no-progress .

typecheck: venv ## mypy --strict on the package
	@$(VENV)/bin/mypy

# Flags for `make sandbox`, passed as they are: make sandbox ARGS='--latency-ms 300'
ARGS ?=

sandbox: venv ## serve the sandbox on 127.0.0.1:8766, db .sandbox/kaleyra.db; flags: ARGS='--latency-ms 300'
	$(PY) -m rcs_provider.sandbox $(ARGS)

bench: venv engine ## benchmarks (never part of make test); writes bench/RESULTS.md
	@$(ENGINE_ENV); $(PY) bench/run.py

bench-backends: venv engine ## per-backend timings of up / no-op up (never part of make test)
	@$(ENGINE_ENV); $(PY) bench/backends.py

clean: ## remove the venv, local state and caches (the engine cache stays)
	rm -rf $(VENV) $(LOWEST_VENV) .pulumi-state .sandbox .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
