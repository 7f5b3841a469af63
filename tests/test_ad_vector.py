"""The one-ad fast path gives exactly what the sklearn pipeline and the straightforward explanation give.

The references below are the reference computations: ``transform_features`` (the fitted
ColumnTransformer's parts) for the feature row, and the explanation as first written (every
n-gram of the text located, then matched to the row). The fast path must agree bit for bit.
"""

import copy
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from adscreen import Scorer
from adscreen import features as features_module
from adscreen.ad_vector import AdVectorizer, _char_wb_columns
from adscreen.errors import ModelIntegrityError
from adscreen.explain import Explanation
from adscreen.feature_layout import FeatureLayout
from adscreen.features import FLAG_PREFIX, NORMALISED, AdPreprocessor, build_features, flag_specs, transform_features
from adscreen.rules.redflags import load_flags
from adscreen.scoring_model import ScoringModel
from adscreen.text import MappedText, fold, normalise, tokenise_folded
from adscreen.training.sample_ads import read_sample_rows

SAMPLE_TEXTS = [row["text"] for row in read_sample_rows()]
ODD_TEXTS = [
    "🔥🔥🔥 $$$ !!!",
    "т е л е г р а м @work_abroad, в т е л е г р а м",
    "опыт опыт опыт опыта опыт, опыт. ОПЫТ",
    "a\u2028b\x1cc\xa0d\u3000e\tf\n\ng  h",
    "123 4567 89 000 1 500 $ 2,000 € +48 600 100 200",
    "ab abab ababab x y z",
    "\n\n".join(SAMPLE_TEXTS)[:20_000],
]
_TOKEN = re.compile(r"(?u)\b\w+\b")


class Case(NamedTuple):
    text: str
    folded: MappedText
    fired: list[bool]  # the model's indicators, as the batch path computes them
    row: object  # the reference row: transform_features on the prepared ad


@pytest.fixture(scope="module")
def cases(scorer: Scorer) -> list[Case]:
    texts = SAMPLE_TEXTS + ODD_TEXTS
    pipeline = scorer.loaded.model.pipeline
    prepared = pipeline.named_steps["prepare"].transform(texts)
    matrix = transform_features(pipeline.named_steps["features"], prepared)
    indicators = (prepared.iloc[:, 1:].to_numpy() > 0).tolist()
    return [Case(text, fold(text), indicators[index], matrix[index]) for index, text in enumerate(texts)]


def test_the_fast_row_is_the_pipelines_row_bit_for_bit(scorer: Scorer, cases: list[Case]) -> None:
    for case in cases:
        vector = scorer.explainer.vectorizer.vectorize(tokenise_folded(case.folded).text, case.fired)
        assert np.array_equal(vector.indices, case.row.indices), case.text[:80]
        assert np.array_equal(vector.values, case.row.data), case.text[:80]


def test_words_remembered_from_earlier_ads_give_the_same_row(scorer: Scorer, cases: list[Case]) -> None:
    """A fresh vectorizer cuts each word once; the second pass takes every word from its cache."""
    fresh = AdVectorizer(ScoringModel.of(scorer.loaded.model).layout)
    for _ in range(2):
        for case in cases:
            vector = fresh.vectorize(tokenise_folded(case.folded).text, case.fired)
            assert np.array_equal(vector.indices, case.row.indices), case.text[:80]
            assert np.array_equal(vector.values, case.row.data), case.text[:80]
    assert fresh._cut_word.cache_info().misses == fresh._cut_word.cache_info().currsize  # no word cut twice


def test_each_model_remembers_the_columns_of_its_own_vocabulary(scorer: Scorer, small_features: tuple) -> None:
    features, flag_columns = small_features
    small = AdVectorizer(FeatureLayout.of(features, flag_columns))
    text = normalise(SAMPLE_TEXTS[3]).text
    prepared = AdPreprocessor(flag_specs(load_flags())).transform([SAMPLE_TEXTS[3]])
    fired = (prepared.iloc[0, 1:].to_numpy() > 0).tolist()
    scorer.explainer.vectorizer.vectorize(text, fired)  # the shipped model cuts the words first
    expected = transform_features(features, prepared)
    vector = small.vectorize(text, fired)
    assert np.array_equal(vector.indices, expected[0].indices)
    assert np.array_equal(vector.values, expected[0].data)


