"""One chunk's result columns as plain lists: what a scoring process computes and sends back.

Kept free of pandas (and of pyarrow) so that the server's scoring processes, which run this for
uploaded files, never import either: ``batch.files`` turns the columns into a frame where the
rows are written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from adscreen.config import DEFAULT_CHUNK_SIZE, MAX_AD_CHARS
from adscreen.scoring import Scorer, text_problem

RESULT_COLUMNS = ("risk", "band", "label", "red_flags", "indicators", "contacts", "caveats", "error")
EXPLANATION_COLUMN = "explanation"
RISK_DECIMALS = 4  # as in the single-ad result


@dataclass(frozen=True)
class BatchOptions:
    """How to read the input and what to add to each row."""

    text_column: str | None = None  # default: "text", or the EMSCAD fields joined when the file has them
    id_column: str | None = None  # names rows in the summary's error examples
    chunk_size: int = DEFAULT_CHUNK_SIZE
    workers: int = 1
    explain: bool = False
    csv_escape: bool = True
    country: str | None = None  # reads national-format phone numbers as this country's
    max_chars: int = MAX_AD_CHARS


def chunk_errors(texts: Sequence[object], problems: Sequence[str | None], max_chars: int) -> list[str | None]:
    """Why each row cannot be scored (its parse problem first), or None for the rows that can."""
    return [problem or text_problem(text, max_chars) for text, problem in zip(texts, problems, strict=True)]


def chunk_columns(
    scorer: Scorer, texts: Sequence[object], errors: Sequence[str | None], options: BatchOptions
) -> dict[str, list]:
    """The result columns of one chunk, ``RESULT_COLUMNS`` in order (and the explanation when asked for):
    one vectorised pass over the rows whose error (``chunk_errors``) is None, None in the others."""
    valid = [index for index, error in enumerate(errors) if error is None]
    risks: list[float | None] = [None] * len(texts)
    bands: list[str | None] = [None] * len(texts)
    labels: list[str | None] = [None] * len(texts)
    red_flags: list[list[str] | None] = [None] * len(texts)
    indicators: list[int | None] = [None] * len(texts)
    contacts: list[list[str] | None] = [None] * len(texts)
    caveats: list[list[str] | None] = [None] * len(texts)
    if valid:
        valid_texts = cast(list[str], [texts[index] for index in valid])  # text_problem passes only str cells
        scores = scorer.score_many(valid_texts, options.country, contacts=True)
        found = cast(list[list[str]], scores.contacts)  # asked for above
        for position, index in enumerate(valid):
            risks[index] = round(float(scores.risks[position]), RISK_DECIMALS)
            bands[index] = scores.bands[position]
            labels[index] = scores.labels[position]
            red_flags[index] = scores.red_flags[position]
            indicators[index] = scores.indicators[position]
            contacts[index] = found[position]
            caveats[index] = scores.caveats[position]
    columns: dict[str, list] = {
        "risk": risks,
        "band": bands,
        "label": labels,
        "red_flags": red_flags,
        "indicators": indicators,
        "contacts": contacts,
        "caveats": caveats,
        "error": list(errors),
    }
    if options.explain:
        columns[EXPLANATION_COLUMN] = [None if errors[i] else _explanation(scorer, texts[i]) for i in range(len(texts))]
    return columns


def _explanation(scorer: Scorer, text: object) -> str:
    result = scorer.score(text)
    evidence = {
        "red_flags": [{"id": flag["id"], "spans": flag["spans"]} for flag in result["red_flags"]],
        "risk_lowering": [flag["id"] for flag in result["risk_lowering"]],
        "top_terms": [{"term": term["term"], "weight": term["weight"]} for term in result["top_terms"]],
        "language": result["language"],
    }
    return json.dumps(evidence, ensure_ascii=False)
