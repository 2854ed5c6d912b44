"""infra/deploy_config.py: stack outputs -> Chalice configs, deployed state -> mapping UUIDs."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from infra import deploy_config as dc
from infra import package
from parley.resources import ResourceNames

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT = "123456789012"
PREFIX = "acme"  # not the default, so every resource name differs from the checked-in config
UUID = "3f1c2a9e-7b4d-4c1e-9a55-0d2e8f6b7c10"


def stack(prefix: str = PREFIX, stage: str = "dev") -> dict[str, Any]:
    """A `describe_stacks` stack of infra/template.yaml with the outputs deploy_config reads."""
    names = ResourceNames(stage=stage, prefix=prefix)
    values = {
        "WaMessagesTableName": names.table("wa-messages"),
        "ConversationsTableName": names.table("conversations"),
        "SessionsTableName": names.table("sessions"),
        "HandoffsTableName": names.table("handoffs"),
        "IdempotencyTableName": names.table("idempotency"),
        "TurnsQueueName": names.queue("turns"),
        "MediaQueueName": names.queue("media"),
        "OutboundQueueName": names.queue("outbound"),
        "ContextQueueName": names.queue("context"),
        "EscalationQueueName": names.queue("escalation"),
        "KbEventsQueueName": names.queue("kb-events"),
        "ConversationEventsTopicName": names.topic("conversation-events"),
        "HumanAgentsTopicName": names.topic("human-agents"),
        "EumInboundTopicName": names.topic("eum-inbound"),
        "MediaBucketName": names.bucket("media"),
        "KnowledgeBaseBucketName": names.bucket("knowledge-base"),
        "EventPayloadsBucketName": names.bucket("event-payloads"),
        "WhatsappSecretName": names.secret("whatsapp"),
        "TwilioSecretName": names.secret("twilio"),
        "CrmSecretName": names.secret("crm"),
        "CacheEndpointAddress": f"{names.base}-cache-abc123.serverless.use1.cache.amazonaws.com",
        "CacheEndpointPort": "6379",
        "LambdaSecurityGroupId": "sg-0123456789abcdef0",
        "CacheSecurityGroupId": "sg-0fedcba9876543210",
    }
    return {
        "StackName": dc.stack_name(prefix, stage),
        "StackId": f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{prefix}-{stage}-shared/x",
        "StackStatus": "UPDATE_COMPLETE",
        "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in values.items()],
    }


@pytest.fixture
def settings() -> dc.StageSettings:
    return dc.stage_settings(stack(), PREFIX, ("subnet-aaa", "subnet-bbb"))


def service_config(service: str) -> dict[str, Any]:
    return dc.read_json(REPO_ROOT / "services" / service / ".chalice" / "config.json")


def test_stage_settings_from_outputs(settings: dc.StageSettings) -> None:
    assert settings.account_id == ACCOUNT
    assert settings.redis_url == (
        "rediss://acme-dev-cache-abc123.serverless.use1.cache.amazonaws.com:6379/0"
    )
    assert settings.security_group_ids == ("sg-0123456789abcdef0",)
    assert settings.subnet_ids == ("subnet-aaa", "subnet-bbb")


def test_redis_port_defaults_to_6379() -> None:
    assert dc.redis_url({"CacheEndpointAddress": "c.example"}) == "rediss://c.example:6379/0"


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"Outputs": []}, "CacheEndpointAddress"),
        ({"StackId": "not-an-arn"}, "account id"),
    ],
)
def test_stage_settings_refuses_incomplete_stack(broken: dict[str, Any], message: str) -> None:
    with pytest.raises(dc.DeployError, match=message):
        dc.stage_settings({**stack(), **broken}, PREFIX, ("subnet-aaa",))


def test_stage_settings_needs_subnets() -> None:
    with pytest.raises(dc.DeployError, match="subnet"):
        dc.stage_settings(stack(), PREFIX, ())


@pytest.mark.parametrize("service", dc.SERVICES)
def test_outputs_land_in_dev_only(service: str, settings: dc.StageSettings) -> None:
    original = service_config(service)
    before = copy.deepcopy(original)
    updated = dc.apply_stage_settings(original, "dev", settings)
    assert original == before, "the input config was modified"
    for untouched in ("local", "prod"):
        assert updated["stages"][untouched] == original["stages"][untouched]
    assert {k: v for k, v in updated.items() if k != "stages"} == {
        k: v for k, v in original.items() if k != "stages"
    }
    dev = updated["stages"]["dev"]
    assert dev["subnet_ids"] == ["subnet-aaa", "subnet-bbb"]
    assert dev["security_group_ids"] == ["sg-0123456789abcdef0"]
    variables = dev["environment_variables"]
    assert variables["REDIS_URL"] == settings.redis_url
    assert variables["AWS_ACCOUNT_ID"] == ACCOUNT
    assert variables["PARLEY_PREFIX"] == PREFIX
    assert variables["PARLEY_STAGE"] == "dev"
    assert variables["EVENTS_TOPIC"] == "acme-dev-conversation-events.fifo"
    assert variables["IDEMPOTENCY_TABLE"] == "acme-dev-idempotency"
    assert not any(value.startswith("parley-") for value in variables.values())
    # Only variables the service already uses are written.
    assert set(variables) - set(original["stages"]["dev"]["environment_variables"]) == {
        "REDIS_URL",
        "AWS_ACCOUNT_ID",
        "PARLEY_PREFIX",
    }


def test_service_specific_names(settings: dc.StageSettings) -> None:
    ingestion = dc.apply_stage_settings(service_config("ingestion"), "dev", settings)
    variables = ingestion["stages"]["dev"]["environment_variables"]
    assert variables["OUTBOUND_QUEUE"] == "acme-dev-outbound.fifo"
    assert variables["WHATSAPP_SECRET_ID"] == "acme/dev/whatsapp"
    assert "TURNS_QUEUE" not in variables
    ai = dc.apply_stage_settings(service_config("ai_processing"), "dev", settings)
    assert ai["stages"]["dev"]["environment_variables"]["KB_EVENTS_QUEUE"] == "acme-dev-kb-events"


def test_prod_outputs_leave_dev_alone() -> None:
    prod = dc.stage_settings(stack(stage="prod"), PREFIX, ("subnet-ppp",))
    original = service_config("escalation")
    updated = dc.apply_stage_settings(original, "prod", prod)
    assert updated["stages"]["dev"] == original["stages"]["dev"]
    assert updated["stages"]["prod"]["environment_variables"]["HANDOFFS_TABLE"] == (
        "acme-prod-handoffs"
    )


def test_write_configs_touches_the_right_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: dc.StageSettings
) -> None:
    for service in dc.SERVICES:
        target = tmp_path / service / "config.json"
        target.parent.mkdir()
        shutil.copy(REPO_ROOT / "services" / service / ".chalice" / "config.json", target)
    monkeypatch.setattr(dc, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(dc, "config_path", lambda service: tmp_path / service / "config.json")
    dc.write_configs(settings, "dev", ["media"])
    media = dc.read_json(tmp_path / "media" / "config.json")
    assert media["stages"]["dev"]["environment_variables"]["MEDIA_BUCKET"] == "acme-dev-media"
    assert media["app_name"] == "parley-media"
    context = dc.read_json(tmp_path / "context" / "config.json")
    assert context == service_config("context")


def test_sqs_event_sources_from_deployed_state() -> None:
    deployed = json.loads((FIXTURES / "ingestion-deployed-dev.json").read_text())
    sources = dc.sqs_event_sources(deployed)
    assert sources == [
        dc.EventSource(
            name="send_outbound-sqs-event-source",
            uuid=UUID,
            queue_arn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:parley-dev-outbound.fifo",
        )
    ]


def test_deployed_state_schema_is_checked() -> None:
    with pytest.raises(dc.DeployError, match="schema"):
        dc.sqs_event_sources({"resources": []})


class ResourceNotFoundError(Exception):
    pass


class FakeLambda:
    exceptions = SimpleNamespace(ResourceNotFoundException=ResourceNotFoundError)

    def __init__(self, current: dict[str, list[str]]) -> None:
        self.current = current
        self.updates: list[dict[str, Any]] = []
        self.invoke_configs: dict[str, dict[str, Any]] = {}
        self.puts: list[dict[str, Any]] = []

    def get_event_source_mapping(self, UUID: str) -> dict[str, Any]:
        return {"UUID": UUID, "FunctionResponseTypes": self.current.get(UUID, [])}

    def update_event_source_mapping(self, **kwargs: Any) -> None:
        self.updates.append(kwargs)
        self.current[kwargs["UUID"]] = kwargs["FunctionResponseTypes"]

    def get_function_event_invoke_config(self, FunctionName: str) -> dict[str, Any]:
        if FunctionName not in self.invoke_configs:
            raise ResourceNotFoundError(FunctionName)
        return {"FunctionArn": FunctionName, **self.invoke_configs[FunctionName]}

    def put_function_event_invoke_config(self, **kwargs: Any) -> None:
        self.puts.append(kwargs)
        self.invoke_configs[kwargs["FunctionName"]] = {
            k: v for k, v in kwargs.items() if k != "FunctionName"
        }


def test_fix_event_sources_updates_each_mapping_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed = tmp_path / "dev.json"
    shutil.copy(FIXTURES / "ingestion-deployed-dev.json", deployed)
    monkeypatch.setattr(dc, "deployed_path", lambda service, stage: deployed)
    lam = FakeLambda({})
    dc.fix_event_sources(lam, "dev", ["ingestion"])
    assert lam.updates == [{"UUID": UUID, "FunctionResponseTypes": ["ReportBatchItemFailures"]}]
    dc.fix_event_sources(lam, "dev", ["ingestion"])  # idempotent: already set
    assert len(lam.updates) == 1


EUM_FUNCTION = (
    f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:parley-ingestion-dev-receive_eum_inbound"
)
EUM_DLQ_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:parley-dev-eum-inbound-dlq"


def deployed_with_sns() -> dict[str, Any]:
    """The fixture plus what `chalice deploy` records for the EUM SNS handler."""
    deployed = json.loads((FIXTURES / "ingestion-deployed-dev.json").read_text())
    deployed["resources"] += [
        {"name": "receive_eum_inbound", "resource_type": "lambda_function",
         "lambda_arn": EUM_FUNCTION},
        {"name": "receive_eum_inbound-sns-subscription", "resource_type": "sns_event",
         "topic": "parley-dev-eum-inbound", "lambda_arn": EUM_FUNCTION,
         "subscription_arn": f"arn:aws:sns:us-east-1:{ACCOUNT}:parley-dev-eum-inbound:1a2b",
         "topic_arn": f"arn:aws:sns:us-east-1:{ACCOUNT}:parley-dev-eum-inbound"},
    ]  # fmt: skip
    return deployed


def test_the_on_failure_destination_of_a_topic_is_its_dlq() -> None:
    assert dc.on_failure_queue("parley-dev-eum-inbound") == "parley-dev-eum-inbound-dlq"
    topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:parley-dev-eum-inbound"
    assert dc.on_failure_queue(topic_arn) == "parley-dev-eum-inbound-dlq"
    assert dc.on_failure_arn(EUM_FUNCTION, "parley-dev-eum-inbound") == EUM_DLQ_ARN
    with pytest.raises(dc.DeployError, match="Lambda function ARN"):
        dc.on_failure_arn("parley-ingestion-dev-receive_eum_inbound", "t")


def test_sns_subscriptions_from_deployed_state() -> None:
    assert dc.sns_subscriptions(deployed_with_sns()) == [
        dc.SnsSubscription(
            name="receive_eum_inbound-sns-subscription",
            function_arn=EUM_FUNCTION,
            topic="parley-dev-eum-inbound",
        )
    ]


def test_fix_event_sources_gives_the_sns_handler_its_on_failure_destination_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed = tmp_path / "dev.json"
    deployed.write_text(json.dumps(deployed_with_sns()))
    monkeypatch.setattr(dc, "deployed_path", lambda service, stage: deployed)
    lam = FakeLambda({})

    dc.fix_event_sources(lam, "dev", ["ingestion"])
    dc.fix_event_sources(lam, "dev", ["ingestion"])  # idempotent: already set

    assert lam.puts == [
        {
            "FunctionName": EUM_FUNCTION,
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": EUM_DLQ_ARN}},
        }
    ]
    assert len(lam.updates) == 1  # and the SQS mapping's flag, as before


def test_a_different_event_invoke_config_is_replaced() -> None:
    lam = FakeLambda({})
    lam.invoke_configs[EUM_FUNCTION] = {"MaximumRetryAttempts": 0, "DestinationConfig": {}}
    subscriptions = dc.sns_subscriptions(deployed_with_sns())
    assert dc.set_failure_destinations(lam, subscriptions) == 1
    assert lam.invoke_configs[EUM_FUNCTION]["MaximumRetryAttempts"] == 2


def test_package_merge_template_gives_the_sns_handler_its_on_failure_destination() -> None:
    sns = package.SnsSource("receive_eum_inbound", "parley-dev-eum-inbound")
    merge = package.merge_template([package.SqsSource("send_outbound")], [sns])

    config = merge["Resources"]["ReceiveEumInbound"]["Properties"]["EventInvokeConfig"]
    assert config == {
        "MaximumRetryAttempts": 2,
        "DestinationConfig": {
            "OnFailure": {
                "Type": "SQS",
                "Destination": {
                    "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:"
                    "parley-dev-eum-inbound-dlq"
                },
            }
        },
    }
    flag = merge["Resources"]["SendOutbound"]["Properties"]["Events"]
    assert flag["SendOutboundSqsEventSource"]["Properties"]["FunctionResponseTypes"] == [
        "ReportBatchItemFailures"
    ]


def test_package_check_refuses_an_sns_handler_without_its_destination() -> None:
    sns = package.SnsSource("receive_eum_inbound", "parley-dev-eum-inbound")
    function: dict[str, Any] = {"Type": package.FUNCTION_TYPE, "Properties": {"Events": {}}}
    template = {"Resources": {"ReceiveEumInbound": function}}
    with pytest.raises(package.PackagingError, match="on-failure destination"):
        package.check_template(template, [], [sns])
    function["Properties"]["EventInvokeConfig"] = sns.event_invoke_config()
    package.check_template(template, [], [sns])


def test_fix_event_sources_needs_deployed_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dc, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(dc, "deployed_path", lambda service, stage: tmp_path / "missing.json")
    with pytest.raises(dc.DeployError, match="chalice deploy"):
        dc.fix_event_sources(FakeLambda({}), "dev", ["ingestion"])


def test_check_credentials_refuses_without_credentials() -> None:
    class NoCredentials:
        def get_credentials(self) -> None:
            return None

    with pytest.raises(dc.DeployError, match="no AWS credentials"):
        dc.check_credentials(NoCredentials())


def test_stack_parameters_and_template_limit() -> None:
    params = dc.stack_parameters("dev", "acme", "vpc-1", ["subnet-a", "subnet-b"])
    assert {"ParameterKey": "SubnetIds", "ParameterValue": "subnet-a,subnet-b"} in params
    assert all(p["ParameterKey"] != "AlarmEmail" for p in params)
    assert dc.template_argument(None, "small", None, "k") == {"TemplateBody": "small"}
    with pytest.raises(dc.DeployError, match="PARLEY_CFN_BUCKET"):
        dc.template_argument(None, "x" * (dc.TEMPLATE_BODY_LIMIT + 1), None, "k")


def test_deploy_sh_refuses_without_credentials(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") or key == "AWS_DEFAULT_REGION"
    }
    env.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",  # no instance-metadata lookups from a test
        PARLEY_SUBNET_IDS="subnet-aaa",
    )
    proc = subprocess.run(
        ["bash", "infra/deploy.sh", "dev", "parley"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "no AWS credentials configured" in proc.stderr
    assert "refusing to deploy" in proc.stderr
