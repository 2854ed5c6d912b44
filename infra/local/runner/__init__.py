"""The Lambda-like runner of the local runtime: one process per service, as on Lambda.

    python -m infra.local.runner --service-dir services/ingestion --port 8001 --stage local

or in-process: `ServiceRunner("services/ingestion", stage="local", port=8001).start()`.
"""

from infra.local.runner.service import RunnerOptions, ServiceRunner

__all__ = ["RunnerOptions", "ServiceRunner"]
