"""Does the corpus teach signals or phrases? Plain TF-IDF + LR on data/ads alone, 5-fold CV grouped by kind.

Every fold holds out whole kinds (all hostess lures, all IT jobs...), so a model
that only memorised the phrases of a kind cannot score that kind well.
Prints PR-AUC and F1 (at 0.5) per language. Usage: PYTHONPATH=src python scripts/kind_grouped_cv.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score
from sklearn.model_selection import GroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline, make_union

from adscreen.text import normalise
from adscreen.training.sample_ads import LANGUAGES, read_sample_rows


def main() -> None:
    frame = pd.DataFrame(read_sample_rows())
    texts = [normalise(text).text for text in frame["text"]]
    labels = frame["label"].to_numpy()
    pipeline = make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True),
        ),
        LogisticRegression(C=10, class_weight="balanced", max_iter=5000),
    )
    risks = cross_val_predict(pipeline, texts, labels, groups=frame["kind"], cv=GroupKFold(5), method="predict_proba")[
        :, 1
    ]
    print(f"{len(frame)} ads, {frame['kind'].nunique()} kinds, 5 folds grouped by kind")
    print(f"{'language':>8} {'ads':>5} {'PR-AUC':>7} {'F1@0.5':>7}")
    for language in [*LANGUAGES, "all"]:
        mask = np.ones(len(frame), bool) if language == "all" else (frame["language"] == language).to_numpy()
        pr_auc = average_precision_score(labels[mask], risks[mask])
        f1 = f1_score(labels[mask], risks[mask] >= 0.5)
        print(f"{language:>8} {mask.sum():>5} {pr_auc:>7.3f} {f1:>7.3f}")


if __name__ == "__main__":
    main()
