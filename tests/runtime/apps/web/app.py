"""Test app: HTTP routes that show which configuration the process got."""

from __future__ import annotations

import os
from typing import Any

from chalice import Chalice

# Read at import time on purpose: the runner must set the variables before importing the app.
IMPORT_TIME_STAGE_VAR = os.environ.get("RT_STAGE_VAR")

app = Chalice(app_name="rt-web")


@app.route("/hello")
def hello() -> dict[str, Any]:
    return {
        "import_time_stage_var": IMPORT_TIME_STAGE_VAR,
        "global_var": os.environ.get("RT_GLOBAL_VAR"),
        "override": os.environ.get("RT_OVERRIDE"),
        "function_name": app.lambda_context.function_name if app.lambda_context else None,
    }


@app.route("/items/{item_id}", methods=["POST"])
def create_item(item_id: str) -> dict[str, Any]:
    body = app.current_request.json_body or {}
    return {"id": item_id, "body": body}
