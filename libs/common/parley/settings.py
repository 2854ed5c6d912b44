"""Settings per service (pydantic-settings), read from the environment and validated once.

Each service's `.chalice/config.json` sets these variables per stage. A missing or invalid variable
stops the service at cold start with a ConfigurationError naming the variable.
"""

from __future__ import annotations

from functools import cache
from typing import Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from parley.errors import InvalidInput, InvalidSettings
from parley.whatsapp.ids import is_phone_number_id

VERSION = "0.1.0"


class ServiceSettings(BaseSettings):
    """What every service needs. Resource fields hold names (or ARNs) of infra/ resources."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    service_name: str = "parley"
    stage: str = Field(validation_alias="PARLEY_STAGE")
    version: str = VERSION
    log_level: str = "INFO"
    events_topic: str
    idempotency_table: str
    payloads_bucket: str
    idempotency_ttl_seconds: int = 7 * 24 * 3600
    redis_url: str | None = None
    # Local stage: the x-api-key protected routes require (IAM authorizes them in AWS).
    api_key: str | None = None
    # The business's texts: a folder of parley/profiles (parley.business_profile).
    business_profile: str = "demo_university"


EUM_PHONE_NUMBER_ID = (
    r"^(arn:aws[a-z-]*:social-messaging:[a-z0-9-]+:[0-9]{12}:phone-number-id/)?"
    r"(phone-number-id-)?[0-9A-Za-z]{1,64}$"
)


class BusinessNumber(BaseModel):
    """How one business WhatsApp number is connected (env BUSINESS_NUMBERS, a JSON object keyed by
    Meta's phone_number_id)."""

    channel: Literal["meta", "eum", "twilio"] = "meta"
    # AWS EUM id, `phone-number-id-<32 hex>` (or its ARN)
    eum_phone_number_id: str | None = Field(default=None, pattern=EUM_PHONE_NUMBER_ID)
    twilio_from: str | None = Field(default=None, pattern=r"^whatsapp:\+[0-9]{6,15}$")
    fallback_template: str = "parley_reengage"  # approved template sent outside the 24 h window
    fallback_template_language: str = "en_US"
    messages_per_second: int = 80


class IngestionSettings(ServiceSettings):
    service_name: str = "ingestion"
    business_numbers: dict[str, BusinessNumber] = Field(default_factory=dict)
    webhook_max_bytes: int = 1_048_576
    inbound_messages_per_minute: int = 20  # per customer; excess is recorded, not answered
    inbound_burst: int = 10
    # Meta's pair rate limit towards one customer is about 1 message per 6 s, with short bursts
    # tolerated; 5 lets a split reply or a reply plus buttons go out together.
    recipient_messages_per_6s: int = 5
    twilio_api_url: str = "https://api.twilio.com"
    twilio_webhook_url: str | None = None  # the public URL Twilio signs
    send_max_attempts: int = 5

    @field_validator("business_numbers")
    @classmethod
    def _numbers_are_meta_ids(cls, value: dict[str, BusinessNumber]) -> dict[str, BusinessNumber]:
        bad = [key for key in value if not is_phone_number_id(key)]
        if bad:
            raise ValueError(f"keys must be Meta phone_number_ids (digits only), not {bad}")
        return value

    def is_ours(self, phone_number_id: str) -> bool:
        """Whether the number is one this deployment serves (BUSINESS_NUMBERS)."""
        return phone_number_id in self.business_numbers

    def number(self, phone_number_id: str) -> BusinessNumber:
        """The configured number; InvalidInput (never retried) for one not configured, so
        nothing is ever sent from a number this deployment does not serve."""
        number = self.business_numbers.get(phone_number_id)
        if number is None:
            raise InvalidInput(f"{phone_number_id!r} is not one of the configured business numbers")
        return number

    wa_messages_table: str
    outbound_queue: str
    media_queue: str
    eum_inbound_topic: str
    whatsapp_secret_id: str
    twilio_secret_id: str
    whatsapp_graph_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"


class ContextSettings(ServiceSettings):
    service_name: str = "context"
    conversations_table: str
    sessions_table: str
    context_queue: str
    turns_queue: str
    history_ttl_days: int = 90
    media_wait_seconds: int = 60  # then the turn goes out with the media marked unavailable
    turn_timeout_seconds: int = 120  # a turn in flight longer is re-requested once, then handed off
    session_idle_hours: int = 24  # then the session is closed (session.closed)
    context_token_budget: int = 3000  # summary + recent messages in one turn.requested
    summary_trigger_messages: int = 40  # summarise once this many messages fall out of the window
    cache_messages: int = 50  # last messages kept in Redis per active conversation
    cache_ttl_seconds: int = 24 * 3600


class AiProcessingSettings(ServiceSettings):
    service_name: str = "ai_processing"
    turns_queue: str
    outbound_queue: str
    kb_events_queue: str
    kb_bucket: str
    # Knowledge retrieval: the SQLite FTS5 index built from kb_bucket, or a Bedrock Knowledge Base.
    retriever: Literal["sqlite", "bedrock"] = "sqlite"
    bedrock_knowledge_base_id: str | None = Field(default=None, validate_default=True)
    kb_index_prefix: str = "index/"  # where the index versions live in kb_bucket (not indexed)
    kb_chunk_chars: int = Field(default=800, ge=200)
    kb_chunk_overlap: int = Field(default=150, ge=0)
    kb_reload_seconds: float = Field(default=30.0, ge=0)  # how often a handler checks the version
    kb_cache_dir: str | None = None  # index copies per container; default: <tempdir>/parley-kb
    kb_max_document_bytes: int = 25_000_000
    # Passage vectors for hybrid search (BM25 + similarity): `wordllama` (offline, the local stage;
    # a development requirement), `bedrock` (AWS stages: Titan v2 or Cohere multilingual by model
    # id) or `none` (BM25 alone). Changing the model rebuilds the index on its next run.
    embedder: Literal["none", "wordllama", "bedrock"] = "none"
    bedrock_embedding_model: str = "amazon.titan-embed-text-v2:0"
    bedrock_embedding_dimensions: int = 256  # Titan v2: 256, 512 or 1024
    # The business API the get_application_status tool calls (GET <url>/<application id>).
    application_status_url: str | None = None
    # Chat-model provider (chalicelib.providers.build_chat_model): the offline local engine, Bedrock
    # Converse or any OpenAI-compatible server. A model id per tier (fast/standard/advanced).
    llm_provider: Literal["local", "bedrock", "openai"] = "local"
    bedrock_model_fast: str = "anthropic.claude-3-haiku-20240307-v1:0"
    bedrock_model_standard: str = "anthropic.claude-3-5-haiku-20241022-v1:0"
    bedrock_model_advanced: str = "anthropic.claude-3-5-sonnet-20241022-v2:0"
    bedrock_guardrail_id: str | None = None
    bedrock_guardrail_version: str = "DRAFT"
    bedrock_prompt_caching: bool = True
    openai_base_url: str = "http://localhost:8000/v1"
    openai_api_key: str | None = None  # local servers need none
    openai_api_key_secret_id: str | None = None  # Secrets Manager id, preferred over the key
    openai_model_fast: str = "local-model"
    openai_model_standard: str = "local-model"
    openai_model_advanced: str = "local-model"
    model_timeout_seconds: float = Field(default=20.0, gt=0)  # one model call
    model_retry_budget_seconds: float = Field(default=30.0, ge=0)  # all attempts of one call
    circuit_breaker_failures: int = Field(default=5, ge=1)  # consecutive failures that open it
    circuit_breaker_reset_seconds: float = Field(default=30.0, gt=0)  # open before a probe

    @field_validator("bedrock_knowledge_base_id")
    @classmethod
    def _knowledge_base_id_for_bedrock(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("retriever") == "bedrock" and not value:
            raise ValueError("required when RETRIEVER=bedrock")
        return value

    @field_validator("bedrock_embedding_dimensions")
    @classmethod
    def _titan_dimensions(cls, value: int) -> int:
        if value not in (256, 512, 1024):
            raise ValueError("Titan Text Embeddings v2 makes vectors of 256, 512 or 1024")
        return value


class MediaSettings(ServiceSettings):
    service_name: str = "media"
    media_queue: str
    media_bucket: str
    outbound_queue: str  # honest answers about media that cannot be used
    whatsapp_secret_id: str
    twilio_secret_id: str | None = None  # only when a number uses Twilio
    whatsapp_graph_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"
    media_kms_key_id: str | None = None  # default: the bucket's own (the stack key)
    business_numbers: dict[str, BusinessNumber] = Field(default_factory=dict)  # EUM ids


class EscalationSettings(ServiceSettings):
    service_name: str = "escalation"
    handoffs_table: str
    escalation_queue: str
    outbound_queue: str
    human_agents_topic: str
    crm_secret_id: str
    # The business's escalation policy: the packaged default, or a YAML object in S3.
    policy_bucket: str | None = None
    policy_key: str = "config/escalation_policy.yaml"
    sentiment: Literal["lexicon", "comprehend"] = "lexicon"  # Comprehend DetectSentiment in AWS
    context_api_url: str | None = None  # transcripts for the console (IAM-signed in AWS)
    console_url: str = "http://127.0.0.1:8005"  # where e-mails link agents to
    notify_email_from: str = "handoffs@parley.local"  # a verified SES identity


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def load_settings(model: type[SettingsT]) -> SettingsT:
    """Build and validate settings from the environment, naming every missing variable."""
    try:
        return model()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            variable = _variable_name(model, field)
            reason = "missing" if error["type"] == "missing" else error["msg"]
            problems.append(f"{variable} ({reason})")
        raise InvalidSettings(
            f"{model.__name__}: invalid environment: {', '.join(problems)}"
        ) from exc


def _variable_name(model: type[ServiceSettings], field: str) -> str:
    info = model.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    return str(alias) if isinstance(alias, str) else field.upper()


@cache
def cached_settings(model: type[SettingsT]) -> SettingsT:
    """Settings built once per container."""
    return load_settings(model)
