"""The one label vocabulary, for training files and analysts' corrections alike.

1 is a scam or lure, 0 a legitimate ad. A file may spell them 1/0 (as numbers, with pandas'
1.0/0.0, or as booleans from Parquet) or with the words below; a correction sent to the API or
the web form accepts exactly the same.
"""

from __future__ import annotations

# Words, compared after stripping and lower-casing. "suspicious" and "looks_ok" are the labels the scorer gives.
LABEL_WORDS = {"1": 1, "0": 0, "true": 1, "false": 0, "suspicious": 1, "looks_ok": 0}
ACCEPTED = "1 or 'suspicious' (a scam or lure), 0 or 'looks_ok' (legitimate)"


def parse_label(value: object) -> int | None:
    """0 or 1 from any accepted spelling of a label; None when the value is not one."""
    if isinstance(value, str):
        return LABEL_WORDS.get(value.strip().lower())
    if isinstance(value, bool | int | float) and value in (0, 1):
        return int(value)
    return None


def require_label(value: object) -> int:
    """``parse_label``, or a ValueError naming the accepted spellings."""
    label = parse_label(value)
    if label is None:
        raise ValueError(f"label must be {ACCEPTED}; got {value!r}")
    return label
