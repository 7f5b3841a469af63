"""Scoring: one ad in, one result out. The one place that composes model, flags, explanation and guidance.

The CLI, the API, the web form and batch scoring all call a ``Scorer``; none of
them computes a risk or picks a hotline on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from adscreen.config import MAX_AD_CHARS, TOO_SHORT_WORDS
from adscreen.errors import InputError, InputTooLarge
from adscreen.language import detect_language
from adscreen.language import warm_up as warm_up_language
from adscreen.localized import UI_LANGUAGES
from adscreen.paths import REDFLAGS_DIR
from adscreen.rules.contacts import contact_keys
from adscreen.rules.contacts import extract as extract_contacts
from adscreen.rules.guidance import Guide
from adscreen.rules.indicators import default_indicators
from adscreen.rules.redflags import FlagMatch, FlagSet, FlagTexts, default_flag_texts, default_shown_patterns
from adscreen.text import NOT_UTF8, fold, tokenise_folded, undecodable, word_count
from adscreen.ui import ui_strings

if TYPE_CHECKING:
    from adscreen.explain import Explainer
    from adscreen.registry import LoadedModel

_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
WARM_UP_TEXT = "Работа за границей, жильё бесплатно. Work abroad, no experience, write on Telegram."


def check_text(text: object, max_chars: int = MAX_AD_CHARS) -> str:
    """The ad text if it can be scored, else an InputError that says why."""
    if not isinstance(text, str):
        raise InputError(f"the ad text must be a string, got {type(text).__name__}")
    if not text.strip():
        raise InputError("the ad text is empty")
    if len(text) > max_chars:
        raise InputTooLarge(f"the ad text has {len(text)} characters; the limit is {max_chars}")
    return text


EMPTY_CELL = "no text (the cell is empty)"


def text_problem(value: object, max_chars: int = MAX_AD_CHARS) -> str | None:
    """Why a table cell cannot be scored as an ad, or None when it can: the one check every command applies."""
    if value is None:
        return EMPTY_CELL
    if not isinstance(value, str):
        import pandas as pd  # a table's other cells only: a process that scores text never loads pandas

        if pd.api.types.is_scalar(value) and pd.isna(value):
            return EMPTY_CELL
    try:
        text = check_text(value, max_chars)
    except InputError as error:
        return str(error)
    return NOT_UTF8 if undecodable(text) else None


@dataclass(frozen=True)
class BatchScores:
    """Scores of many ads at once: no explanations, one vectorised pass."""

    risks: np.ndarray
    bands: list[str]
    labels: list[str]
    red_flags: list[list[str]]  # the ids of the flags that raise the risk
    indicators: list[int]  # trafficking indicators among every flag that fired, as ``score`` counts them
    caveats: list[list[str]]  # the ids of what limits how far each risk can be trusted (``caveat_ids``)
    contacts: list[list[str]] | None = None  # each ad's contacts as ``kind:value`` keys, when asked for


class Scorer:
    """A loaded model with its guide; score() gives the result of the contract."""

    def __init__(self, loaded: LoadedModel, guide: Guide, max_chars: int = MAX_AD_CHARS) -> None:
        self.loaded = loaded
        self.guide = guide
        self.max_chars = max_chars

    # Built on first use, not here: the HTTP process of a server with scoring processes holds a Scorer for
    # the model's name and guide only, and its model (deferred, see ``LoadedModel``) is then never read.
    @cached_property
    def flags(self) -> FlagSet:
        """The model's flags (its features), showing the data files' shown patterns (``rules.redflags``)."""
        return self.loaded.scoring.flags.with_shown(default_shown_patterns(), str(REDFLAGS_DIR))

    @cached_property
    def _raising(self) -> list[bool]:
        return [flag.spec.effect == "raises" for flag in self.flags.flags]

    @cached_property
    def flag_texts(self) -> dict[str, FlagTexts]:
        """The model decides which flags fire; the data files say what they mean, in every language."""
        return default_flag_texts()

    @cached_property
    def explainer(self) -> Explainer:
        from adscreen.explain import Explainer  # with the model: a process that only holds it needs no explainer

        return Explainer(self.loaded.scoring)

    def warm_up(self, language_models: bool = True) -> None:
        """Do now what the first ad would otherwise wait seconds for: read the model, index its vocabularies,
        load the flags' prefilter, compile their regexes and, unless the ads' languages come with them, the
        language models.
        A server calls it where it scores."""
        folded = fold(WARM_UP_TEXT)
        self.flags.compile_all()
        self.explainer.explain(tokenise_folded(folded), self.flags.scan(folded).fired)
        if language_models:
            warm_up_language()

    @property
    def model_info(self) -> dict:
        return {"name": self.loaded.name, "version": self.loaded.version}

    def score(
        self, text: object, country: str | None = None, ui_language: str | None = None, language: str | None = None
    ) -> dict:
        """Risk, band, label, red flags, top terms, guidance and language of one ad.

        ``language`` is the ad's language (``detect_language``) when the caller has it: a server's HTTP
        process detects it, so that its scoring processes hold no language models.
        """
        text = check_text(text, self.max_chars)
        model = self.loaded.scoring
        folded = fold(text)  # once: flags, features and destinations all read it
        flags = self.flags.scan(folded)
        matches = flags.matches
        explanation = self.explainer.explain(tokenise_folded(folded), flags.fired)
        offset = float(model.offsets_of([text])[0])
        risk = float(model.calibrate(np.array([explanation.decision]), offset)[0])
        band = model.bands.of(risk)
        language = language or detect_language(text)
        shown_language = (
            ui_language if ui_language in UI_LANGUAGES else (language if language in UI_LANGUAGES else "en")
        )
        shown_terms = explanation.top_terms()
        return {
            "risk": round(risk, 4),
            "band": band,
            "label": model.label(risk),
            "red_flags": _flags(matches, "raises", explanation.flag_weights, shown_language, self.flag_texts),
            "risk_lowering": _flags(matches, "lowers", explanation.flag_weights, shown_language, self.flag_texts),
            "top_terms": [
                {
                    "term": text[term.spans[0][0] : term.spans[0][1]] if term.spans else term.key,
                    "feature": term.key,
                    "weight": round(term.weight, 4),
                    "spans": [list(span) for span in term.spans],
                }
                for term in shown_terms
            ],
            "contributions": {
                "intercept": round(explanation.intercept, 6),
                "terms_shown": round(sum(term.weight for term in shown_terms), 6),
                "flags": round(sum(explanation.flag_weights.values()), 6),
                "remaining": round(explanation.remaining(shown_terms), 6),
                "decision": round(explanation.decision, 6),
                # What the ad's language adds before calibration, so that risks mean the same in every language.
                "language_offset": round(offset, 6),
            },
            "guidance": self.guide.guidance(band, country, self.guide.destinations_in(folded), shown_language),
            "caveats": _caveats(text, shown_language),
            "language": language,
            "model": self.model_info,
            # For analysts: how many trafficking indicators, and the contacts that link reposts.
            "indicators": default_indicators().count(match.flag.id for match in matches).as_dict(),
            "contacts": [contact.as_dict() for contact in extract_contacts(text, country)],
        }

    def score_many(
        self, texts: Sequence[str], contacts_country: str | None = None, contacts: bool = False
    ) -> BatchScores:
        """Risk, band, label, red-flag ids and indicator counts of many valid ads: one pass through the pipeline;
        with ``contacts``, each ad's contacts too (``contacts_country`` reads national phone numbers)."""
        from adscreen.scoring_model import prepare  # with the model: the HTTP process of a server never scores

        model = self.loaded.scoring
        normalised, flag_rows, shown_rows = prepare(texts, self.flags)
        decisions = model.decisions(self.explainer.vectorizer.matrix(normalised, flag_rows))
        risks = model.calibrate(decisions, model.offsets_of(texts))
        ids = self.flags.ids
        shown = [np.flatnonzero(row) for row in shown_rows]
        indicators = default_indicators()
        return BatchScores(
            risks=risks,
            bands=[model.bands.of(float(risk)) for risk in risks],
            labels=[model.label(float(risk)) for risk in risks],
            red_flags=[[ids[i] for i in row if self._raising[i]] for row in shown],
            indicators=[indicators.count(ids[i] for i in row).count for row in shown],
            caveats=[caveat_ids(text) for text in texts],
            contacts=[contact_keys(extract_contacts(text, contacts_country)) for text in texts] if contacts else None,
        )


