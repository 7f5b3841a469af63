"""What is wrong or risky in labelled ads before training on them.

``validate_frame`` is pure: rows in (as ``corpus.read_unchecked_file`` gives them,
bad labels and empty texts included), findings out. Each finding is an ``error``
(training would stop, or its metrics would be wrong) or a ``warning`` (the model
would learn something unintended), with the rows it concerns. ``validate_files``
is the edge that reads the files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from adscreen.config import MAX_AD_CHARS, TOO_SHORT_WORDS
from adscreen.errors import DataFormatError
from adscreen.language import OTHER, detect_language
from adscreen.text import word_count
from adscreen.training.corpus import read_unchecked_file
from adscreen.training.quality import NEAR_DUPLICATE_COSINE, near_duplicate_pairs

Severity = Literal["error", "warning"]
TRAIN, TEST = "train", "test"
# Below this share (or count) of the rarer label, the model sees too few examples of it.
MIN_LABEL_SHARE = 0.10
MIN_LABEL_COUNT = 20
# A language with at least this many ads, all of one label, teaches "this language means that label".
MIN_ADS_PER_LANGUAGE = 5
# Detecting a language on an ad's opening is as good as on all of it (1 difference in 2,524 ads) and 8x faster.
LANGUAGE_SAMPLE_CHARS = 600


@dataclass(frozen=True)
class RowRef:
    """Where an ad is: its file, its row as a spreadsheet shows it, and its id when the file has one."""

    file: str
    row: int
    id: str = ""

    def __str__(self) -> str:
        return f"{Path(self.file).name}:{self.row}" + (f" ({self.id})" if self.id else "")


@dataclass(frozen=True)
class Finding:
    severity: Severity
    check: str
    message: str
    rows: tuple[RowRef, ...] = ()


@dataclass
class Validation:
    """The findings, errors first, and counts that describe the data."""

    findings: list[Finding] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "errors": sum(finding.severity == "error" for finding in self.findings),
            "warnings": sum(finding.severity == "warning" for finding in self.findings),
            "findings": [asdict(finding) for finding in self.findings],
            "summary": self.summary,
        }


def _refs(rows: pd.DataFrame) -> tuple[RowRef, ...]:
    return tuple(RowRef(str(r.file), int(r.row), str(r.id)) for r in rows[["file", "row", "id"]].itertuples())


def _about(rows: pd.DataFrame, severity: Severity, check: str, message: str) -> list[Finding]:
    """One finding naming ``rows``, or none when no row has the problem."""
    return [Finding(severity, check, message, _refs(rows))] if len(rows) else []


def _row_checks(rows: pd.DataFrame) -> Iterable[Finding]:
    if "problem" in rows:
        damaged = rows[rows["problem"].notna()]
        shown = str(damaged["problem"].iloc[0]) if len(damaged) else ""
        yield from _about(
            damaged, "error", "damaged_row", f"{len(damaged)} rows could not be read whole (first: {shown})"
        )
    bad = rows[rows["label"].isna()]
    seen = ", ".join(repr(value) for value in list(dict.fromkeys(map(str, bad["raw_label"])))[:5])
    yield from _about(bad, "error", "bad_label", f"{len(bad)} ads have no valid label (must be 0 or 1; found {seen})")
    empty = rows[rows["text"] == ""]
    yield from _about(empty, "error", "empty_text", f"{len(empty)} ads have an empty text")
    words = rows["text"].map(word_count)
    short = rows[(words > 0) & (words < TOO_SHORT_WORDS)]
    yield from _about(
        short,
        "warning",
        "short_text",
        f"{len(short)} ads have fewer than {TOO_SHORT_WORDS} words: too short to judge, their labels teach little",
    )


def _duplicate_checks(rows: pd.DataFrame) -> Iterable[Finding]:
    """Exact copies: with conflicting labels, within a part, across train and test, or across files."""
    texts = rows[rows["text"] != ""]
    by_text = texts.groupby("text")
    labels = by_text["label"].transform("nunique")
    checks: list[tuple[pd.Series, Severity, str, str]] = [
        (
            labels > 1,
            "error",
            "conflicting_labels",
            "{texts} texts appear with both labels; decide which is right",
        ),
        (
            (texts.groupby(["text", "part"])["row"].transform("size") > 1) & (labels <= 1),
            "warning",
            "duplicate",
            "{texts} texts appear more than once ({extra} extra); training keeps the first copy",
        ),
        (
            by_text["part"].transform("nunique") > 1,
            "error",
            "leakage",
            "{texts} test ads are copies of training ads: the test metrics would be inflated",
        ),
    ]
    if not (rows["part"] == TEST).any():
        checks.append(
            (
                by_text["file"].transform("nunique") > 1,
                "warning",
                "across_files",
                "{texts} texts appear in more than one file: evaluating on one of these files after training"
                " on another would overstate the model",
            )
        )
    for mask, severity, check, message in checks:
        found = texts[mask]
        count = found["text"].nunique()
        yield from _about(found, severity, check, message.format(texts=count, extra=len(found) - count))


def _near_duplicate_checks(rows: pd.DataFrame) -> Iterable[Finding]:
    """Near copies (reposts with small edits) within the training part and between training and test."""
    distinct = rows[rows["text"] != ""].drop_duplicates("text").reset_index(drop=True)
    pairs = near_duplicate_pairs(list(distinct["text"]))
    first = distinct.iloc[[i for i, _, _ in pairs]].reset_index(drop=True)
    second = distinct.iloc[[j for _, j, _ in pairs]].reset_index(drop=True)
    crosses = (first["part"] != second["part"]).to_numpy()
    both = pd.concat([first, second]).sort_index(kind="stable")  # each pair's two ads side by side
    within, across = both.loc[np.flatnonzero(~crosses)], both.loc[np.flatnonzero(crosses)]
    flipped = int(((first["label"] != second["label"]).fillna(False).to_numpy() & ~crosses).sum())
    conflict = f"; {flipped} of them with different labels" if flipped else ""
    yield from _about(
        within,
        "warning",
        "near_duplicate",
        f"{int((~crosses).sum())} pairs of ads are near copies (similarity over {NEAR_DUPLICATE_COSINE}){conflict}:"
        " the model learns one ad twice",
    )
    yield from _about(
        across,
        "warning",
        "near_leakage",
        f"{int(crosses.sum())} pairs of test and training ads are near copies: the test metrics may be inflated",
    )


def _balance_checks(train: pd.DataFrame) -> Iterable[Finding]:
    counts = train["label"].dropna().astype(int).value_counts()
    if len(counts) < 2:
        present = ", ".join(str(label) for label in counts.index) or "none"
        yield Finding("error", "one_label", f"training needs both labels (0 and 1); found only: {present}")
        return
    rarer, count = int(counts.idxmin()), int(counts.min())
    share = count / int(counts.sum())
    if share < MIN_LABEL_SHARE or count < MIN_LABEL_COUNT:
        yield Finding(
            "warning",
            "imbalance",
            f"only {count} ads ({share:.0%}) have label {rarer}: the model sees few examples of them"
            " and its metrics are noisy",
        )


def _language_checks(train: pd.DataFrame) -> Iterable[Finding]:
    labelled = train[train["label"].notna() & (train["text"] != "")]
    other = labelled[labelled["detected_language"] == OTHER]
    yield from _about(
        other,
        "warning",
        "unsupported_language",
        f"{len(other)} ads are in none of ru, be, uk, pl, en: the red flags do not read them",
    )
    for language, ads in labelled.groupby("detected_language"):
        if len(ads) >= MIN_ADS_PER_LANGUAGE and ads["label"].nunique() == 1 and language != OTHER:
            yield from _about(
                ads,
                "warning",
                "language_one_label",
                f"all {len(ads)} ads in {language} have label {int(ads['label'].iloc[0])}: the model will learn"
                " that the language itself means that label",
            )
    declared = labelled[(labelled["language"] != "") & (labelled["language"] != labelled["detected_language"])]
    pairs = Counter(zip(declared["language"], declared["detected_language"], strict=True)).most_common(3)
    examples = ", ".join(f"{said} read as {detected} ({n})" for (said, detected), n in pairs)
    yield from _about(
        declared,
        "warning",
        "language_mismatch",
        f"{len(declared)} ads' language column disagrees with their text: {examples}",
    )


def _summary(rows: pd.DataFrame) -> dict:
    summary = {}
    for part, ads in rows.groupby("part", sort=False):
        labels = ads["label"].astype("string").fillna("invalid")
        written = ads["text"] != ""
        summary[str(part)] = {
            "rows": len(ads),
            "files": sorted(set(ads["file"])),
            "labels": {str(k): int(v) for k, v in labels.value_counts().sort_index().items()},
            "languages": {
                str(language): {str(k): int(v) for k, v in group.value_counts().sort_index().items()}
                for language, group in labels[written].groupby(ads.loc[written, "detected_language"])
            },
        }
    return summary


def validate_frame(
    data: pd.DataFrame, test: pd.DataFrame | None = None, detect: Callable[[str], str] = detect_language
) -> Validation:
    """Every problem found in training rows ``data`` and, if given, held-out rows ``test``; errors first."""
    parts = [data.assign(part=TRAIN)]
    if test is not None:
        parts.append(test.assign(part=TEST))
    rows = pd.concat(parts, ignore_index=True)
    rows["detected_language"] = [detect(text[:LANGUAGE_SAMPLE_CHARS]) if text else "" for text in rows["text"]]
    train = rows[rows["part"] == TRAIN]
    findings = [
        *_row_checks(rows),
        *_duplicate_checks(rows),
        *_near_duplicate_checks(rows),
        *_balance_checks(train),
        *_language_checks(train),
    ]
    findings.sort(key=lambda finding: finding.severity != "error")
    return Validation(findings, _summary(rows))


def _read(paths: list[Path], max_chars: int) -> tuple[pd.DataFrame | None, list[Finding]]:
    """The readable files' rows, and one error finding for each file that cannot be read at all."""
    frames, findings = [], []
    for path in paths:
        try:
            frames.append(read_unchecked_file(Path(path), max_chars).frame)
        except DataFormatError as error:
            findings.append(Finding("error", "unreadable_file", str(error)))
    return (pd.concat(frames, ignore_index=True) if frames else None), findings


def validate_files(data: list[Path], test: list[Path] | None = None, max_chars: int = MAX_AD_CHARS) -> Validation:
    """Read labelled files (and held-out files) leniently and validate them together."""
    if not data:
        raise DataFormatError("no labelled data files given")
    data_rows, findings = _read(data, max_chars)
    test_rows, test_findings = _read(test or [], max_chars)
    findings += test_findings
    if data_rows is None:
        return Validation(findings)
    validation = validate_frame(data_rows, test_rows)
    validation.findings = sorted(findings + validation.findings, key=lambda finding: finding.severity != "error")
    return validation
