"""The scoring arrays a model file holds: the same scores as the pipeline, read without scikit-learn or skops."""

from __future__ import annotations

import copy
import io
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import skops.io
from typer.testing import CliRunner

from adscreen import Scorer, load_model
from adscreen.cli import app
from adscreen.datafiles import file_sha256
from adscreen.errors import ModelIntegrityError
from adscreen.feature_layout import FeatureLayout
from adscreen.paths import MODELS_DIR
from adscreen.registry import METADATA_FILE, Registry, load_model_dir
from adscreen.scoring_model import SCORING_MEMBER, ScoringModel
from adscreen.training.sample_ads import read_sample_rows

SHIPPED = Registry(MODELS_DIR).current_path()[0]
TEXTS = [row["text"] for row in read_sample_rows()]
runner = CliRunner()


def copied_model(tmp_path: Path, member: bytes | None) -> Path:
    """The shipped model's folder with its scoring member replaced by ``member`` (None: left out), hashes matching."""
    folder = tmp_path / "models" / "copy"
    shutil.copytree(SHIPPED, folder)
    metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    model_file = folder / metadata["model_file"]
    with zipfile.ZipFile(SHIPPED / metadata["model_file"]) as source, zipfile.ZipFile(model_file, "w") as target:
        for item in source.infolist():
            if item.filename != SCORING_MEMBER:
                target.writestr(item, source.read(item))
        if member is not None:
            target.writestr(SCORING_MEMBER, member)
    metadata["model_sha256"] = file_sha256(model_file)
    (folder / METADATA_FILE).write_text(json.dumps(metadata), encoding="utf-8")
    return folder


def test_the_shipped_model_file_holds_its_scoring_arrays() -> None:
    loaded = load_model_dir(SHIPPED)
    assert loaded._model is None  # scoring read the arrays, not the pipeline
    stored = loaded.scoring
    taken = ScoringModel.of(loaded.model)
    assert stored.layout.word.vocabulary == taken.layout.word.vocabulary
    assert stored.layout.char.vocabulary == taken.layout.char.vocabulary
    for block, expected in zip(stored.layout.blocks, taken.layout.blocks, strict=True):
        assert type(block) is type(expected) and (block.name, block.start, block.stop) == (
            expected.name,
            expected.start,
            expected.stop,
        )
    assert np.array_equal(stored.coef, taken.coef) and np.array_equal(stored.intercept, taken.intercept)
    assert (stored.threshold, stored.bands, stored.language_offsets) == (
        taken.threshold,
        taken.bands,
        taken.language_offsets,
    )


def test_scores_from_the_arrays_are_the_pipelines(scorer: Scorer) -> None:
    """Every sample ad: risks from the stored arrays are the pipeline's own ``AdModel.risk``, to 1e-12."""
    stored = load_model()
    assert stored.loaded._model is None
    batch = stored.score_many(TEXTS)
    assert np.abs(batch.risks - scorer.loaded.model.risk(TEXTS)).max() <= 1e-12


def test_a_model_file_written_before_the_arrays_scores_from_its_pipeline() -> None:
    """adscreen-v7 was written before the arrays: scoring takes them from its pipeline, to the same risks."""
    older = load_model("adscreen-v7")
    assert older.loaded._model is not None
    assert np.array_equal(older.score_many(TEXTS[:200]).risks, older.loaded.model.risk(TEXTS[:200]))


def test_the_vocabularies_are_stored_once(scorer: Scorer) -> None:
    """The skops part of the shipped file names the vocabularies its scoring arrays hold; the whole pipeline,
    read back, has them as the fitted vectorizers had them."""
    model_file = SHIPPED / json.loads((SHIPPED / METADATA_FILE).read_text(encoding="utf-8"))["model_file"]
    found = set(skops.io.get_untrusted_types(file=model_file))
    assert "adscreen.artefact.VocabularyInScoringArrays" in found
    assert "adscreen.artefact.PackedVocabulary" not in found
    layout = scorer.loaded.scoring.layout
    for name, vectorizer, _ in scorer.loaded.model.pipeline.named_steps["features"].transformers_:
        if hasattr(vectorizer, "idf_"):
            block = next(block for block in layout.blocks if block.name == name)
            assert {term: int(column) + block.start for term, column in vectorizer.vocabulary_.items()} == (
                block.vocabulary
            )


