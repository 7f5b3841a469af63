"""The web form at ``/``: paste an ad, pick a country, read the result. Server-rendered, works without JavaScript.

Interface strings live in ``data/ui/*.yaml``; the language comes from ``?lang=``, else
the browser's Accept-Language, else English. Jinja2 autoescaping is on, so an ad that
contains HTML or script is shown as text. Under a result, a person may send the ad as a
correction (``POST /feedback``); nothing else that is pasted is stored.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import RootModel

from adscreen.datafiles import read_yaml, validated
from adscreen.errors import AdscreenError, RuleConfigError, http_status, public_message
from adscreen.paths import DATA_DIR
from adscreen.rules.guidance import Guide
from adscreen.scoring import check_text
from adscreen.serve.deps import FeedbackDep, ScorerDep, ServingDep, SettingsDep, admit_feedback
from adscreen.training.feedback import correction

WEB_DIR = Path(__file__).resolve().parent / "web"
UI_DIR = DATA_DIR / "ui"
DEFAULT_UI_LANGUAGE = "en"

templates = Jinja2Templates(directory=WEB_DIR / "templates")
router = APIRouter(include_in_schema=False)
static = StaticFiles(directory=WEB_DIR / "static")


UiStrings = RootModel[dict[str, str]]


def load_ui_strings(directory: Path) -> dict[str, dict[str, str]]:
    """Every UI language file, validated: a mapping of keys to texts, with every key of the English one.

    A broken file is a RuleConfigError naming it and the problem; ``create_app`` loads these
    once, so a server with a broken file does not start.
    """
    strings = {path.stem: validated(path, UiStrings, read_yaml(path)).root for path in sorted(directory.glob("*.yaml"))}
    if DEFAULT_UI_LANGUAGE not in strings:
        raise RuleConfigError(f"{directory}: no {DEFAULT_UI_LANGUAGE}.yaml, the reference interface language")
    reference = set(strings[DEFAULT_UI_LANGUAGE])
    for language, table in strings.items():
        missing = sorted(reference - set(table))
        if missing:
            raise RuleConfigError(f"{directory / (language + '.yaml')}: missing keys {missing}")
    return strings


@lru_cache(maxsize=1)
def ui_strings() -> dict[str, dict[str, str]]:
    """The interface strings, loaded once (first by ``create_app``)."""
    return load_ui_strings(UI_DIR)


def choose_language(query: str | None, accept_language: str | None) -> str:
    """``?lang=`` first, then the first Accept-Language entry we have, then English."""
    available = ui_strings()
    if query in available:
        return query
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in available:
            return code
    return DEFAULT_UI_LANGUAGE


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


def _countries(guide: Guide, language: str) -> list[tuple[str, str]]:
    """The country picker: every country with hotlines, by name in the interface language."""
    countries = guide.hotlines.countries
    return sorted(((code, entry.name.get(language)) for code, entry in countries.items()), key=lambda item: item[1])


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
            "languages": sorted(strings),
            "countries": _countries(scorer.guide, language),
            "feedback": request.app.state.settings.feedback,  # offer "Is this result wrong?" only when it is taken
            **context,
        },
        status_code=status_code,
    )


def _refused(
    request: Request, scorer: ScorerDep, language: str, country: str, text: str, error: AdscreenError
) -> HTMLResponse:
    """The form again, with what was pasted and why it was refused, under the error's HTTP status."""
    status = http_status(error)
    return _page(request, scorer, language, country=country, text=text, error=public_message(error), status_code=status)


@router.get("/", response_class=HTMLResponse)
def form(request: Request, scorer: ScorerDep, settings: SettingsDep, lang: str | None = None) -> Response:
    language = choose_language(lang, request.headers.get("accept-language"))
    thanks = request.query_params.get("thanks") == "1"
    return _page(request, scorer, language, country=settings.default_country, text="", thanks=thanks)


@router.post("/", response_class=HTMLResponse)
async def check(
    request: Request,
    serving: ServingDep,
    settings: SettingsDep,
    text: Annotated[str, Form(max_length=1_000_000)] = "",
    country: Annotated[str, Form(max_length=16)] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    language = choose_language(lang or request.query_params.get("lang"), request.headers.get("accept-language"))
    strings = ui_strings()[language]
    scorer = serving.scorer
    try:
        text = check_text(text, settings.max_ad_chars)
        result = await serving.score(text, country or None, language, settings.score_seconds)
    except AdscreenError as error:
        return _refused(request, scorer, language, country, text, error)
    return _page(
        request,
        scorer,
        language,
        country=country,
        text=text,
        result=result,
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
