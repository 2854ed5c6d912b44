"""What is deployed can import: every module of each service's deployment.zip, in isolation.

Each zip from `chalice package` is extracted into an empty folder and a fresh `python -I -S`
interpreter, whose sys.path is only that folder, the Lambda-provided packages and the standard
library, imports `app`, every `chalicelib` module and every `parley` module. Imports that only run
inside a function (`from twilio.request_validator import ...` in a handler) are found by reading
each module's syntax tree and resolved the same way, so a dependency missing from
requirements.txt fails here, not as a 500 on AWS.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra.deploy_config import SERVICES

REGION = "us-east-1"

# Lambda's Python runtime ships boto3 and its dependencies on sys.path, after the function's code
# (/var/task); the requirements files deliberately do not bundle them. Only these go into the
# second folder, so anything else the code needs must come from the zip itself.
LAMBDA_RUNTIME_PACKAGES = (
    "boto3",
    "botocore",
    "jmespath",
    "s3transfer",
    "dateutil",
    "six",
    "urllib3",
)

# Runs in the isolated interpreter: argv = [code folder, runtime folder]; prints one JSON report.
_IMPORT_ALL = r"""
import ast, importlib, importlib.util, json, os, sys

code, runtime = sys.argv[1], sys.argv[2]
stdlib = list(sys.path)
sys.path[:] = [code, runtime, *stdlib]


def modules(package):
    base = os.path.join(code, package)
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(folder, name), code)[:-3].split(os.sep)
                yield ".".join(rel[:-1] if rel[-1] == "__init__" else rel)


def is_type_checking(test):
    return isinstance(test, (ast.Name, ast.Attribute)) and "TYPE_CHECKING" in ast.unparse(test)


def guards_import_error(node):
    caught = set()
    for handler in node.handlers:
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        caught.update(ast.unparse(t).rsplit(".", 1)[-1] for t in types if t is not None)
    return bool(caught & {"ImportError", "ModuleNotFoundError"})


def imports(tree):
    # (line, dotted module, inside a function) of every absolute import that runs at some point:
    # not under `if TYPE_CHECKING:` and not an optional import guarded by `except ImportError`.
    found = []

    def visit(node, in_function):
        if isinstance(node, ast.If) and is_type_checking(node.test):
            for child in node.orelse:
                visit(child, in_function)
            return
        if isinstance(node, ast.Try) and guards_import_error(node):
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, in_function))
        nested = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for child in ast.iter_child_nodes(node):
            visit(child, nested)

    visit(tree, False)
    return found


names = ["app", *modules("chalicelib"), *modules("parley")]
failures = []
for name in names:
    try:
        importlib.import_module(name)
    except BaseException as exc:  # any failure at import time would fail the Lambda's cold start
        missing = getattr(exc, "name", None) if isinstance(exc, ImportError) else None
        failures.append({"module": name, "line": 0, "import": missing or "",
                         "error": f"{type(exc).__name__}: {exc}"})
for name in names:
    path = importlib.util.find_spec(name).origin
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    for line, target, lazy in imports(tree):
        try:
            found = importlib.util.find_spec(target) is not None
            error = "" if found else f"No module named {target!r}"
        except ImportError as exc:
            found, error = False, f"{type(exc).__name__}: {exc}"
        if not found:
            where = "inside a function" if lazy else "at import"
            failures.append({"module": name, "line": line, "import": target,
                             "error": f"{error} ({where})"})
outside = [p for p in sys.path[2:] if "site-packages" in p or "dist-packages" in p]
print(json.dumps({"modules": names, "failures": failures, "sys_path": sys.path,
                  "outside": outside}))
