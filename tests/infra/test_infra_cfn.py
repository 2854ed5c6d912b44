"""infra.local.cfn: short-form tags, intrinsic functions, conditions and creation order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.local import cfn

TEMPLATE = """
Parameters:
  Stage: {Type: String, AllowedValues: [local, prod]}
  Subnets: {Type: CommaDelimitedList, Default: "a,b"}
  Email: {Type: String, Default: ""}
Mappings:
  Sizes: {prod: {Memory: 1024}, local: {Memory: 128}}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  HasEmail: !Not [!Equals [!Ref Email, ""]]
  ProdWithEmail: !And [!Condition IsProd, !Condition HasEmail]
  ProdOrEmail: !Or [!Condition IsProd, !Condition HasEmail]
Resources:
  Dlq:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "${AWS::StackName}-dlq.fifo", FifoQueue: true}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Join ["-", [!Ref "AWS::StackName", work]]
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5}
      DelaySeconds: !If [IsProd, 0, !Ref "AWS::NoValue"]
  Topic:
    Type: AWS::SNS::Topic
    DependsOn: Queue
    Properties:
      TopicName: !Sub
        - "${Name}-${Size}"
        - Name: !Select [1, !Split [",", "x,events,y"]]
          Size: !FindInMap [Sizes, !Ref Stage, Memory]
      DisplayName: !Sub "${Queue.QueueName} in ${AWS::Region} (${!Literal})"
  Mail:
    Type: AWS::SNS::Subscription
    Condition: HasEmail
    Properties: {TopicArn: !Ref Topic, Protocol: email, Endpoint: !Ref Email}
  Cache:
    Type: AWS::ElastiCache::ServerlessCache
    Properties:
      ServerlessCacheName: cache
      SubnetIds: !Ref Subnets
      Description: !GetAtt [Topic, TopicName]
      Zones: !GetAZs ""
      Imported: !ImportValue shared-vpc
"""


@pytest.fixture
def template(tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE, encoding="utf-8")
    return cfn.load_template(path)


def stack(template: dict[str, Any], **parameters: str) -> cfn.Stack:
    return cfn.Stack(template, parameters, stack_name="st", region="eu-west-1")


def test_short_forms_become_long_forms(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert resources["Queue"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["Dlq", "Arn"]
    }
    assert template["Conditions"]["ProdWithEmail"] == {
        "Fn::And": [{"Condition": "IsProd"}, {"Condition": "HasEmail"}]
    }
    assert resources["Cache"]["Properties"]["Description"] == {"Fn::GetAtt": ["Topic", "TopicName"]}


def test_intrinsics_resolve(template: dict[str, Any]) -> None:
    prod = stack(template, Stage="prod")
    assert prod.properties("Dlq") == {"QueueName": "st-dlq.fifo", "FifoQueue": True}
    queue = prod.properties("Queue")
    assert queue["QueueName"] == "st-work"
    assert (
        queue["RedrivePolicy"]["deadLetterTargetArn"]
        == "arn:aws:sqs:eu-west-1:123456789012:st-dlq.fifo"
    )
    assert queue["DelaySeconds"] == 0
    assert "DelaySeconds" not in stack(template, Stage="local").properties("Queue")
    topic = prod.properties("Topic")
    assert topic["TopicName"] == "events-1024"
    assert topic["DisplayName"] == "st-work in eu-west-1 (${Literal})"
    cache = cfn.Stack(template, {"Stage": "local"}, region="eu-west-1", imports={"shared-vpc": "v"})
    props = cache.properties("Cache")
    assert props["SubnetIds"] == ["a", "b"]
    assert props["Description"] == "events-128"
    assert props["Zones"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert props["Imported"] == "v"
    with pytest.raises(cfn.TemplateError, match="shared-vpc"):
        prod.properties("Cache")


def test_conditions(template: dict[str, Any]) -> None:
    local = stack(template, Stage="local")
    assert not local.condition("IsProd") and not local.condition("ProdOrEmail")
    assert "Mail" not in local.resources
    mail = stack(template, Stage="prod", Email="ops@example.com")
    assert mail.condition("ProdWithEmail") and mail.condition("ProdOrEmail")
    assert mail.properties("Mail")["Endpoint"] == "ops@example.com"
    assert mail.properties("Mail")["TopicArn"] == "arn:aws:sns:eu-west-1:123456789012:events-1024"


def test_recorded_attributes_win_over_predictions(template: dict[str, Any]) -> None:
    local = stack(template, Stage="local")
    local.attributes["Dlq"] = {"Arn": "arn:recorded"}
    assert local.properties("Queue")["RedrivePolicy"]["deadLetterTargetArn"] == "arn:recorded"
    with pytest.raises(cfn.TemplateError, match="no attribute Nope"):
        local.attribute("Dlq", "Nope")


def test_creation_order_follows_references(template: dict[str, Any]) -> None:
    order = stack(template, Stage="prod", Email="x@example.com").creation_order()
    assert order.index("Dlq") < order.index("Queue") < order.index("Topic")
    assert order.index("Topic") < order.index("Mail") and order.index("Topic") < order.index(
        "Cache"
    )
    assert stack(template, Stage="prod").dependencies("Topic") == {"Queue"}


def test_cycles_and_bad_parameters_are_errors(template: dict[str, Any]) -> None:
    template["Resources"]["Dlq"]["DependsOn"] = "Topic"
    with pytest.raises(cfn.TemplateError, match="circular"):
        stack(template, Stage="prod").creation_order()
    with pytest.raises(cfn.TemplateError, match="not in"):
        stack(template, Stage="qa")
    with pytest.raises(cfn.TemplateError, match="no value"):
        cfn.Stack(template, {}).condition("IsProd")
