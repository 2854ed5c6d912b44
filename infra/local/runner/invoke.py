"""Calling a handler as Lambda does: a context object, a timeout, an outcome."""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.local.runner.config import FunctionSettings

Handler = Callable[[dict[str, Any], Any], Any]


def function_arn(settings: FunctionSettings, region: str, account: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{settings.function_name}"


class LambdaContext:
    """The attributes and method of the Python Lambda runtime's context object."""

    def __init__(self, settings: FunctionSettings, region: str, account: str) -> None:
        self.function_name = settings.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn(settings, region, account)
        self.memory_limit_in_mb = settings.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{settings.function_name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + settings.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class Outcome:
    """How one invocation ended."""

    ok: bool
    result: Any = None
    error: str | None = None
    timed_out: bool = False
    duration_ms: float = 0.0
    request_id: str = ""
    trace: str | None = None


class Invoker:
    """Runs a handler in its own thread and waits at most the function's timeout."""

    def __init__(
        self, handler: Handler, settings: FunctionSettings, region: str, account: str
    ) -> None:
        self.handler = handler
        self.settings = settings
        self._region = region
        self._account = account

    @property
    def function_arn(self) -> str:
        return function_arn(self.settings, self._region, self._account)

    def invoke(self, event: dict[str, Any]) -> Outcome:
        context = LambdaContext(self.settings, self._region, self._account)
        box: dict[str, Any] = {}
        started = time.monotonic()
        worker = threading.Thread(
            target=self._run,
            args=(event, context, box),
            name=f"invoke-{self.settings.handler}",
            daemon=True,
        )
        worker.start()
        worker.join(self.settings.timeout_seconds)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        if worker.is_alive():
            error = f"Task timed out after {self.settings.timeout_seconds}.00 seconds"
            return Outcome(False, None, error, True, duration_ms, context.aws_request_id)
        return Outcome(
            ok="error" not in box,
            result=box.get("result"),
            error=box.get("error"),
            duration_ms=duration_ms,
            request_id=context.aws_request_id,
            trace=box.get("traceback"),
        )

    def _run(self, event: dict[str, Any], context: LambdaContext, box: dict[str, Any]) -> None:
        try:
            box["result"] = self.handler(event, context)
        except BaseException as exc:  # Lambda reports any error of the handler
            box["error"] = f"{type(exc).__name__}: {exc}"
            box["traceback"] = traceback.format_exc(limit=5)