"""


def runtime_provided(target: Path) -> Path:
    """A folder holding only the packages the Lambda runtime provides (copied from this venv)."""
    for name in LAMBDA_RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, f"{name} is not installed in the virtualenv"
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(origin.parent, target / name, ignore=ignore)
        else:
            shutil.copy2(origin, target / origin.name)
    return target


@pytest.fixture(scope="session")
def lambda_runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return runtime_provided(tmp_path_factory.mktemp("lambda-runtime"))


def function_environment(template: dict[str, Any]) -> dict[str, str]:
    """The API handler's environment variables in sam.json (what Lambda sets before import)."""
    handler = template["Resources"]["APIHandler"]["Properties"]
    variables: dict[str, str] = handler.get("Environment", {}).get("Variables", {})
    return {key: str(value) for key, value in variables.items()}


def import_everything(code: Path, runtime: Path, env: dict[str, str]) -> dict[str, Any]:
    # -I: no PYTHON* variables, no user site, no script folder; -S: no site-packages at all.
    cmd = [sys.executable, "-I", "-S", "-B", "-c", _IMPORT_ALL, str(code), str(runtime)]
    proc = subprocess.run(
        cmd, cwd=code, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


def describe(failures: list[dict[str, Any]]) -> str:
    lines = []
    for failure in failures:
        at = f" line {failure['line']}" if failure["line"] else ""
        missing = f" imports {failure['import']!r}:" if failure["import"] else ":"
        lines.append(f"  {failure['module']}{at}{missing} {failure['error']}")
    return "\n".join(lines)


def lambda_like_host() -> bool:
    # The zips hold manylinux x86_64 wheels (pydantic-core, ...): they load only on such a host.
    return sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64")


@pytest.mark.slow
@pytest.mark.skipif(not lambda_like_host(), reason="the zips' wheels are manylinux x86_64")
@pytest.mark.parametrize("service", SERVICES)
def test_deployment_zip_imports_in_isolation(
    packaged: tuple[Path, str], lambda_runtime: Path, tmp_path: Path, service: str
) -> None:
    out, _ = packaged
    code = tmp_path / "task"
    code.mkdir()
    with zipfile.ZipFile(out / service / "deployment.zip") as archive:
        archive.extractall(code)
    template = json.loads((out / service / "sam.json").read_text())
    env = {"AWS_DEFAULT_REGION": REGION, **function_environment(template)}

    report = import_everything(code, lambda_runtime, env)

    assert report["sys_path"][:2] == [str(code), str(lambda_runtime)]
    assert report["outside"] == [], "the interpreter saw installed packages"
    assert "app" in report["modules"]
    assert any(name.startswith("chalicelib.") for name in report["modules"])
    assert "parley.resources" in report["modules"]
    assert report["failures"] == [], (
        f"{service}: deployment.zip cannot import what its code imports (add the package to "
        f"services/{service}/requirements.txt):\n{describe(report['failures'])}"
    )


def test_import_checker_names_module_and_missing_import(
    lambda_runtime: Path, tmp_path: Path
) -> None:
    """The checker itself: a lazy import of an absent package fails, guarded ones do not."""
    code = tmp_path / "task"
    (code / "chalicelib").mkdir(parents=True)
    (code / "parley").mkdir()
    (code / "app.py").write_text("import chalicelib.hooks\n")
    (code / "chalicelib" / "__init__.py").write_text("")
    (code / "chalicelib" / "hooks.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import mypy_boto3_sqs\n"
        "try:\n"
        "    import orjson\n"
        "except ImportError:\n"
        "    orjson = None\n"
        "import boto3\n"
        "def verify():\n"
        "    from twilio.request_validator import RequestValidator\n"
    )
    (code / "parley" / "__init__.py").write_text("")
    (code / "parley" / "resources.py").write_text("import pydantic\n")

    report = import_everything(code, lambda_runtime, {})

    assert report["modules"] == [
        "app",
        "chalicelib",
        "chalicelib.hooks",
        "parley",
        "parley.resources",
    ]
    found = {(f["module"], f["import"]) for f in report["failures"]}
    assert found == {
        ("chalicelib.hooks", "twilio.request_validator"),
        ("parley.resources", "pydantic"),
    }, describe(report["failures"])
    assert "No module named 'twilio'" in describe(report["failures"])
