"""`ServiceRunner`: one Chalice app run as it would be on Lambda (HTTP routes and event sources)."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from chalice.app import (
    S3EventConfig,
    ScheduledEventConfig,
    ScheduleExpression,
    SNSEventConfig,
    SQSEventConfig,
)
from chalice.local import LocalDevServer, create_local_server

from infra.deploy_config import on_failure_queue
from infra.local.runner import notifications
from infra.local.runner.aws import Clients, QueueInfo, account_id, default_region
from infra.local.runner.config import ServiceConfig, apply_environment, import_app
from infra.local.runner.invoke import Invoker
from infra.local.runner.logs import JsonLog, TextSink
from infra.local.runner.poller import PollSettings, Processor, QueuePoller
from infra.local.runner.schedule import ScaledClock, ScheduleThread, parse_schedule, scheduled_event
from infra.local.runner.sqs_source import SqsDispatcher

LOCAL_ACCOUNT = "123456789012"


@dataclass(frozen=True)
class RunnerOptions:
    pollers: int = 3
    """Poller threads per queue (Lambda's concurrency), capped by `maximum_concurrency`."""
    poll_wait_seconds: int = 2
    time_scale: float = 1.0
    host: str = "127.0.0.1"
    stop_grace_seconds: float = 30.0
    async_max_attempts: int = notifications.ASYNC_MAX_ATTEMPTS
    report_batch_item_failures: bool = True
    """Whether SQS event sources have `FunctionResponseTypes: [ReportBatchItemFailures]` (what the
    deploy configures). Without it Lambda ignores a returned `batchItemFailures`."""
    report_batch_item_failures_by_queue: Mapping[str, bool] = field(default_factory=dict)
    """Per queue name (or ARN), overriding `report_batch_item_failures`."""

    def reports_batch_item_failures(self, queue: str) -> bool:
        """The setting for one queue (name or ARN)."""
        name = queue.rsplit(":", 1)[-1]
        for key, on in self.report_batch_item_failures_by_queue.items():
            if key.rsplit(":", 1)[-1] == name:
                return on
        return self.report_batch_item_failures


class ServiceRunner:
    """Serves the app's routes on `port` (None: no HTTP) and drives its event sources."""

    def __init__(
        self,
        service_dir: str | Path,
        stage: str = "local",
        port: int | None = None,
        options: RunnerOptions | None = None,
        log_stream: TextSink | None = None,
    ) -> None:
        self.service_dir = Path(service_dir)
        self.stage = stage
        self.options = options or RunnerOptions()
        self.config = ServiceConfig(self.service_dir, stage)
        self.log = JsonLog(self.service_dir.name, log_stream)
        self.clients = Clients()
        self.app: Any = None
        self.module: ModuleType | None = None
        self._requested_port = port
        self._http: LocalDevServer | None = None
        self._http_thread: threading.Thread | None = None
        self._pollers: list[QueuePoller] = []
        self._schedules: list[ScheduleThread] = []
        self._account = LOCAL_ACCOUNT
        self._added_env: list[str] = []

    @property
    def port(self) -> int | None:
        """The bound HTTP port (useful with port 0)."""
        return int(self._http.server.server_address[1]) if self._http else None

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.port}"

    def start(self) -> ServiceRunner:
        env, warnings = self.config.process_environment()
        self._added_env = apply_environment(env)
        for warning in warnings:
            self.log.warning("environment conflict", detail=warning)
        self.app, self.module = import_app(self.service_dir)
        self._account = self._lookup_account()
        if self._requested_port is not None:
            self._start_http(self._requested_port)
        for source in self.app.event_sources:
            self._start_source(source)
        self.log.info(
            "service started",
            stage=self.stage,
            port=self.port,
            event_sources=len(self.app.event_sources),
        )
        return self

    def stop(self, timeout: float | None = None) -> bool:
        """Stop polling, let in-flight invocations finish (bounded); True if all ended in time."""
        grace = self.options.stop_grace_seconds if timeout is None else timeout
        deadline = time.monotonic() + grace
        workers: list[QueuePoller | ScheduleThread] = [*self._pollers, *self._schedules]
        for worker in workers:
            worker.stop()
        if self._http is not None:
            self._http.server.shutdown()
            self._http.server.server_close()
        clean = all([worker.join(deadline) for worker in workers])
        self.log.info("service stopped", clean=clean)
        self._pollers, self._schedules, self._http = [], [], None
        return clean

    def restore_environment(self) -> None:
        """Remove the variables `start` added from the config (tests running several apps)."""
        import os

        for key in self._added_env:
            os.environ.pop(key, None)
        self._added_env = []

    def __enter__(self) -> ServiceRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.restore_environment()

    def _lookup_account(self) -> str:
        try:
            return account_id(self.clients)
        except Exception as exc:  # only used to build ARNs in context objects
            self.log.warning("account id unavailable", error=repr(exc))
            return LOCAL_ACCOUNT

    def _start_http(self, port: int) -> None:
        chalice_config = self.config.chalice_config()
        self._http = create_local_server(self.app, chalice_config, self.options.host, port)
        server = self._http.server
        self._http_thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
        self._http_thread.start()

    def _invoker(self, handler: str) -> Invoker:
        settings = self.config.function(handler)
        return Invoker(self.app.handler_map[handler], settings, default_region(), self._account)

    def _start_source(self, source: Any) -> None:
        if isinstance(source, SQSEventConfig):
            self._start_sqs(source)
        elif isinstance(source, SNSEventConfig):
            self._start_sns(source)
        elif isinstance(source, S3EventConfig):
            self._start_s3(source)
        elif isinstance(source, ScheduledEventConfig):
            self._start_schedule(source)
        else:
            self.log.warning(
                "event source not supported locally",
                handler=source.name,
                kind=type(source).__name__,
            )

    def _start_sqs(self, source: SQSEventConfig) -> None:
        pollers = self.options.pollers
        if source.maximum_concurrency:
            pollers = min(pollers, source.maximum_concurrency)
        settings = PollSettings(
            batch_size=source.batch_size,
            window_seconds=float(source.maximum_batching_window_in_seconds or 0),
            pollers=max(1, pollers),
            wait_seconds=self.options.poll_wait_seconds,
        )
        queue = source.queue_arn or source.queue or ""
        reports = self.options.reports_batch_item_failures(queue)
        dispatcher = SqsDispatcher(self.clients, self._invoker(source.name), self.log, reports)
        self._add_poller(
            queue, settings, dispatcher, source.name, "aws:sqs", queue, batch_item_failures=reports
        )

    def _start_sns(self, source: SNSEventConfig) -> None:
        invoker = self._invoker(source.name)
        settings = invoker.settings
        setup = notifications.SnsSetup(
            self.clients, source.topic, settings.function_name, settings.timeout_seconds
        )
        on_failure = notifications.OnFailureDestination(
            self.clients, on_failure_queue(source.topic)
        )
        dispatcher = notifications.AsyncDispatcher(
            self.clients,
            invoker,
            self.log,
            notifications.sns_events(lambda: setup.subscription_arn),
            "aws:sns",
            self.options.async_max_attempts,
            on_failure,
        )
        queue, name = self._eager(setup, source.name)
        self._add_poller(
            queue,
            self._async_settings(),
            dispatcher,
            source.name,
            "aws:sns",
            name,
            on_failure=on_failure.name,
        )

    def _start_s3(self, source: S3EventConfig) -> None:
        invoker = self._invoker(source.name)
        filters = notifications.s3_notification(source.events, source.prefix, source.suffix)
        setup = functools.partial(
            notifications.setup_s3,
            self.clients,
            source.bucket,
            filters,
            invoker.settings.function_name,
            invoker.settings.timeout_seconds,
        )
        dispatcher = notifications.AsyncDispatcher(
            self.clients,
            invoker,
            self.log,
            notifications.s3_events,
            "aws:s3",
            self.options.async_max_attempts,
        )
        queue, name = self._eager(setup, source.name)
        self._add_poller(queue, self._async_settings(), dispatcher, source.name, "aws:s3", name)

    def _eager(
        self, setup: Callable[[], QueueInfo], handler: str
    ) -> tuple[Callable[[], QueueInfo], str | None]:
        """Run an idempotent setup now: (queue getter, queue name). If it fails (the topic or
        bucket is not provisioned yet) the poller retries it in the background."""
        try:
            queue = setup()
        except Exception as exc:
            self.log.warning(
                "event source setup failed, retrying", handler=handler, error=repr(exc)
            )
            return setup, None
        return (lambda: queue), queue.name

    def _async_settings(self) -> PollSettings:
        return PollSettings(
            batch_size=10, pollers=self.options.pollers, wait_seconds=self.options.poll_wait_seconds
        )

    def _add_poller(
        self,
        queue: str | Callable[[], QueueInfo],
        settings: PollSettings,
        dispatcher: Processor,
        handler: str,
        kind: str,
        name: str | None,
        **details: Any,
    ) -> None:
        poller = QueuePoller(self.clients, queue, settings, dispatcher, self.log, handler)
        poller.start()
        self._pollers.append(poller)
        self.log.info(
            "event source started", handler=handler, event_source=kind, queue=name, **details
        )

    def _start_schedule(self, source: ScheduledEventConfig) -> None:
        expression = source.schedule_expression
        if isinstance(expression, ScheduleExpression):
            expression = expression.to_string()
        try:
            schedule = parse_schedule(expression)
        except ValueError as exc:
            self.log.error("schedule not started", handler=source.name, error=str(exc))
            return
        invoker = self._invoker(source.name)
        region = default_region()
        rule_arn = f"arn:aws:events:{region}:{self._account}:rule/{invoker.settings.function_name}"

        def fire(moment: datetime) -> None:
            outcome = invoker.invoke(scheduled_event(rule_arn, self._account, region, moment))
            status = "success" if outcome.ok else ("timeout" if outcome.timed_out else "error")
            log = self.log.info if outcome.ok else self.log.warning
            log(
                "invocation",
                handler=source.name,
                event_source="aws.events",
                outcome=status,
                duration_ms=outcome.duration_ms,
                request_id=outcome.request_id,
                error=outcome.error,
                traceback=outcome.trace,
            )

        thread = ScheduleThread(schedule, ScaledClock(self.options.time_scale), fire, source.name)
        thread.start()
        self._schedules.append(thread)
        self.log.info(
            "event source started",
            handler=source.name,
            event_source="aws.events",
            schedule=expression,
            time_scale=self.options.time_scale,
        )