def test_one_flag_pass_gives_the_models_indicators(scorer: Scorer, cases: list[Case]) -> None:
    for case in cases:
        assert scorer.flags.scan(case.folded).fired == case.fired, case.text[:80]


def _reference_word_spans(normalised: MappedText, skipped: frozenset[str]) -> dict[str, list[tuple[int, int]]]:
    """Word unigrams and bigrams as sklearn forms them: stop words dropped first, bigrams across the gap."""
    tokens = [(match.group(), match.start(), match.end()) for match in _TOKEN.finditer(normalised.text)]
    tokens = [token for token in tokens if token[0] not in skipped]
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for index, (token, start, end) in enumerate(tokens):
        spans[token].append(normalised.original_span(start, end))
        if index + 1 < len(tokens):
            following, _, following_end = tokens[index + 1]
            spans[f"{token} {following}"].append(normalised.original_span(start, following_end))
    return spans


def _reference_char_words(normalised: MappedText) -> dict[str, tuple[list, list]]:
    occurrences: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for match in re.finditer(r"\S+", normalised.text):
        word = match.group()
        padded = f" {word} "
        core = _TOKEN.search(word)
        span = normalised.original_span(match.start(), match.end())
        for size in range(2, 6):
            for offset in range(len(padded) - size + 1):
                occurrences[padded[offset : offset + size]][0].append(span)
                occurrences[padded[offset : offset + size]][1].append(core.group() if core else word)
    return occurrences


def reference_explanation(scorer: Scorer, text: str, row: object, names: np.ndarray) -> Explanation:
    classifier = scorer.loaded.model.pipeline.named_steps["classifier"]
    weights = classifier.coef_[0]
    contributions = row.data * weights[row.indices]
    intercept = float(classifier.intercept_[0])
    normalised = normalise(text)
    skipped = frozenset(
        scorer.loaded.model.pipeline.named_steps["features"].named_transformers_["word"].get_stop_words()
    )
    word_spans, char_words = _reference_word_spans(normalised, skipped), _reference_char_words(normalised)
    term_weight: dict[str, float] = defaultdict(float)
    term_spans: dict[str, set] = defaultdict(set)
    flag_weights = {}
    for index, contribution in zip(row.indices, contributions, strict=True):
        block, _, feature = str(names[index]).partition("__")
        if block == "flags":
            flag_weights[feature.removeprefix(FLAG_PREFIX)] = float(contribution)
        elif block == "word":
            term_weight[feature] += float(contribution)
            term_spans[feature].update(word_spans.get(feature, ()))
        else:
            spans, words = char_words[feature]
            share = float(contribution) / len(spans)
            for span, word in zip(spans, words, strict=True):
                term_weight[word] += share
                term_spans[word].add(span)
    weights = sorted(term_weight.items(), key=lambda item: -item[1])
    spans = {key: tuple(sorted(term_spans[key])) for key in term_weight}
    return Explanation(intercept, intercept + float(contributions.sum()), weights, flag_weights, spans.__getitem__)


def test_the_fast_explanation_is_the_reference_one_exactly(scorer: Scorer, cases: list[Case]) -> None:
    names = scorer.loaded.model.pipeline.named_steps["features"].get_feature_names_out()
    for case in cases[::3] + cases[-len(ODD_TEXTS) :]:  # every third sample ad (the reference is slow), the odd ones
        fast = scorer.explainer.explain(tokenise_folded(case.folded), case.fired)
        reference = reference_explanation(scorer, case.text, case.row, names)
        assert fast == reference, case.text[:80]  # every weight, to the bit
        assert all(fast.locate(key) == reference.locate(key) for key, _ in reference.weights), case.text[:80]


