"""The web form at ``/``: paste an ad, pick a country, read the result. Server-rendered, works without JavaScript.

Interface strings live in ``data/ui/*.yaml``, one file per interface language (en, ru, be,
uk, pl), each with exactly the keys of the others (``adscreen.ui``, shared with the terminal). The language comes from ``?lang=``, else
the browser's Accept-Language, else the ad's own language, else English. A result opens
with the answer (``serve.result_view``); the rest follows in ``<details>`` sections. Jinja2 autoescaping is on, so an ad that
contains HTML or script is shown as text. Under a result, a person may send the ad as a
correction (``POST /feedback``); nothing else that is pasted is stored.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from adscreen.errors import AdscreenError, http_status, public_message
from adscreen.localized import UI_LANGUAGES
from adscreen.rules.guidance import Guide
from adscreen.scoring import check_text
from adscreen.serve.deps import FeedbackDep, ScorerDep, ServingDep, SettingsDep, admit_feedback
from adscreen.serve.result_view import ad_language, first_screen, phone_href
from adscreen.training.feedback import correction
from adscreen.ui import DEFAULT_UI_LANGUAGE, ui_strings

WEB_DIR = Path(__file__).resolve().parent / "web"

templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.filters["tel"] = phone_href  # "8 801 201 5555" -> "tel:88012015555"; "" when not dialable
router = APIRouter(include_in_schema=False)
static = StaticFiles(directory=WEB_DIR / "static")


def requested_language(query: str | None, accept_language: str | None) -> str | None:
    """The language the reader asked for: ``?lang=`` first, then the first Accept-Language entry
    we have; None when neither names one of ours."""
    available = ui_strings()
    if query in available:
        return query
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in available:
            return code
    return None


def choose_language(query: str | None, accept_language: str | None, ad_language: str | None = None) -> str:
    """``?lang=``, then Accept-Language, then the ad's language, then English."""
    requested = requested_language(query, accept_language)
    if requested:
        return requested
    return ad_language if ad_language in ui_strings() else DEFAULT_UI_LANGUAGE


@dataclass(frozen=True)
class Mark:
    """One piece of evidence over a stretch of the ad."""

    kind: str  # "flag", "up" (raises the risk) or "down" (lowers it)
    label: str


@dataclass(frozen=True)
class Segment:
    text: str
    marks: tuple[Mark, ...]

    @property
    def kind(self) -> str:
        kinds = {mark.kind for mark in self.marks}
        return "flag" if "flag" in kinds else ("up" if "up" in kinds else "down")

    @property
    def explanation(self) -> str:
        return " · ".join(dict.fromkeys(mark.label for mark in self.marks))


def highlight(text: str, result: dict, strings: dict[str, str]) -> list[Segment]:
    """The ad cut into stretches, each with the evidence (flags and terms) that covers it."""
    evidence: list[tuple[int, int, Mark]] = []
    for flag in result["red_flags"]:
        for start, end in flag["spans"]:
            evidence.append((start, end, Mark("flag", f"{flag['title']}: {flag['why']}")))
    for term in result["top_terms"]:
        kind, verb = ("up", strings["raises"]) if term["weight"] > 0 else ("down", strings["lowers"])
        for start, end in term["spans"]:
            evidence.append((start, end, Mark(kind, f"“{text[start:end]}” {verb} ({term['weight']:+.2f})")))
    cuts = sorted({0, len(text), *(position for start, end, _ in evidence for position in (start, end))})
    segments = []
    for start, end in itertools.pairwise(cuts):
        if start >= end:
            continue
        marks = tuple(mark for mark_start, mark_end, mark in evidence if mark_start <= start and end <= mark_end)
        segments.append(Segment(text[start:end], marks))
    return segments


def _country_names(guide: Guide, language: str) -> dict[str, str]:
    """Every country with hotlines, by code, named in the interface language."""
    return {code: entry.name.get(language) for code, entry in guide.hotlines.countries.items()}


def _countries(guide: Guide, language: str) -> list[tuple[str, str]]:
    """The country picker: every country with hotlines, by name in the interface language."""
    return sorted(_country_names(guide, language).items(), key=lambda item: item[1])