def test_a_file_whose_skops_part_names_missing_arrays_is_refused(tmp_path: Path) -> None:
    """Without its scoring arrays, the shipped file's pipeline has no vocabularies: refused with one line."""
    folder = copied_model(tmp_path, None)
    with pytest.raises(ModelIntegrityError, match="scoring arrays it does not have"):
        load_model_dir(folder)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_damaged_scoring_arrays_are_a_clear_error(tmp_path: Path, scorer: Scorer, damage: str) -> None:
    member = b"not an npz" if damage == "garbage" else ScoringModel.of(scorer.loaded.model).to_bytes()[:-100]
    folder = copied_model(tmp_path, member)
    with pytest.raises(ModelIntegrityError, match="scoring arrays"):
        load_model_dir(folder)
    result = runner.invoke(app, ["score", "-m", str(folder), "Work in Dubai"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda model: replace(model, coef=model.coef[:, :-1]), "shapes"),
        (lambda model: replace(model, flag_specs=model.flag_specs[1:]), "flag columns"),
    ],
    ids=["coefficients", "flags"],
)
def test_arrays_that_do_not_fit_together_are_refused(
    tmp_path: Path, scorer: Scorer, damage: Callable[[ScoringModel], ScoringModel], message: str
) -> None:
    """Well-formed arrays that would score wrongly (or crash on an ad) are refused when the model is read."""
    folder = copied_model(tmp_path, damage(ScoringModel.of(scorer.loaded.model)).to_bytes())
    with pytest.raises(ModelIntegrityError, match=message):
        load_model_dir(folder)


def edited_member(scorer: Scorer, header: Callable[[dict], None] | None = None, **arrays: np.ndarray) -> bytes:
    """The shipped model's scoring member with its JSON header edited in place and some arrays replaced."""
    with np.load(io.BytesIO(ScoringModel.of(scorer.loaded.model).to_bytes())) as stored:
        content = {name: stored[name] for name in stored.files}
    if header is not None:
        fields = json.loads(content["header"].tobytes())
        header(fields)
        content["header"] = np.frombuffer(json.dumps(fields).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **{**content, **arrays})
    return buffer.getvalue()


def set_word_ngrams(fields: dict) -> None:
    fields["blocks"][0]["ngram_range"] = [1, 1_000_000_000]


CRAFTED = {
    "flag specs that are not objects": (lambda fields: fields.update(flag_specs=["x"] * 29), {}),
    "a flag spec that does not validate": (lambda fields: fields["flag_specs"][0].update(severity="extreme"), {}),
    "a threshold that is not a number": (lambda fields: fields.update(threshold=float("nan")), {}),
    "bands outside 0..1": (lambda fields: fields.update(bands=[0.2, 7.0]), {}),
    "a billion-word n-gram": (set_word_ngrams, {}),
    "coefficients as text": (None, {"coef": np.array([["0.1"] * 180029])}),
    "term ends as floats": (None, {"word.ends": np.arange(1, 60001, dtype=np.float64)}),
    "a term short of the columns": (None, {"word.ends": np.arange(1, 60000, dtype=np.int64)}),
    "an infinite idf weight": (None, {"char.idf": np.full(120000, np.inf, dtype=np.float32)}),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_a_crafted_scoring_member_is_refused_when_read_never_on_an_ad(
    tmp_path: Path, scorer: Scorer, case: str
) -> None:
    """Each of these once crashed, hung or scored wrongly on the first ad (review of the arrays); now the model
    is refused when read, with one line and exit code 2."""
    header, arrays = CRAFTED[case]
    folder = copied_model(tmp_path, edited_member(scorer, header, **arrays))
    with pytest.raises(ModelIntegrityError):
        load_model_dir(folder)
    result = runner.invoke(app, ["score", "-m", str(folder), "Work in Dubai"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output


def test_a_numpy_weight_in_the_union_is_refused(scorer: Scorer) -> None:
    """A NumPy scalar block weight would make the union compute the block in float64 where the arrays compute
    float32 (NumPy 2's promotion): such a union is refused rather than scored differently."""
    features = copy.deepcopy(scorer.loaded.model.pipeline.named_steps["features"])
    features.transformer_weights = {name: np.float64(weight) for name, weight in features.transformer_weights.items()}
    flag_columns = scorer.loaded.model.pipeline.named_steps["prepare"].flag_columns()
    with pytest.raises(ModelIntegrityError, match="not a plain number"):
        FeatureLayout.of(features, flag_columns)


def test_a_pickle_in_the_arrays_is_refused(tmp_path: Path) -> None:
    """``np.load`` without pickles: an object array in the member is refused, never unpickled."""
    buffer = io.BytesIO()
    np.savez(buffer, header=np.array([{"format": 1}], dtype=object))
    folder = copied_model(tmp_path, buffer.getvalue())
    with pytest.raises(ModelIntegrityError, match="scoring arrays"):
        load_model_dir(folder)


FRESH_PROCESS = """
import sys
from adscreen import load_model
scorer = load_model()
result = scorer.score("Работа в Дубае, жильё бесплатно, пиши в Telegram @dubai_job")
scorer.score_many(["Senior accountant, Warsaw office, umowa o pracę"])
imported = sorted({name.split(".")[0] for name in sys.modules} & {"sklearn", "skops"})
print(result["band"], imported)
"""


def test_a_process_that_scores_imports_neither_sklearn_nor_skops() -> None:
    result = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["high", "[]"]
