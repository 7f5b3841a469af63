"""Which language an ad is written in: ru, be, uk, pl, en, or other.

Uses lingua (built for short and mixed texts) restricted to the five supported
languages and a few common neighbours, so that an ad in German or Lithuanian is
reported as "other" instead of being forced into one of ours.

Two detectors, for memory: lingua's high-accuracy models of 14 languages cost about 370 MiB
in every process that scores. Its low-accuracy mode (about 30 MiB) tells the 14 apart as well
on our ads, except Russian, Belarusian and Ukrainian from each other. So an ad it calls one of
those three is asked again of a high-accuracy detector of those three only (about 100 MiB).
Against the single high-accuracy detector: the same answer on every sample ad, and 13 of 3,189
real ads differ, none between ru, be and uk (``tests/test_language.py`` lists them).
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


EAST_SLAVIC = (Language.RUSSIAN, Language.BELARUSIAN, Language.UKRAINIAN)


@lru_cache(maxsize=1)
def _detectors() -> tuple[LanguageDetector, LanguageDetector]:
    """Low accuracy over every language, then high accuracy among ru, be and uk (see the module docstring);
    both always answer with the best guess (no minimum distance)."""
    every = LanguageDetectorBuilder.from_languages(*SUPPORTED, *OTHERS).with_low_accuracy_mode()
    east_slavic = LanguageDetectorBuilder.from_languages(*EAST_SLAVIC)
    return (
        every.with_minimum_relative_distance(0.0).build(),
        east_slavic.with_minimum_relative_distance(0.0).build(),
    )


def detect_language(text: str) -> str:
    """The ad's language code; ``other`` for anything else, including text without letters."""
    if not any(char.isalpha() for char in text):
        return OTHER
    every, east_slavic = _detectors()
    detected = every.detect_language_of(text)
    if detected in EAST_SLAVIC:
        detected = east_slavic.detect_language_of(text)
    return SUPPORTED.get(detected, OTHER) if detected is not None else OTHER


def warm_up() -> None:
    """Load the language models now: lingua loads them on first use, which costs the first ad seconds.

    One Cyrillic and one Latin text make both detectors load every model they can consider.
    """
    detect_language("Работа за границей, жильё бесплатно. Праца за мяжой. Робота за кордоном, житло безкоштовно.")
    detect_language("Work abroad, housing paid. Praca za granicą, zakwaterowanie. Arbeit im Ausland, Unterkunft.")
