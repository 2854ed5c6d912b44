"""Fixtures for the infra tests: the template, resolved per stage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.local import cfn

DEPLOY_PARAMETERS = {"VpcId": "vpc-0123456789abcdef0", "SubnetIds": "subnet-0a,subnet-0b"}

StackFactory = Callable[..., cfn.Stack]


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return cfn.load_template()


@pytest.fixture(scope="session")
def stack_for(template: dict[str, Any]) -> StackFactory:
    """`stack_for(stage, prefix="parley")`: the template with a deployment's parameters."""

    def make(stage: str, prefix: str = "parley") -> cfn.Stack:
        parameters = {"Stage": stage, "Prefix": prefix, **DEPLOY_PARAMETERS}
        return cfn.Stack(template, parameters, stack_name=f"{prefix}-{stage}")

    return make
