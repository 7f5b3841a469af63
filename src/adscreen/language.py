"""Which language an ad is written in: ru, be, uk, pl, en, or other.

Uses lingua (built for short and mixed texts) restricted to the five supported
languages and a few common neighbours, so that an ad in German or Lithuanian is
reported as "other" instead of being forced into one of ours.
"""

from __future__ import annotations

from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

SUPPORTED = {
    Language.RUSSIAN: "ru",
    Language.BELARUSIAN: "be",
    Language.UKRAINIAN: "uk",
    Language.POLISH: "pl",
    Language.ENGLISH: "en",
}
# Neighbours whose ads reach the same readers; detecting them keeps "other" honest.
OTHERS = (
    Language.GERMAN,
    Language.FRENCH,
    Language.SPANISH,
    Language.ITALIAN,
    Language.LITHUANIAN,
    Language.LATVIAN,
    Language.ROMANIAN,
    Language.TURKISH,
    Language.CZECH,
)
OTHER = "other"


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*SUPPORTED, *OTHERS).with_minimum_relative_distance(0.0).build()


def detect_language(text: str) -> str:
    """The ad's language code; ``other`` for anything else, including text without letters."""
    if not any(char.isalpha() for char in text):
        return OTHER
    detected = _detector().detect_language_of(text)
    return SUPPORTED.get(detected, OTHER) if detected is not None else OTHER


def warm_up() -> None:
    """Load the language models now: lingua loads them on first use, which costs the first ad seconds.

    One Cyrillic and one Latin text make it load every model the detector can consider.
    """
    detect_language("Работа за границей, жильё бесплатно. Праца за мяжой. Робота за кордоном, житло безкоштовно.")
    detect_language("Work abroad, housing paid. Praca za granicą, zakwaterowanie. Arbeit im Ausland, Unterkunft.")
