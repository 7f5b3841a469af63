"""Regenerate the counts tables of data/README.md from data/ads/*.jsonl.

Usage: python scripts/corpus_counts.py          (rewrites data/README.md between its markers)
       python scripts/corpus_counts.py --print  (prints the tables only)
"""

from __future__ import annotations

import sys

from adscreen.paths import DATA_DIR
from adscreen.training.sample_ads import counts_table, read_sample_rows, replace_counts

if __name__ == "__main__":
    table = counts_table(read_sample_rows())
    if "--print" in sys.argv:
        print(table)
    else:
        readme = DATA_DIR / "README.md"
        readme.write_text(replace_counts(readme.read_text(encoding="utf-8"), table), encoding="utf-8")
        print(f"updated {readme}")
