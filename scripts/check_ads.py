"""Check the sample ads in data/ads/*.jsonl as the test suite does, and say what is missing.

Usage: PYTHONPATH=src python scripts/check_ads.py
"""

from __future__ import annotations

import sys
from collections import Counter

from adscreen.rules.redflags import load_flags
from adscreen.training.quality import near_duplicate_pairs, repeated_sentences
from adscreen.training.sample_ads import LANGUAGES, read_sample_rows, row_problems


def main() -> int:
    rows = read_sample_rows()
    red_flags = frozenset(flag.id for flag in load_flags().flags if flag.spec.effect == "raises")
    failures = 0
    for row in rows:
        fields = {key: value for key, value in row.items() if key != "_where"}
        for problem in row_problems(fields, red_flags):
            print(f"{row['_where']} ({row.get('id')}): {problem}")
            failures += 1
    for duplicate_id in [key for key, count in Counter(row.get("id") for row in rows).items() if count > 1]:
        print(f"duplicate id {duplicate_id}")
        failures += 1
    texts = [str(row.get("text", "")) for row in rows]
    for i, j, cosine in near_duplicate_pairs(texts):
        print(f"near duplicates ({cosine:.2f}): {rows[i]['id']} ~ {rows[j]['id']}")
        failures += 1
    for sentence, ads in repeated_sentences(texts).items():
        print(f"sentence in {len(ads)} ads ({', '.join(rows[a]['id'] for a in ads[:6])}): {sentence[:90]}")
        failures += 1
    for language in LANGUAGES:
        in_language = [row for row in rows if row.get("language") == language]
        covered = {flag for row in in_language if row.get("label") == 1 for flag in row["flags"]}
        missing = sorted(red_flags - covered) or "none"
        print(f"{language}: {len(in_language)} ads; red flags not covered in lures: {missing}")
    print(f"{len(rows)} ads, {failures} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
