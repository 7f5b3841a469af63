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


def _key(text: str) -> str:
    return " ".join(text.lower().split())


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


def test_no_row_copies_the_shared_real_ads(real_ads_path: Path) -> None:
    shared = {_key(row["text"]) for row in _rows(real_ads_path)}
    copied = [row["id"] for path in FILES for row in _rows(path) if _key(row["text"]) in shared]
    assert copied == []