def caveat_ids(text: str) -> list[str]:
    """What limits how far this ad's risk can be trusted: so far, too few words (the model scores them on its
    priors). The ids are the result's ``caveats`` and the batch column of the same name."""
    return ["too_short"] if word_count(text) < TOO_SHORT_WORDS else []


def _caveats(text: str, language: str) -> list[dict]:
    """``caveat_ids`` with their messages, in the language shown."""
    strings = ui_strings()[language]
    words = word_count(text)
    return [
        {"id": caveat, "message": strings[f"caveat_{caveat}"].format(words=words, enough=TOO_SHORT_WORDS)}
        for caveat in caveat_ids(text)
    ]


def _flags(
    matches: list[FlagMatch], effect: str, weights: dict[str, float], language: str, texts: dict[str, FlagTexts]
) -> list[dict]:
    """The flags of one effect, strongest first, in the reader's language (the model's own texts for a flag
    the data files no longer have)."""
    shown = [
        {
            "id": match.flag.id,
            "title": texts.get(match.flag.id, match.flag.spec).title.get(language),
            "why": texts.get(match.flag.id, match.flag.spec).why.get(language),
            "severity": match.flag.spec.severity,
            "weight": round(weights.get(match.flag.id, 0.0), 4),
            # False for a sign found only by a shown pattern: the model's score does not count it (weight 0).
            "weighed": match.weighed,
            "spans": [list(span) for span in match.spans],
        }
        for match in matches
        if match.flag.spec.effect == effect
    ]
    return sorted(shown, key=lambda flag: (_SEVERITY_ORDER[flag["severity"]], -abs(flag["weight"])))
