"""Platform and cross-service tests: shared fixtures come from infra/local/pytest_fixtures.py."""

pytest_plugins = ["infra.local.pytest_fixtures"]
