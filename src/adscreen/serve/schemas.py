"""Request and response models of the HTTP API, one family: ``AdIn`` / ``ResultOut``, ``BatchIn`` / ``BatchOut``."""

from __future__ import annotations

from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from adscreen.training.feedback import Correction


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdIn(Strict):
    text: str = Field(
        description="The ad as the person saw it (plain text).", examples=["Девушки 18-25, работа в Дубае..."]
    )
    country: str | None = Field(
        default=None, max_length=16, description="The reader's country, ISO code (BY, UA, PL...)."
    )
    language: str | None = Field(
        default=None, max_length=8, description="Language of the explanations: en, ru, be, uk, pl."
    )


class BatchItemIn(Strict):
    id: str | None = Field(default=None, max_length=200)
    text: str
    country: str | None = Field(default=None, max_length=16)


class BatchIn(Strict):
    items: list[BatchItemIn] = Field(min_length=1)


class FlagOut(BaseModel):
    id: str
    title: str
    why: str
    severity: str
    weight: float
    # False for a sign only a shown pattern found: the model's score does not count it (see ``rules.redflags``).
    weighed: bool = True
    spans: list[list[int]]


class TermOut(BaseModel):
    term: str
    feature: str
    weight: float
    spans: list[list[int]]


class HotlineOut(BaseModel):
    country: str | None
    name: str
    kind: str
    phone: str | None
    phone_international: str | None
    sms: str | None
    url: str | None
    hours: str | None
    languages: list[str]
    source: str
    verified: str
    note: str | None


class GuidanceOut(BaseModel):
    message: str
    steps: list[str]
    country: str | None
    emergency: str
    destinations: list[str]
    destination_note: str | None
    hotlines: list[HotlineOut]
    source_note: str


class ContributionsOut(BaseModel):
    intercept: float
    terms_shown: float
    flags: float
    remaining: float
    decision: float
    language_offset: float = Field(
        default=0.0, description="added to the decision value by the ad's language before calibration"
    )


class ModelRef(BaseModel):
    name: str
    version: str


class IndicatorsOut(BaseModel):
    count: int = Field(ge=0, description="How many of the trafficking indicators the ad shows.")
    of: int = Field(ge=1, description="How many indicators there are (data/indicators.yaml).")
    ids: list[str]


class ContactOut(BaseModel):
    kind: str = Field(description="phone, handle, link, email or domain")
    value: str = Field(description="Canonical form: E.164 phone, @name, address or domain.")
    services: list[str] = Field(description="Messengers it is offered on (telegram, whatsapp, viber, vk, instagram).")
    spans: list[list[int]]


class CaveatOut(BaseModel):
    id: str = Field(description="too_short: the ad has too few words for its risk to mean much.")
    message: str = Field(description="What it means for the reader, in the language the result is shown in.")


class ResultOut(BaseModel):
    risk: float = Field(ge=0, le=1)
    band: str
    label: str
    red_flags: list[FlagOut]
    risk_lowering: list[FlagOut]
    top_terms: list[TermOut]
    contributions: ContributionsOut
    guidance: GuidanceOut
    caveats: list[CaveatOut]
    language: str
    model: ModelRef
    indicators: IndicatorsOut
    contacts: list[ContactOut]


def result_json(result: dict) -> bytes:
    """A ``Scorer.score`` result as the body of ``POST /v1/score``, whose schema is ``ResultOut``.

    Serialised as it is, not validated against ``ResultOut`` first: the result has exactly
    its fields (tests check every sample ad's), and validating our own output again cost the
    server more than the rest of a request's HTTP work.
    """
    return orjson.dumps(result)


class BatchResultOut(BaseModel):
    """One item's result with its id; an item that cannot be scored has ``error`` and no score."""

    id: str | None
    error: str | None = None
    risk: float | None = Field(default=None, ge=0, le=1)
    band: str | None = None
    label: str | None = None
    red_flags: list[FlagOut] | None = None
    risk_lowering: list[FlagOut] | None = None
    top_terms: list[TermOut] | None = None
    contributions: ContributionsOut | None = None
    guidance: GuidanceOut | None = None
    caveats: list[CaveatOut] | None = None
    language: str | None = None
    model: ModelRef | None = None
    indicators: IndicatorsOut | None = None
    contacts: list[ContactOut] | None = None


class BatchOut(BaseModel):
    results: list[BatchResultOut]


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    reason: str | None = Field(default=None, description="Why the server cannot score now (when degraded).")
    model: ModelRef
    feedback: str | None = Field(default=None, description="Whether corrections can be stored: ok, off, or why not.")
    reload_error: str | None = Field(
        default=None, description="Why the registry's newly current model could not be loaded (the old one serves)."
    )


class ErrorOut(BaseModel):
    detail: str


class FeedbackIn(Correction):
    """An analyst's correction: the ad and its right label. ``model_name`` defaults to the model serving."""


class FeedbackOut(BaseModel):
    id: int
    status: Literal["created", "duplicate", "relabelled"] = Field(
        description="created: a new row; duplicate: the same ad and label were stored already (counted);"
        " relabelled: the ad was stored with the other label, which this one replaces"
    )
