"""Texts shown to people, per interface language.

``Translated`` is what the data files must hold: every text a reader sees in all five interface
languages, so a reader of a Belarusian, Ukrainian or Polish ad never gets another language's text; a
file with one missing is refused when it is loaded, naming the file and the language. ``Localized``
is the older, looser shape (English and Russian, the rest optional, with fallbacks) that model files
store their flag specs in: a model file outlives the data, so it must keep loading.
"""

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


class Translated(Localized):
    """A short text in all five interface languages; none may be missing or empty."""

    be: str = Field(min_length=1)
    uk: str = Field(min_length=1)
    pl: str = Field(min_length=1)
