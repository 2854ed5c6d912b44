"""A service's `.chalice/config.json` read the way `chalice deploy` reads it, and app loading."""

from __future__ import annotations

import importlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from chalice.config import Config

API_HANDLER = "api_handler"
DEFAULT_TIMEOUT_SECONDS = 60
DEFAULT_MEMORY_MB = 128
_APP_MODULES = ("app", "chalicelib")
_inserted_paths: list[str] = []


@dataclass(frozen=True)
class FunctionSettings:
    """What Lambda would configure for one function of the app."""

    handler: str
    function_name: str
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str] = field(default_factory=dict)


class ServiceConfig:
    """The stage's view of one Chalice project directory."""

    def __init__(self, service_dir: Path, stage: str) -> None:
        self.service_dir = service_dir
        self.stage = stage
        config_file = service_dir / ".chalice" / "config.json"
        self.raw: dict[str, Any] = (
            json.loads(config_file.read_text()) if config_file.exists() else {}
        )
        self.app_name: str = self.raw.get("app_name") or service_dir.name

    def chalice_config(self, function: str = API_HANDLER) -> Config:
        return Config(
            chalice_stage=self.stage,
            function_name=function,
            user_provided_params={"project_dir": str(self.service_dir)},
            config_from_disk=self.raw,
        )

    def function(self, handler: str) -> FunctionSettings:
        """Timeout, memory and environment of `handler` (global, stage, per-function)."""
        config = self.chalice_config(handler)
        return FunctionSettings(
            handler=handler,
            function_name=f"{self.app_name}-{self.stage}-{handler}",
            timeout_seconds=int(config.lambda_timeout or DEFAULT_TIMEOUT_SECONDS),
            memory_mb=int(config.lambda_memory_size or DEFAULT_MEMORY_MB),
            environment={k: str(v) for k, v in config.environment_variables.items()},
        )

    def process_environment(self) -> tuple[dict[str, str], list[str]]:
        """Variables for the whole process, and warnings about per-function conflicts.

        One process hosts every function of the app, so it gets the API handler's variables plus
        each other function's own variables; a per-function value that conflicts is reported.
        """
        env = self.function(API_HANDLER).environment
        warnings: list[str] = []
        for name in self._configured_functions():
            for key, value in self.function(name).environment.items():
                if key not in env:
                    env[key] = value
                elif env[key] != value:
                    warnings.append(f"{name}: {key} differs from the process value; kept the first")
        return env, warnings

    def _configured_functions(self) -> list[str]:
        stage = self.raw.get("stages", {}).get(self.stage, {})
        names = set(stage.get("lambda_functions", {})) | set(self.raw.get("lambda_functions", {}))
        return sorted(names - {API_HANDLER})


def apply_environment(env: dict[str, str]) -> list[str]:
    """Set variables not already in os.environ (the process environment wins); returns them."""
    added = [key for key in env if key not in os.environ]
    for key in added:
        os.environ[key] = env[key]
    return added


def import_app(service_dir: Path) -> tuple[Any, ModuleType]:
    """Import `app` from the service dir (and its vendor/) as Lambda would: (app, module)."""
    _forget_previous_app()
    root = str(service_dir.resolve())
    vendor = os.path.join(root, "vendor")
    sys.path.insert(0, root)
    _inserted_paths.append(root)
    if os.path.isdir(vendor):
        sys.path.append(vendor)
        _inserted_paths.append(vendor)
    importlib.invalidate_caches()
    module = importlib.import_module("app")
    return module.app, module


def _forget_previous_app() -> None:
    """Let a second service be loaded in the same process (tests): drop the first one's modules."""
    for name in list(sys.modules):
        if name.split(".")[0] in _APP_MODULES:
            del sys.modules[name]
    while _inserted_paths:
        path = _inserted_paths.pop()
        if path in sys.path:
            sys.path.remove(path)
