"""`make run`: the whole system on this machine, one OS process per part.

moto (the AWS emulator) -> redis-server -> provisioner (creates infra/template.yaml's resources)
-> the five services, each in a Lambda-like runner -> the WhatsApp simulator. Ctrl-C stops all.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from infra.local import ports
from infra.local.runner.config import API_HANDLER, ServiceConfig

ROOT = Path(__file__).resolve().parents[2]
DEMO_KB = Path(__file__).resolve().parent / "demo" / "kb"
DEMO_BUSINESS = "Northbridge University Admissions"


@dataclass
class StackPorts:
    moto: int = ports.MOTO
    redis: int = ports.REDIS
    simulator: int = ports.SIMULATOR
    services: dict[str, int] = field(default_factory=lambda: dict(ports.SERVICES))

    @classmethod
    def free(cls) -> StackPorts:
        """Free loopback ports for every part (tests, benchmarks)."""
        from infra.local.pytest_fixtures import free_port

        return cls(
            moto=free_port(),
            redis=free_port(),
            simulator=free_port(),
            services={s: free_port() for s in ports.SERVICES},
        )


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    command: list[str] = field(default_factory=list)


class DevStack:
    """Starts and stops the local runtime; also used by the end-to-end tests."""

    def __init__(self, stack_ports: StackPorts, run_dir: Path, stage: str = "local") -> None:
        self.ports = stack_ports
        self.run_dir = run_dir
        self.stage = stage
        self.children: list[Child] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports.moto}"

    @property
    def simulator_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.simulator}"

    def service_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports.services[service]}"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(ROOT),
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID="local",
            AWS_SECRET_ACCESS_KEY="local",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_REGION="us-east-1",
            REDIS_URL=f"redis://127.0.0.1:{self.ports.redis}/0",
            WHATSAPP_GRAPH_URL=self.simulator_url,
            TWILIO_API_URL=self.simulator_url,
            TWILIO_WEBHOOK_URL=f"{self.service_url('ingestion')}/webhooks/twilio",
            APPLICATION_STATUS_URL=f"{self.simulator_url}/_business/applications",
            CONTEXT_API_URL=self.service_url("context"),
            MEDIA_ALLOW_HTTP_HOSTS=json.dumps([f"127.0.0.1:{self.ports.simulator}"]),
            CONSOLE_URL=self.service_url("escalation"),
            PARLEY_STAGE=self.stage,
        )
        return env

    def child_environment(self, name: str) -> dict[str, str]:
        """`name`'s own variables on top of `environment()` (none here; benchmarks add some)."""
        return {}

    def start(self) -> None:
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._spawn(
            "moto",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.ports.moto)],
        )
        self._spawn(
            "redis",
            [
                _redis_server(),
                "--port",
                str(self.ports.redis),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )
        wait_for_port(self.ports.moto)
        wait_for_port(self.ports.redis)
        self._provision()
        self._point_crm_webhook_at_simulator()
        self._load_demo_knowledge_base()
        for service, port in self.ports.services.items():
            self._spawn(
                service,
                [
                    sys.executable,
                    "-m",
                    "infra.local.runner",
                    "--service-dir",
                    str(ROOT / "services" / service),
                    "--port",
                    str(port),
                    "--stage",
                    self.stage,
                ],
            )
        webhook = f"{self.service_url('ingestion')}/webhooks/meta"
        self._spawn(
            "simulator",
            [
                sys.executable,
                "-m",
                "infra.local.simulator",
                "--port",
                str(self.ports.simulator),
                "--webhook-url",
                webhook,
                "--business-name",
                DEMO_BUSINESS,
            ],
        )
        for service in self.ports.services:
            wait_for_http(f"{self.service_url(service)}/health", self.check_alive)
        wait_for_http(self.simulator_url + "/", self.check_alive)

    def health(self) -> dict[str, dict[str, object]]:
        """Each service's detailed health (`/health/details`, behind the local API key)."""
        return {
            s: fetch_json(f"{self.service_url(s)}/health/details", {"x-api-key": self.api_key(s)})
            for s in self.ports.services
        }

    def api_key(self, service: str) -> str:
        """The local stage's API_KEY of `service` (its .chalice/config.json)."""
        config = ServiceConfig(ROOT / "services" / service, "local")
        return config.function(API_HANDLER).environment.get("API_KEY", "")

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        for child in reversed(self.children):
            try:
                child.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
            child.log.close()
        self.children.clear()

    def kill(self, name: str) -> None:
        """SIGKILL one part (a crash: no clean stop, in-flight work abandoned) and reap it."""
        child = self._child(name)
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGKILL)
        child.process.wait()

    def restart(self, name: str, environment: dict[str, str] | None = None) -> None:
        """Start part `name` again (killed first if it still runs) with its command, plus
        `environment` on top of its usual variables; returns once it answers."""
        child = self._child(name)
        self.kill(name)
        child.log.close()
        place = self.children.index(child)
        self.children.remove(child)
        self._spawn(name, child.command, environment)
        self.children.insert(place, self.children.pop())  # `stop` keeps the start order
        if name == "redis":
            wait_for_port(self.ports.redis)
        elif name == "moto":
            wait_for_port(self.ports.moto)
        elif name == "simulator":
            wait_for_http(self.simulator_url + "/", self.check_alive)
        else:
            wait_for_http(f"{self.service_url(name)}/health", self.check_alive)

    def _child(self, name: str) -> Child:
        for child in self.children:
            if child.name == name:
                return child
        raise KeyError(f"no part named {name!r} in this stack")

    def _spawn(
        self, name: str, command: list[str], environment: dict[str, str] | None = None
    ) -> None:
        log = (self.run_dir / "logs" / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.environment() | self.child_environment(name) | (environment or {}),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.children.append(Child(name, process, log, command))

    def check_alive(self) -> None:
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                log = self.run_dir / "logs" / f"{child.name}.log"
                raise RuntimeError(f"{child.name} exited with code {code}; see {log}")

    def _provision(self) -> None:
        output = self.run_dir / "resources.json"
        log = self.run_dir / "logs" / "provisioner.log"
        with log.open("ab") as sink:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "infra.local.provisioner",
                    "--stage",
                    self.stage,
                    "--endpoint",
                    self.endpoint,
                    "--output",
                    str(output),
                ],
                cwd=ROOT,
                env=self.environment(),
                check=True,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def client(self, service: str) -> Any:
        """A boto3 client of this stack's AWS emulator."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def _point_crm_webhook_at_simulator(self) -> None:
        """The development CRM secret names the simulator on its `make run` port; a stack on other
        ports (tests, benchmarks) gets its own simulator's receiver."""
        sm, name = self.client("secretsmanager"), f"parley/{self.stage}/crm"
        value = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
        if value.get("provider") == "webhook":
            value["webhook_url"] = f"{self.simulator_url}/_crm/cases"
            sm.put_secret_value(SecretId=name, SecretString=json.dumps(value))

    def _load_demo_knowledge_base(self) -> None:
        s3 = self.client("s3")
        bucket = f"parley-{self.stage}-knowledge-base"
        for document in sorted(DEMO_KB.glob("*.md")):
            s3.upload_file(
                str(document),
                bucket,
                f"demo/{document.name}",
                ExtraArgs={"ContentType": "text/markdown"},
            )