def test_scores_agree_with_the_full_sklearn_pipeline(scorer: Scorer) -> None:
    model = scorer.loaded.model
    texts = SAMPLE_TEXTS[::20] + ODD_TEXTS
    prepared = model.pipeline.named_steps["prepare"].transform(texts)
    decisions = model.pipeline.named_steps["classifier"].decision_function(
        model.pipeline.named_steps["features"].transform(prepared)
    )
    for text, decision in zip(texts, decisions, strict=True):
        result = scorer.score(text)
        assert result["contributions"]["decision"] == pytest.approx(decision, abs=5e-7)
        risk = float(model.calibrate(np.array([decision]), model.offsets_of([text]))[0])
        assert (result["risk"], result["band"]) == (round(risk, 4), model.bands.of(risk)), text[:80]


@pytest.fixture(scope="module")
def small_features() -> object:
    """A feature union fitted on a few sample ads, as ``build_features`` makes it."""
    flags = load_flags()
    prepared = AdPreprocessor(flag_specs(flags)).transform(SAMPLE_TEXTS[::10])
    return build_features(flags).fit(prepared), [FLAG_PREFIX + flag_id for flag_id in flags.ids]


def test_a_weighted_block_is_scaled_as_the_column_transformer_scales_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``CHAR_WEIGHT`` and ``FLAG_WEIGHT`` set, the union multiplies those blocks; the fast paths give their
    values to the bit."""
    monkeypatch.setattr(features_module, "CHAR_WEIGHT", 1.7)
    monkeypatch.setattr(features_module, "FLAG_WEIGHT", 0.6)
    flags = load_flags()
    texts = SAMPLE_TEXTS[::10] + ODD_TEXTS[:-1]
    prepared = AdPreprocessor(flag_specs(flags)).transform(texts)
    features = build_features(flags)
    reference = features.fit_transform(prepared)
    assert features.transformer_weights == {"char": 1.7, "flags": 0.6}
    unweighted = build_features_unweighted(flags, prepared)
    assert (reference != unweighted).nnz > 0  # the weight changed the values
    flag_columns = [FLAG_PREFIX + flag_id for flag_id in flags.ids]
    vectorizer = AdVectorizer(FeatureLayout.of(features, flag_columns))
    assert (transform_features(features, prepared) != reference).nnz == 0
    assert (vectorizer.matrix(prepared[NORMALISED].tolist(), prepared[flag_columns].to_numpy()) != reference).nnz == 0
    for index, text in enumerate(prepared[NORMALISED]):
        vector = vectorizer.vectorize(text, (prepared[flag_columns].iloc[index].to_numpy() > 0).tolist())
        assert np.array_equal(vector.indices, reference[index].indices), texts[index][:80]
        assert np.array_equal(vector.values, reference[index].data), texts[index][:80]


def build_features_unweighted(flags: object, prepared: object) -> object:
    """The same union without weights, fitted on the same ads."""
    union = build_features(flags)
    union.set_params(transformer_weights=None)
    return union.fit_transform(prepared)


@pytest.mark.parametrize(
    ("block", "setting", "value"),
    [
        ("word", "lowercase", True),
        ("char", "analyzer", "char"),
        ("word", "token_pattern", r"\w\w+"),
        ("char", "norm", "l1"),
    ],
)
def test_feature_settings_the_fast_path_does_not_reproduce_are_refused(
    small_features: tuple, block: str, setting: str, value: object
) -> None:
    features, flag_columns = small_features
    AdVectorizer(FeatureLayout.of(features, flag_columns))  # the settings build_features uses are fine
    changed = copy.deepcopy(features)
    changed.named_transformers_[block].set_params(**{setting: value})
    with pytest.raises(ModelIntegrityError, match=setting):
        AdVectorizer(FeatureLayout.of(changed, flag_columns))


def test_calibration_is_the_calibrators_own_predict_proba(scorer: Scorer) -> None:
    model = scorer.loaded.model
    decisions = np.concatenate([np.linspace(-40, 40, 4001), np.random.default_rng(0).normal(0, 8, 1000)])
    expected = model.calibrator.predict_proba(decisions.reshape(-1, 1))[:, 1]
    offsets = np.random.default_rng(1).normal(0, 1, len(decisions))
    shifted = model.calibrator.predict_proba((decisions + offsets).reshape(-1, 1))[:, 1]
    for calibrated in (model, scorer.loaded.scoring):  # the pipeline, and the arrays scoring reads
        assert np.array_equal(calibrated.calibrate(decisions), expected)
        assert all(calibrated.calibrate(np.array([value]))[0] == expected[i] for i, value in enumerate(decisions[:50]))
        assert np.array_equal(calibrated.calibrate(decisions, offsets), shifted)


@pytest.mark.parametrize("ngram_range", [(2, 5), (1, 3), (4, 6), (6, 8)])
def test_char_wb_columns_are_sklearns_ngrams_in_the_vocabulary(ngram_range: tuple[int, int]) -> None:
    """Every n-gram sklearn forms, words shorter and longer than the n-grams, and none it does not."""
    words = [*(f"abcde{end}" for end in "qrstuv"), "опыт", "работа", "_num4_", "x" * 12]
    corpus = [f"{word} опыта" for word in words]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, lowercase=False, max_df=0.5).fit(corpus)
    vocabulary = {gram: int(column) for gram, column in vectorizer.vocabulary_.items()}
    analyzer = vectorizer.build_analyzer()
    for word in ["a", "ab", "abc", "abcd", "abcdeq", "abcdez", "abxyz", "опыта", "опытная", "_num4_", "x" * 12, "zzz"]:
        expected = sorted(vocabulary[gram] for gram in analyzer(word) if gram in vocabulary)
        assert sorted(_char_wb_columns(word, vocabulary, *ngram_range)) == expected, word


def _batch_and_reference(scorer: Scorer, texts: list[str]) -> tuple:
    """The batch matrix and decision values with a fresh vectorizer of the scoring arrays, and the fitted
    union + classifier straight from sklearn."""
    model = scorer.loaded.model
    prepared = model.pipeline.named_steps["prepare"].transform(texts)
    reference = model.pipeline.named_steps["features"].transform(prepared)
    fresh = AdVectorizer(scorer.loaded.scoring.layout)
    flag_columns = model.pipeline.named_steps["prepare"].flag_columns()
    matrix = fresh.matrix(prepared[NORMALISED].tolist(), prepared[flag_columns].to_numpy())
    classifier = model.pipeline.named_steps["classifier"]
    decisions = scorer.loaded.scoring.decisions(matrix)
    return matrix, reference, decisions, classifier.decision_function(reference)


def test_the_batch_matrix_is_the_pipelines_matrix(scorer: Scorer) -> None:
    """Every sample and odd ad."""
    matrix, reference, decisions, expected = _batch_and_reference(scorer, SAMPLE_TEXTS + ODD_TEXTS)
    assert (matrix != reference).nnz == 0
    assert np.array_equal(matrix.indices, reference.indices) and np.array_equal(matrix.indptr, reference.indptr)
    assert np.abs(decisions - expected).max() <= 1e-12


def test_a_vocabulary_too_varied_to_pack_is_cut_word_by_word_to_the_same_matrix() -> None:
    """5,000 distinct characters need 13 bits each, and five do not fit one key: the batch path then cuts
    each word through the one-ad cache, to the same counts."""
    flags = load_flags()
    letters = [chr(0x4E00 + number) for number in range(5000)]
    texts = [" ".join(letters[start : start + 40]) + " опыт работа" for start in range(0, 5000, 20)] * 3
    prepared = AdPreprocessor(flag_specs(flags)).transform(texts)
    features = build_features(flags).fit(prepared)
    vectorizer = AdVectorizer(FeatureLayout.of(features, [FLAG_PREFIX + flag_id for flag_id in flags.ids]))
    assert vectorizer._char_index is None
    matrix = vectorizer.matrix(prepared[NORMALISED].tolist(), prepared.iloc[:, 1:].to_numpy())
    assert (matrix != transform_features(features, prepared)).nnz == 0
    distinct_words = {word for text in prepared[NORMALISED] for word in text.split()}
    assert vectorizer._cut_word.cache_info().currsize == len(distinct_words)


def test_the_batch_matrix_is_the_pipelines_matrix_on_real_ads(scorer: Scorer, real_ads_path: Path) -> None:
    with real_ads_path.open(encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines if line.strip()]
    matrix, reference, decisions, expected = _batch_and_reference(scorer, texts)
    assert (matrix != reference).nnz == 0
    assert np.abs(decisions - expected).max() <= 1e-12
