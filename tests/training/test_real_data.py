"""The real ads shipped in data/real/: each row says where it came from, and none is a copy of the shared data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from adscreen.paths import REAL_ADS_DIR
from adscreen.training.corpus import REAL, read_labelled

FILES = sorted(REAL_ADS_DIR.glob("*.jsonl"))
# github:owner/repo:path@40-hex commit, as the shared data cites its sources
SOURCE = re.compile(r"^github:[\w.-]+/[\w.-]+:[^@\s]+@[0-9a-f]{40}$")


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def test_every_row_is_labelled_in_a_language_the_red_flags_read() -> None:
    rows = [row for path in FILES for row in _rows(path)]
    assert rows and {row["label"] for row in rows} <= {0, 1}
    assert {row["language"] for row in rows} <= {"ru", "be", "uk", "pl", "en"}


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_every_row_names_its_source_commit_and_a_permissive_licence(path: Path) -> None:
    rows = _rows(path)
    assert all(SOURCE.match(row["source"]) for row in rows)
    assert {row["licence"] for row in rows} == {"MIT"}
    assert len({row["id"] for row in rows}) == len(rows)
    licences = (REAL_ADS_DIR / "LICENSES.md").read_text(encoding="utf-8")
    for repository in {row["source"].split(":")[1] for row in rows}:
        assert f"https://github.com/{repository}" in licences


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_training_reads_each_file_as_real_ads_of_their_sources(path: Path) -> None:
    frame = read_labelled([path]).frame
    assert set(frame["family"]) == {REAL}
    assert len(frame) == len(_rows(path))
    assert not frame["source"].str.contains("@").any()  # one dataset is one source, whatever the commit


def _passages(text: str) -> list[str]:
    """The middle 40 characters of each line or quoted piece of 60 or more: a passage long enough to be a copy."""
    pieces = (piece.strip() for piece in re.split(r'[\n"\\]', text))
    return [piece[len(piece) // 2 - 20 : len(piece) // 2 + 20] for piece in pieces if len(piece) >= 60]


def test_no_row_repeats_a_passage_of_the_shared_real_ads(real_ads_path: Path) -> None:
    """The shared real ads are read by path, never copied: not whole, and not a passage within a longer post."""
    passages = {passage for row in _rows(real_ads_path) for passage in _passages(row["text"])}
    copied = [row["id"] for path in FILES for row in _rows(path) if any(passage in row["text"] for passage in passages)]
    assert copied == []
