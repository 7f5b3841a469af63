"""The analyst's report on a dump of ads: one self-contained HTML file.

Risk distribution, indicator counts, the most frequent red flags, campaigns by size
and by risk, the contacts shared across the most ads, a per-language breakdown and
the highest-risk ads with their evidence. Plots are inline PNG (matplotlib, no
pyplot state), the page has no scripts and loads nothing, so it can be mailed or
archived as it is. The template (``web/templates/dump_report.html``) escapes every
ad text and contact.
"""

from __future__ import annotations

import base64
import io
import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from matplotlib.figure import Figure

from adscreen.analysis.campaigns import GroupingParams, ad_campaign_ids
from adscreen.analysis.dump import Dump, cells, dump_campaigns, languages_of, scorable_rows
from adscreen.rules.indicators import default_indicators
from adscreen.scoring import Scorer

TEMPLATES = Path(__file__).resolve().parents[1] / "serve" / "web" / "templates"
TOP_CAMPAIGNS = 15
TOP_CONTACTS = 20
TOP_FLAGS = 15
TOP_ADS = 20
SHOWN_CHARS = 900


@dataclass
class AdScores:
    """Per ad: risk (NaN for a text that cannot be scored), band, raising red-flag ids and indicator count."""

    risks: np.ndarray
    bands: list[str | None]
    red_flags: list[list[str]]
    indicators: list[int]


def _flag_list(value: object) -> list[str]:
    """A red_flags cell of a scored file: a list, or ids joined by | , ; or spaces."""
    if isinstance(value, list | tuple | np.ndarray):
        return [str(item) for item in value]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [part for part in str(value).replace(",", " ").replace(";", " ").replace("|", " ").split() if part]


def ad_scores(dump: Dump, scorer: Scorer) -> AdScores:
    """The file's ``risk``, ``band``, ``red_flags`` and ``indicators`` when it has them all (score-file output),
    else the model's (``Scorer.score_many``), for every ad whose text can be scored."""
    frame = dump.frame
    if dump.risks is not None and {"band", "red_flags", "indicators"} <= set(frame.columns):
        bands: list[str | None] = cells(frame, "band")
        counts = pd.to_numeric(frame["indicators"], errors="coerce").fillna(0).astype(int).tolist()
        return AdScores(dump.risks, bands, [_flag_list(value) for value in frame["red_flags"]], counts)
    risks = np.full(len(dump), np.nan)
    bands = [None] * len(dump)
    red_flags: list[list[str]] = [[] for _ in range(len(dump))]
    indicators = [0] * len(dump)
    rows = scorable_rows(dump, range(len(dump)), scorer.max_chars)
    if rows:
        scores = scorer.score_many([dump.texts[row] for row in rows])
        for position, row in enumerate(rows):
            risks[row] = scores.risks[position]
            bands[row] = scores.bands[position]
            red_flags[row] = scores.red_flags[position]
            indicators[row] = scores.indicators[position]
    return AdScores(risks, bands, red_flags, indicators)


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _risk_plot(risks: np.ndarray, low: float, high: float) -> str:
    figure = Figure(figsize=(7, 3))
    axes = figure.subplots()
    axes.hist(risks[~np.isnan(risks)], bins=40, range=(0, 1), color="#1a4d8f")
    for edge, name in ((low, "medium from"), (high, "high from")):
        axes.axvline(edge, color="#b00020", linestyle="--", linewidth=1)
        axes.annotate(f"{name} {edge:.2f}", (edge, 0.95), xycoords=("data", "axes fraction"), fontsize=8)
    axes.set_xlabel("risk")
    axes.set_ylabel("ads")
    return _png(figure)


def _bar_plot(labels: Sequence[str], values: Sequence[float], xlabel: str, horizontal: bool = True) -> str:
    figure = Figure(figsize=(7, max(2.0, 0.28 * len(labels) + 0.8) if horizontal else 3))
    axes = figure.subplots()
    if horizontal:
        axes.barh(list(labels)[::-1], list(values)[::-1], color="#1a4d8f")
        axes.set_xlabel(xlabel)
    else:
        axes.bar(list(labels), list(values), color="#1a4d8f")
        axes.set_ylabel(xlabel)
    return _png(figure)


def _segments(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str | None]]:
    """The ad cut at the evidence: (piece, flag titles) with None for unmarked pieces."""
    cuts = sorted({0, len(text), *(position for start, end, _ in spans for position in (start, end))})
    pieces = []
    for start, end in itertools.pairwise(cuts):
        titles = sorted({title for span_start, span_end, title in spans if span_start <= start and end <= span_end})
        pieces.append((text[start:end], " · ".join(titles) or None))
    return pieces


