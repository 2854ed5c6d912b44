"""What the customer is told about their media, in their language (the business profile's
`media.*` texts, English and Spanish), and the low-confidence rule: a transcript below the
threshold is confirmed with the customer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.media_understanding import Transcript, primary_language

if TYPE_CHECKING:
    from parley.business_profile import BusinessProfile


def message(
    name: str, language: str | None, profile: BusinessProfile | None = None, **values: object
) -> str:
    """The profile's text `media.<name>` in the customer's language (English when it is neither
    en nor es). `profile`: the service's (default: the BUSINESS_PROFILE setting's)."""
    if profile is None:
        from parley.business_profile import load_profile

        profile = load_profile()
    return profile.say(f"media.{name}", primary_language(language), **values)


def needs_confirmation(transcript: Transcript, threshold: float) -> bool:
    """Whether to ask "I heard: …, is that right?" (a threshold of 0 never asks)."""
    return bool(transcript.text) and transcript.confidence < threshold


def confirmation(
    transcript: Transcript, language: str | None, profile: BusinessProfile | None = None
) -> str:
    """The confirmation question, in the transcript's language (else the session's)."""
    return message(
        "confirm", primary_language(transcript.language) or language, profile, text=transcript.text
    )