def _redis_server() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is missing: `make run` installs it (infra/local/setup.sh)")
    return binary


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f} s")


def wait_for_http(url: str, alive: Callable[[], None] | None = None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None:
            alive()
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers; an unhealthy 503 is reported by the caller
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def fetch_json(url: str, headers: dict[str, str] | None = None) -> dict[str, object]:
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as error:
        return dict(json.load(error))


def _print_banner(stack: DevStack) -> None:
    print("\nParley is running locally.\n")
    print(f"  Chat (WhatsApp simulator):  {stack.simulator_url}/")
    print(f"  Agent console:              {stack.service_url('escalation')}/console")
    for service in stack.ports.services:
        print(f"  {service:<27} {stack.service_url(service)}/health/details")
    print(f"  AWS emulator (moto):        {stack.endpoint}")
    print(f"  Redis:                      redis://127.0.0.1:{stack.ports.redis}/0")
    print(f"  Logs:                       {stack.run_dir / 'logs'}/<part>.log")
    print("\nPress Ctrl-C to stop everything.\n", flush=True)


def _print_health(stack: DevStack) -> bool:
    healthy = True
    for service, report in stack.health().items():
        deps = report.get("dependencies")
        deps = deps if isinstance(deps, list) else []
        down = [d["name"] for d in deps if isinstance(d, dict) and not d.get("reachable")]
        healthy = healthy and not down
        state = "all dependencies reachable" if not down else f"UNREACHABLE: {', '.join(down)}"
        print(f"  {service:<14} {len(deps)} dependencies, {state}")
    return healthy


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # same clean shutdown as Ctrl-C


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.devstack", description=__doc__)
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".run")
    args = parser.parse_args(argv)
    stack = DevStack(StackPorts(), args.run_dir)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        print("Starting moto, redis-server, the five services and the WhatsApp simulator...")
        stack.start()
        _print_health(stack)
        _print_banner(stack)
        while True:
            time.sleep(1)
            stack.check_alive()
    except KeyboardInterrupt:
        print("\nStopping...")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not abort the stop
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
