"""Run every red flag's examples, and show how often each flag fires on the sample ads.

Usage: PYTHONPATH=src python scripts/check_redflags.py [FLAG_ID ...]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from adscreen.paths import SAMPLE_ADS_DIR
from adscreen.rules.redflags import load_flags


def main(only: set[str]) -> int:
    flags = load_flags()
    failures = 0
    for flag in flags.flags:
        if only and flag.id not in only:
            continue
        for language, examples in flag.spec.examples.items():
            for text in examples.match:
                if flag.id not in {match.flag.id for match in flags.find(text)}:
                    print(f"{flag.id} {language}: should match but does not: {text}")
                    failures += 1
            for text in examples.no_match:
                if flag.id in {match.flag.id for match in flags.find(text)}:
                    print(f"{flag.id} {language}: should not match but does: {text}")
                    failures += 1
    rows = [
        json.loads(line)
        for path in sorted(Path(SAMPLE_ADS_DIR).glob("*.jsonl"))
        for line in path.open(encoding="utf-8")
        if line.strip()
    ]
    if rows:
        fired: Counter = Counter()
        annotated: Counter = Counter()
        totals = Counter(row["label"] for row in rows)
        for row in rows:
            found = {match.flag.id for match in flags.find(row["text"])}
            for flag_id in found:
                fired[(flag_id, row["label"])] += 1
                if flag_id in row["flags"]:
                    annotated[flag_id] += 1
        print(
            f"\non {len(rows)} sample ads ({totals[1]} label 1, {totals[0]} label 0): flag fires on label1 / label0; agrees with annotation"
        )
        for flag in flags.flags:
            if only and flag.id not in only:
                continue
            wanted = sum(1 for row in rows if flag.id in row["flags"])
            print(
                f"  {flag.id:30} {fired[(flag.id, 1)]:4} / {fired[(flag.id, 0)]:4}   annotated {wanted:4}, of which found {annotated[flag.id]:4}"
            )
    print(f"{failures} example failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(set(sys.argv[1:])))