def _languages() -> list[tuple[str, str]]:
    """The language switch: each interface language's code and its own name, in UI_LANGUAGES order."""
    strings = ui_strings()
    ordered = [code for code in UI_LANGUAGES if code in strings] + sorted(set(strings) - set(UI_LANGUAGES))
    return [(code, strings[code]["language_name"]) for code in ordered]


def _page(
    request: Request, scorer: ScorerDep, language: str, status_code: int = 200, **context: object
) -> HTMLResponse:
    strings = ui_strings()
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "t": strings[language],
            "lang": language,
            "languages": _languages(),
            "countries": _countries(scorer.guide, language),
            "feedback": request.app.state.settings.feedback,  # offer "Is this result wrong?" only when it is taken
            **context,
        },
        status_code=status_code,
    )


def _refused(
    request: Request,
    scorer: ScorerDep,
    language: str,
    country: str,
    text: str,
    error: AdscreenError,
    chosen: str = "",
) -> HTMLResponse:
    """The form again, with what was pasted and why it was refused, under the error's HTTP status."""
    status = http_status(error)
    message = public_message(error)
    return _page(
        request, scorer, language, chosen=chosen, country=country, text=text, error=message, status_code=status
    )


@router.get("/", response_class=HTMLResponse)
def form(request: Request, scorer: ScorerDep, settings: SettingsDep, lang: str | None = None) -> Response:
    language = choose_language(lang, request.headers.get("accept-language"))
    thanks = request.query_params.get("thanks") == "1"
    # Only a language chosen in the address travels with the form: otherwise the next page
    # follows Accept-Language, then the ad's own language.
    chosen = lang if lang in ui_strings() else ""
    return _page(request, scorer, language, chosen=chosen, country=settings.default_country, text="", thanks=thanks)


@router.post("/", response_class=HTMLResponse)
async def check(
    request: Request,
    serving: ServingDep,
    settings: SettingsDep,
    text: Annotated[str, Form(max_length=1_000_000)] = "",
    country: Annotated[str, Form(max_length=16)] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    query = lang or request.query_params.get("lang")
    requested = requested_language(query, request.headers.get("accept-language"))
    chosen = query if query in ui_strings() else ""
    scorer = serving.scorer
    try:
        text = check_text(text, settings.max_ad_chars)
        # With no language requested, the scorer writes the guidance in the ad's own language.
        result = await serving.score(text, country or None, requested, settings.score_seconds)
    except AdscreenError as error:
        language = requested or DEFAULT_UI_LANGUAGE
        return _refused(request, scorer, language, country, text, error, chosen)
    language = choose_language(query, request.headers.get("accept-language"), result["language"])
    strings = ui_strings()[language]
    return _page(
        request,
        scorer,
        language,
        chosen=chosen,
        country=country,
        text=text,
        result=result,
        screen=first_screen(result, _country_names(scorer.guide, language)),
        ad_lang=ad_language(result["language"], ui_strings()),
        segments=highlight(text, result, strings),
    )


@router.post("/feedback", response_class=HTMLResponse)
def send_correction(
    request: Request,
    scorer: ScorerDep,
    store: FeedbackDep,
    text: Annotated[str, Form(max_length=1_000_000)] = "",
    label: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=10_000)] = "",
    model_name: Annotated[str, Form(max_length=200)] = "",
    model_version: Annotated[str, Form(max_length=200)] = "",
    country: Annotated[str, Form(max_length=16)] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Store the ad the person chose to send as a correction, then show the form again with thanks.

    Redirects after the POST, so reloading the thank-you page does not send the ad twice.
    """
    language = choose_language(lang or request.query_params.get("lang"), request.headers.get("accept-language"))
    try:
        admit_feedback(request)
        item = correction(
            text=text, label=label, note=note, model_name=model_name or None, model_version=model_version or None
        )
        store.add(item, source="web")
    except AdscreenError as error:
        return _refused(request, scorer, language, country, text, error)
    return RedirectResponse(f"/?lang={language}&thanks=1", status_code=303)
