"""This service keeps the platform's service contract (infra/local/service_contract.py)."""

from infra.local.service_contract import *  # noqa: F403 - the shared contract tests and fixtures
