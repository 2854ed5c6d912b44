"""What the business says to its customers: every customer-facing phrase of the platform, in
English and Spanish, comes from the business's profile, never from service code.

A profile is a folder of YAML files under `parley/profiles/<name>/` (packaged with every service);
the files are merged, so each service's texts can live in a file of their own, and a key defined
twice is an error. `business:` holds the fields every text may use ({name}, {assistant}, {team},
{topics}); `texts:` maps a key to its English and Spanish wording. `BUSINESS_PROFILE` (a setting)
names the profile; the demo university's is the default.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from parley.errors import InvalidSettings

Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = ("en", "es")
PROFILES = Path(__file__).resolve().parent / "profiles"
DEFAULT_PROFILE = "demo_university"


class Localised(BaseModel):
    """One phrase in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str
    es: str

    def get(self, language: str) -> str:
        return self.es if language == "es" else self.en


class BusinessFields(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Localised
    assistant: Localised
    team: Localised
    topics: Localised


class BusinessProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    business: BusinessFields
    texts: dict[str, Localised]

    def say(self, key: str, language: str, **fields: object) -> str:
        """The text `key` in `language` (English for any other), its placeholders filled from the
        business fields and `fields`."""
        text = self.texts.get(key)
        if text is None:
            raise InvalidSettings(f"the business profile has no text {key!r}")
        values: dict[str, object] = {
            name: getattr(self.business, name).get(language) for name in BusinessFields.model_fields
        }
        values.update(fields)
        return text.get(language).format_map(values)

    def has(self, key: str) -> bool:
        return key in self.texts


def load_profile_dir(folder: Path) -> BusinessProfile:
    """Merge every YAML file of `folder` into one profile."""
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise InvalidSettings(f"business profile {folder.name!r} has no YAML files")
    business: dict[str, object] = {}
    texts: dict[str, object] = {}
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        business.update(data.get("business") or {})
        for key, value in (data.get("texts") or {}).items():
            if key in texts:
                raise InvalidSettings(f"text {key!r} is defined twice (again in {path.name})")
            texts[key] = value
    try:
        return BusinessProfile.model_validate({"business": business, "texts": texts})
    except ValidationError as exc:
        raise InvalidSettings(f"business profile {folder.name!r} is invalid: {exc}") from exc


@cache
def load_profile(name: str | None = None) -> BusinessProfile:
    """The named profile (default: the `BUSINESS_PROFILE` setting, else the demo's)."""
    chosen = name or os.environ.get("BUSINESS_PROFILE") or DEFAULT_PROFILE
    folder = PROFILES / chosen
    if not folder.is_dir() or chosen != folder.name:
        raise InvalidSettings(f"BUSINESS_PROFILE {chosen!r} is not a profile of parley/profiles")
    return load_profile_dir(folder)


def say(key: str, language: str, **fields: object) -> str:
    """The business's text `key` in `language` (see BusinessProfile.say)."""
    return load_profile().say(key, language, **fields)
