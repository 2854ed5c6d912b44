"""What the assistant says itself (not composed by a model): the business profile's `ai.*` texts
(parley/profiles/<profile>/ai_answers.yaml), in English and Spanish."""

from __future__ import annotations

from parley import business_profile


def say(key: str, language: str, **fields: object) -> str:
    """The profile's text `ai.<key>` in `language` (English for any other)."""
    return business_profile.say(f"ai.{key}", language, **fields)


def offer_buttons(language: str) -> list[str]:
    """The reply buttons of an offer to connect the customer with a person."""
    return [say("offer_person", language), say("decline_offer", language)]