def _top_ads(dump: Dump, scores: AdScores, labels: list[str | None], scorer: Scorer) -> list[dict]:
    risks = np.where(np.isnan(scores.risks), -1, scores.risks)
    rows = [int(row) for row in np.argsort(-risks, kind="stable")[:TOP_ADS] if risks[row] >= 0]
    shown = []
    for row in rows:
        text = dump.texts[row][:SHOWN_CHARS]
        result = scorer.score(dump.texts[row], country=dump.countries[row], ui_language="en")
        spans = [
            (s, min(e, len(text)), flag["title"])
            for flag in result["red_flags"]
            for s, e in flag["spans"]
            if s < len(text)
        ]
        shown.append(
            {
                "id": dump.ids[row],
                "risk": float(scores.risks[row]),
                "band": scores.bands[row],
                "indicators": result["indicators"],
                "campaign": labels[row],
                "flags": [
                    {"title": flag["title"], "quotes": [dump.texts[row][s:e] for s, e in flag["spans"][:3]]}
                    for flag in result["red_flags"]
                ],
                "segments": _segments(text, spans),
                "cut": len(dump.texts[row]) > SHOWN_CHARS,
            }
        )
    return shown


def _campaign_rows(table: pd.DataFrame, order: list[str], examples: list[str]) -> list[dict]:
    """The top campaigns by ``order``, each with the start of its first ad's text."""
    table = table.assign(example=[text[:200] for text in examples])
    return table.sort_values(order, ascending=False).head(TOP_CAMPAIGNS).to_dict("records")


def _shared_contacts(contact_keys: list[list[str]], labels: list[str | None]) -> list[dict]:
    ads: Counter[str] = Counter(key for keys in contact_keys for key in set(keys))
    campaigns: dict[str, set[str]] = {}
    for keys, label in zip(contact_keys, labels, strict=True):
        for key in keys:
            if label is not None:
                campaigns.setdefault(key, set()).add(label)
    return [
        {"contact": key, "ads": count, "campaigns": sorted(campaigns.get(key, ()))[:5]}
        for key, count in ads.most_common(TOP_CONTACTS)
        if count >= 2
    ]


def _languages(languages: list[str | None], scores: AdScores, indicator_counts: list[int]) -> list[dict]:
    frame = pd.DataFrame(
        {
            "language": [language or "?" for language in languages],
            "risk": scores.risks,
            "high": [band == "high" for band in scores.bands],
            "indicators": indicator_counts,
        }
    )
    summary = frame.groupby("language").agg(
        ads=("risk", "size"), mean_risk=("risk", "mean"), high=("high", "mean"), indicators=("indicators", "mean")
    )
    return summary.sort_values("ads", ascending=False).reset_index().to_dict("records")


def build_report(
    dump: Dump,
    scorer: Scorer,
    source: str,
    generated: str,
    params: GroupingParams | None = None,
    jobs: int = 1,
) -> str:
    """The report's HTML. ``generated`` is the time to print (the caller's clock, so the core reads none)."""
    scores = ad_scores(dump, scorer)
    languages = languages_of(dump, range(len(dump)))
    found = dump_campaigns(dump, lambda: scorer, params, jobs, risks=scores.risks, languages=languages)
    indicators = default_indicators()
    indicator_counts = scores.indicators
    labels = ad_campaign_ids(found.grouping)
    titles = {flag.id: flag.spec.title.get("en") for flag in scorer.flags.flags}
    flag_counts = Counter(flag for flags in scores.red_flags for flag in flags).most_common(TOP_FLAGS)
    per_count = Counter(indicator_counts)
    bands = scorer.loaded.scoring.bands
    language_rows = _languages(languages, scores, indicator_counts)
    table = found.table
    examples = [dump.texts[members[0]] for members in found.grouping.members()]
    context = {
        "source": source,
        "generated": generated,
        "model": scorer.model_info,
        "ads": len(dump),
        "scored": int((~np.isnan(scores.risks)).sum()),
        "high": sum(band == "high" for band in scores.bands),
        "campaigns": found.grouping.count,
        "in_campaigns": int((found.grouping.labels >= 0).sum()),
        "indicators_of": len(indicators.indicators),
        "plots": {
            "risk": _risk_plot(scores.risks, bands.low, bands.high),
            "indicators": _bar_plot(
                [str(n) for n in range(len(indicators.indicators) + 1)],
                [per_count.get(n, 0) for n in range(len(indicators.indicators) + 1)],
                "ads",
                horizontal=False,
            ),
            "flags": _bar_plot([titles.get(flag, flag) for flag, _ in flag_counts], [n for _, n in flag_counts], "ads")
            if flag_counts
            else None,
            "languages": _bar_plot(
                [row["language"] for row in language_rows], [row["ads"] for row in language_rows], "ads"
            ),
        },
        "flags": [{"id": flag, "title": titles.get(flag, flag), "ads": count} for flag, count in flag_counts],
        "by_size": _campaign_rows(table, ["size", "max_risk"], examples),
        "by_risk": _campaign_rows(table, ["median_risk", "size"], examples),
        "contacts": _shared_contacts(found.contact_keys, labels),
        "languages": language_rows,
        "top_ads": _top_ads(dump, scores, labels, scorer),
    }
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
    return environment.get_template("dump_report.html").render(**context)
