"""Load `infra/template.yaml` and resolve its intrinsic functions, without CloudFormation.

The local provisioner uses this to create the template's resources on the AWS emulator, and the
tests use it to check the template against `parley.resources` and `parley.routing`.

`Stack` holds one parameter set. Attributes of a resource (`Ref`, `Fn::GetAtt`) come from
`Stack.attributes` once the resource exists (the provisioner records what the emulator returned)
and are predicted from the physical name before that, the way AWS builds them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "template.yaml"
ACCOUNT_ID = "123456789012"

SHORT_TAGS = (
    "Ref", "Condition", "Sub", "GetAtt", "Join", "If", "Equals", "Not", "And", "Or", "Select",
    "Split", "FindInMap", "ImportValue", "GetAZs", "Base64", "Cidr", "Length", "ToJsonString",
)  # fmt: skip


class TemplateError(Exception):
    """The template cannot be resolved with the given parameters."""


class _NoValue:
    """`AWS::NoValue`: the enclosing property or list item is removed."""


NO_VALUE = _NoValue()

# ---------------------------------------------------------------- loading


class _Loader(yaml.SafeLoader):
    """SafeLoader that turns the short-form tags (`!Ref`, `!Sub`, ...) into their long form."""


def _long_form(tag: str, value: Any) -> dict[str, Any]:
    if tag in ("Ref", "Condition"):
        return {tag: value}
    if tag == "GetAtt" and isinstance(value, str):
        logical, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical, attribute]}
    return {f"Fn::{tag}": value}


def _constructor(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return _long_form(tag, value)

    return construct


for _tag in SHORT_TAGS:
    _Loader.add_constructor(f"!{_tag}", _constructor(_tag))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain data, short-form tags expanded."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_Loader)
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path.name} is not a CloudFormation template")
    return data


# ---------------------------------------------------------------- attribute model

NAME_PROPERTIES: dict[str, str] = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::ElastiCache::ServerlessCache": "ServerlessCacheName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::EC2::SecurityGroup": "GroupName",
}
"""Property that holds the physical name, per resource type."""

ATTRIBUTE_FORMATS: dict[str, dict[str, str]] = {
    "AWS::SQS::Queue": {
        "Ref": "https://sqs.{r}.amazonaws.com/{a}/{n}",
        "QueueUrl": "https://sqs.{r}.amazonaws.com/{a}/{n}",
        "Arn": "arn:{p}:sqs:{r}:{a}:{n}",
        "QueueName": "{n}",
    },
    "AWS::SNS::Topic": {"Ref": "arn:{p}:sns:{r}:{a}:{n}", "TopicArn": "arn:{p}:sns:{r}:{a}:{n}",
                        "TopicName": "{n}"},
    "AWS::DynamoDB::Table": {"Ref": "{n}", "Arn": "arn:{p}:dynamodb:{r}:{a}:table/{n}"},
    "AWS::S3::Bucket": {"Ref": "{n}", "Arn": "arn:{p}:s3:::{n}",
                        "DomainName": "{n}.s3.amazonaws.com",
                        "RegionalDomainName": "{n}.s3.{r}.amazonaws.com"},
    "AWS::SecretsManager::Secret": {"Ref": "arn:{p}:secretsmanager:{r}:{a}:secret:{n}",
                                    "Id": "arn:{p}:secretsmanager:{r}:{a}:secret:{n}"},
    "AWS::KMS::Key": {"Ref": "{n}", "KeyId": "{n}", "Arn": "arn:{p}:kms:{r}:{a}:key/{n}"},
    "AWS::KMS::Alias": {"Ref": "{n}"},
    "AWS::ElastiCache::ServerlessCache": {
        "Ref": "{n}", "ARN": "arn:{p}:elasticache:{r}:{a}:serverlesscache:{n}",
        "Endpoint.Address": "{n}.serverless.{r}.cache.amazonaws.com", "Endpoint.Port": "6379",
        "ReaderEndpoint.Address": "{n}.serverless.{r}.cache.amazonaws.com",
        "ReaderEndpoint.Port": "6380",
    },
    "AWS::CloudWatch::Alarm": {"Ref": "{n}", "Arn": "arn:{p}:cloudwatch:{r}:{a}:alarm:{n}"},
    "AWS::EC2::SecurityGroup": {"Ref": "{n}", "GroupId": "{n}"},
}  # fmt: skip
"""How AWS builds `Ref` / `Fn::GetAtt` values from the physical name ({n}), per resource type."""


def default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


# ---------------------------------------------------------------- resolution


@dataclass
class Stack:
    """One template with one parameter set: conditions, intrinsics, attributes and order."""

    template: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    stack_name: str = "parley"
    region: str = field(default_factory=default_region)
    account_id: str = ACCOUNT_ID
    imports: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    _conditions: dict[str, bool] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        declared = self.template.get("Parameters", {})
        for name, value in self.parameters.items():
            if name not in declared:
                raise TemplateError(f"unknown parameter {name}")
            allowed = declared[name].get("AllowedValues")
            if allowed is not None and value not in allowed:
                raise TemplateError(f"parameter {name}={value!r} not in {allowed}")

    # -- template sections
    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """Resources whose Condition holds, in template order."""
        return {
            logical: body
            for logical, body in self.template["Resources"].items()
            if "Condition" not in body or self.condition(body["Condition"])
        }

    def resource_type(self, logical: str) -> str:
        return str(self.template["Resources"][logical]["Type"])

    def properties(self, logical: str) -> dict[str, Any]:
        """The resource's properties with every intrinsic function resolved."""
        resolved = self.resolve(self.template["Resources"][logical].get("Properties", {}))
        return resolved if isinstance(resolved, dict) else {}

    def parameter(self, name: str) -> Any:
        spec = self.template.get("Parameters", {}).get(name)
        if spec is None:
            raise TemplateError(f"unknown parameter {name}")
        value = self.parameters.get(name, spec.get("Default"))
        if value is None:
            raise TemplateError(f"parameter {name} has no value and no default")
        if str(spec.get("Type", "")).startswith(("List<", "CommaDelimitedList")):
            return value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        return value

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions", {})
            if name not in conditions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(conditions[name]))
        return self._conditions[name]

    # -- attributes
    def physical_name(self, logical: str) -> str:
        """The resource's physical name: its name property, or one generated like AWS does."""
        rtype = self.resource_type(logical)
        prop = NAME_PROPERTIES.get(rtype)
        body = self.template["Resources"][logical].get("Properties", {})
        if prop and prop in body:
            return str(self.resolve(body[prop]))
        digest = hashlib.sha256(f"{self.stack_name}/{logical}".encode()).hexdigest()
        if rtype == "AWS::KMS::Key":
            return str(uuid.UUID(digest[:32]))
        if rtype == "AWS::EC2::SecurityGroup":
            return f"sg-{digest[:17]}"
        fifo = body.get("FifoQueue") or body.get("FifoTopic")
        return f"{self.stack_name}-{logical}-{digest[:12].upper()}" + (".fifo" if fifo else "")

    def attribute(self, logical: str, name: str) -> Any:
        """`Ref` (name "Ref") or `Fn::GetAtt` of a resource: recorded value, else predicted."""
        if logical not in self.template["Resources"]:
            raise TemplateError(f"unknown resource {logical}")
        known = self.attributes.get(logical, {})
        if name in known:
            return known[name]
        formats = ATTRIBUTE_FORMATS.get(self.resource_type(logical), {"Ref": "{n}"})
        if name not in formats:
            raise TemplateError(f"no attribute {name} on {logical} ({self.resource_type(logical)})")
        return formats[name].format(
            p="aws", r=self.region, a=self.account_id, n=self.physical_name(logical)
        )

    # -- intrinsic functions
    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function evaluated; `AWS::NoValue` entries removed."""
        if isinstance(value, dict):
            if len(value) == 1:
                key, arg = next(iter(value.items()))
                function = self._functions().get(key)
                if function is not None and not (key == "Condition" and not isinstance(arg, str)):
                    return function(arg)
            items = ((k, self.resolve(v)) for k, v in value.items())
            return {k: v for k, v in items if v is not NO_VALUE}
        if isinstance(value, list):
            return [v for v in map(self.resolve, value) if v is not NO_VALUE]
        return value

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Condition": self.condition,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": lambda a: str(a[0]).join(_text(v) for v in self.resolve(a[1])),
            "Fn::If": lambda a: self.resolve(a[1] if self.condition(a[0]) else a[2]),
            "Fn::Equals": lambda a: _text(self.resolve(a[0])) == _text(self.resolve(a[1])),
            "Fn::Not": lambda a: not self.resolve(a[0]),
            "Fn::And": lambda a: all(self.resolve(c) for c in a),
            "Fn::Or": lambda a: any(self.resolve(c) for c in a),
            "Fn::Select": lambda a: self.resolve(a[1])[int(self.resolve(a[0]))],
            "Fn::Split": lambda a: _text(self.resolve(a[1])).split(a[0]),
            "Fn::FindInMap": self._find_in_map,
            "Fn::ImportValue": self._import_value,
            "Fn::GetAZs": lambda a: [f"{self.region}{zone}" for zone in "abc"],
            "Fn::Base64": lambda a: base64.b64encode(_text(self.resolve(a)).encode()).decode(),
            "Fn::Length": lambda a: len(self.resolve(a)),
            "Fn::ToJsonString": lambda a: json.dumps(self.resolve(a), separators=(",", ":")),
        }

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/"
            f"{self.stack_name}/{uuid.uuid5(uuid.NAMESPACE_URL, self.stack_name)}",
            "AWS::NotificationARNs": [],
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            return self.parameter(name)
        return self.attribute(name, "Ref")

    def _get_att(self, arg: Any) -> Any:
        logical, name = arg
        return self.attribute(logical, _text(self.resolve(name)))

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _text(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                return _text(self._get_att(name.split(".", 1)))
            return _text(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _find_in_map(self, arg: Any) -> Any:
        name, top, second = (self.resolve(a) for a in arg[:3])
        try:
            return self.template["Mappings"][name][top][second]
        except KeyError as exc:
            raise TemplateError(f"Fn::FindInMap {name}/{top}/{second} not found") from exc

    def _import_value(self, arg: Any) -> Any:
        name = _text(self.resolve(arg))
        if name not in self.imports:
            raise TemplateError(f"Fn::ImportValue {name}: no such export")
        return self.imports[name]

    # -- dependency order
    def dependencies(self, logical: str) -> set[str]:
        """Active resources this one needs first (Ref, Fn::GetAtt, Fn::Sub, DependsOn)."""
        body = self.template["Resources"][logical]
        depends = body.get("DependsOn", [])
        found = set([depends] if isinstance(depends, str) else depends)
        found.update(_references(body.get("Properties", {})))
        return (found & set(self.resources)) - {logical}

    def creation_order(self) -> list[str]:
        """Active resources, each after its dependencies (template order otherwise)."""
        pending = {logical: self.dependencies(logical) for logical in self.resources}
        order: list[str] = []
        while pending:
            ready = [logical for logical, deps in pending.items() if not deps - set(order)]
            if not ready:
                raise TemplateError(f"circular dependency among {sorted(pending)}")
            order.extend(ready)
            for logical in ready:
                del pending[logical]
        return order


def _references(value: Any) -> Iterator[str]:
    """Logical ids referenced anywhere inside `value` (a superset: parameters included)."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            yield str(value["Ref"])
        elif set(value) == {"Fn::GetAtt"}:
            yield str(value["Fn::GetAtt"][0])
        elif set(value) == {"Fn::Sub"}:
            arg = value["Fn::Sub"]
            text = arg if isinstance(arg, str) else arg[0]
            for name in re.findall(r"\$\{([^}!][^}]*)\}", text):
                yield name.split(".", 1)[0]
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _text(value: Any) -> str:
    """CloudFormation's string form of a scalar (booleans lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
