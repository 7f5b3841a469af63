"""Which text of a table row is the ad: its text column, or an EMSCAD-schema row's fields joined.

Training (``training.corpus``) and scoring files (``batch``) join EMSCAD's fields the same way, so a
model sees at scoring time the text it was trained on.
"""

from __future__ import annotations

import pandas as pd

from adscreen.tables.stream import missing

# EMSCAD's text fields, in the order they are joined.
EMSCAD_TEXT_FIELDS = (
    "title",
    "location",
    "department",
    "salary_range",
    "company_profile",
    "description",
    "requirements",
    "benefits",
    "employment_type",
    "required_experience",
    "required_education",
    "industry",
    "function",
)


def cell_text(value: object) -> str:
    """A cell as stripped text; an empty cell as ""."""
    return "" if missing(value) else str(value).strip()


def emscad_text(record: dict[str, object]) -> str:
    """One EMSCAD ad as one text: its non-empty fields, one per line, in a fixed order."""
    return "\n".join(part for name in EMSCAD_TEXT_FIELDS if (part := cell_text(record.get(name))))


def ad_texts(frame: pd.DataFrame, text_column: str | None) -> list[object]:
    """The text of each row: its text column, or the EMSCAD fields joined as the model was trained."""
    if text_column is not None:
        return frame[text_column].tolist()
    records = frame.reindex(columns=list(EMSCAD_TEXT_FIELDS)).to_dict("records")
    return [emscad_text({key: value for key, value in row.items()}) for row in records]
