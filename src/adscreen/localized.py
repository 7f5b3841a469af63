"""Texts shown to people, in English and Russian at least, with sensible fallbacks."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

UI_LANGUAGES = ("en", "ru", "be", "uk", "pl")
# Readers of Belarusian and Ukrainian ads read Russian more often than English.
_FALLBACK = {"be": "ru", "uk": "ru"}


class Localized(BaseModel):
    """A short text in English and Russian (Belarusian, Ukrainian, Polish optional)."""

    model_config = ConfigDict(extra="forbid")
    en: str = Field(min_length=1)
    ru: str = Field(min_length=1)
    be: str | None = None
    uk: str | None = None
    pl: str | None = None

    def get(self, language: str) -> str:
        """The text in the language, else its fallback (Russian for be/uk, English otherwise)."""
        return getattr(self, language, None) or getattr(self, _FALLBACK.get(language, "en"))
