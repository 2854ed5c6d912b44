"""The CRM adapter of a business, built from the CRM secret (JSON in Secrets Manager).

The secret's top level is the default configuration; `businesses` may hold a complete
configuration per business `phone_number_id` that replaces it for that number:

    {"provider": "webhook", "webhook_url": "https://…", "signing_secret": "…",
     "businesses": {"106540352242922": {"provider": "hubspot", "access_token": "pat-…"}}}

`provider` is `salesforce`, `hubspot`, `webhook` or `none`. Credentials are checked when a call
is about to be sent (a placeholder raises `SecretNotSet` and sends nothing); other settings when
the adapter is built (`ConfigurationError` naming the problem).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from parley.crm import Crm
from parley.errors import ConfigurationError
from parley.secrets import Credential, credential_label, secret_json

if TYPE_CHECKING:
    import requests

PROVIDERS = ("salesforce", "hubspot", "webhook", "none")


def business_config(secret: Mapping[str, Any], phone_number_id: str | None) -> dict[str, Any]:
    """The configuration that applies to `phone_number_id` (the default when it has none)."""
    businesses = secret.get("businesses") or {}
    if not isinstance(businesses, Mapping):
        raise ConfigurationError("CRM secret: `businesses` must be an object")
    chosen = businesses.get(phone_number_id) if phone_number_id else None
    if chosen is None:
        return {k: v for k, v in secret.items() if k != "businesses"}
    if not isinstance(chosen, Mapping):
        raise ConfigurationError(f"CRM secret: businesses.{phone_number_id} must be an object")
    return dict(chosen)


def build_crm(config: Mapping[str, Any], *, session: requests.Session | None = None) -> Crm:
    """The adapter for one configuration (see the module docstring for the keys)."""
    provider = config.get("provider", "none")
    try:
        return _BUILDERS[provider](config, session)
    except KeyError:
        raise ConfigurationError(
            f"CRM provider must be one of {', '.join(PROVIDERS)}, not {str(provider)[:30]!r}"
        ) from None
    except ValidationError as error:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors())
        raise ConfigurationError(f"CRM {provider} configuration is invalid: {fields}") from error


def _salesforce(config: Mapping[str, Any], session: requests.Session | None) -> Crm:
    from chalicelib.crm.salesforce import SalesforceCredentials, SalesforceCrm, SalesforceSettings

    return SalesforceCrm(
        SalesforceSettings.model_validate(config),
        SalesforceCredentials.model_validate(config),
        session=session,
    )


def _hubspot(config: Mapping[str, Any], session: requests.Session | None) -> Crm:
    from chalicelib.crm.hubspot import HubSpotCrm, HubSpotSettings

    settings = HubSpotSettings.model_validate(config)
    return HubSpotCrm(settings, config.get("access_token"), session=session)


def _webhook(config: Mapping[str, Any], session: requests.Session | None) -> Crm:
    from chalicelib.crm.webhook import WebhookCrm, WebhookSettings

    settings = WebhookSettings.model_validate(config)
    return WebhookCrm(settings, config.get("signing_secret"), session=session)


def _none(config: Mapping[str, Any], session: requests.Session | None) -> Crm:
    from chalicelib.crm.memory import NullCrm

    return NullCrm()


_BUILDERS: dict[str, Callable[[Mapping[str, Any], Any], Crm]] = {
    "salesforce": _salesforce,
    "hubspot": _hubspot,
    "webhook": _webhook,
    "none": _none,
}


class CrmDirectory:
    """`directory(phone_number_id)` → that business's adapter. Adapters are cached and rebuilt
    when the secret's configuration for the business changes (the secret itself is cached for
    a few minutes by parley.secrets, so a rotated credential is picked up without a deploy)."""

    def __init__(
        self,
        secret_id: str,
        *,
        read_secret: Callable[[str], Mapping[str, Any]] = secret_json,
        session: requests.Session | None = None,
    ) -> None:
        self.secret_id = secret_id
        self._read = read_secret
        self._session = session
        self._cache: dict[str | None, tuple[str, Crm]] = {}
        self._lock = threading.Lock()

    def __call__(self, phone_number_id: str | None = None) -> Crm:
        config = business_config(self._read(self.secret_id), phone_number_id)
        fingerprint = hashlib.sha256(
            json.dumps(config, sort_keys=True, default=str).encode()
        ).hexdigest()
        with self._lock:
            hit = self._cache.get(phone_number_id)
            if hit is not None and hit[0] == fingerprint:
                return hit[1]
        crm = build_crm(config, session=self._session)
        with self._lock:
            self._cache[phone_number_id] = (fingerprint, crm)
        return crm


def crm_credentials(secret_id: str, secret: Mapping[str, Any]) -> list[Credential]:
    """The credentials the default configuration's provider needs, for `/health/details`
    (parley.secrets' fixed `CRM: signing_secret` only fits the webhook provider)."""
    return [
        Credential(secret_id, key, credential_label("CRM", key)) for key in credential_keys(secret)
    ]


def credential_keys(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys holding the credentials one configuration's provider needs."""
    provider = config.get("provider", "none")
    if provider == "salesforce":
        if "username" in config:
            return ("password", "security_token")
        if "consumer_key" in config:
            return ("consumer_key", "consumer_secret")
        return ("session_id",)
    return {"hubspot": ("access_token",), "webhook": ("signing_secret",)}.get(str(provider), ())
