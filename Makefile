# Parley: `make run` starts the whole system locally; `make test` runs every test suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help
SERVICES := ingestion ai_processing context media escalation
VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python
STAGE ?= dev
PREFIX ?= parley
QUEUE ?=
export PYTHONPATH := $(CURDIR)
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help setup run test test-services test-platform lint lock package deploy deploy-local bench redrive clean

help:
	@echo "make run      start the whole system locally (moto, redis, 5 services, WhatsApp simulator)"
	@echo "make test     install what is missing, then lint and run every test suite"
	@echo "make lint     ruff, mypy, cfn-lint"
	@echo "make lock     resolve the services' requirements.in into one lock (needs the index)"
	@echo "make package  chalice package every service into build/ (STAGE=$(STAGE))"
	@echo "make deploy   deploy to AWS (STAGE=dev|prod; needs AWS credentials)"
	@echo "make bench    benchmarks (cold start, ...)"
	@echo "make redrive QUEUE=turns   move a queue's DLQ messages back to it (local runtime)"

setup:
	@bash infra/local/setup.sh

run: setup
	@$(PY) -m infra.local.devstack

test: setup lint test-services test-platform

# One pytest process per service: every app is module `app` (see docs in README).
test-services:
	@set -e; for s in $(SERVICES); do \
		echo "== services/$$s"; \
		(cd services/$$s && $(PY) -m pytest -q -p no:cacheprovider tests); \
	done

test-platform:
	@echo "== tests (platform and cross-service)"
	@$(PY) -m pytest -q -p no:cacheprovider tests

lint: setup
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy libs/common/parley infra
	@set -e; for s in $(SERVICES); do (cd services/$$s && $(PY) -m mypy app.py chalicelib); done
	@$(VENV)/bin/cfn-lint infra/template.yaml

# Every service's packaged requirements.txt is its part of infra/requirements.lock (hashes too);
# `make test` checks they are current (tests/packaging/test_lock.py), offline.
lock: setup
	@$(PY) -m infra.lock

package: setup
	@$(PY) -m infra.package --stage $(STAGE) --out build

deploy: setup
	@bash infra/deploy.sh $(STAGE) $(PREFIX)

# deploy.sh's steps (write-config, chalice deploy, fix-event-sources) on the local AWS emulator,
# in a copy of the sources; then the deployed wiring is read back and checked.
deploy-local: setup
	@$(PY) -m infra.local.deploy_local --stage $(STAGE)

BENCHES ?= cold_start webhook sender context knowledge escalation media quality faults turns

# Benchmarks print figures; they are never timed tests. Each starts what it needs (moto, redis).
bench: setup
	@set -e; for b in $(BENCHES); do \
		if [ -f tests/bench/$$b.py ]; then echo "== bench: $$b"; $(PY) -m tests.bench.$$b; fi; \
	done

redrive: setup
	@test -n "$(QUEUE)" || (echo "usage: make redrive QUEUE=turns|media|outbound|context|escalation|kb-events" && exit 2)
	@$(PY) -m infra.local.redrive --queue $(QUEUE) --stage local

clean:
	rm -rf build .run
