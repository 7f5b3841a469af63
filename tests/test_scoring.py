"""Scoring with the shipped model: the contract's fields, honest spans, explanations that add up, sensible guidance."""

import numpy as np
import pytest

from adscreen import Scorer, score
from adscreen.errors import InputError, InputTooLarge
from adscreen.paths import MODELS_DIR
from adscreen.registry import load_model_dir
from adscreen.rules.guidance import load_guide
from adscreen.text import fold, script_language, tokenise_folded

RUSSIAN_LURE = (
    "Девушки 18-25 лет, приятная внешность! Работа хостес в ночном клубе в Дубае, 3000$ в месяц, "
    "опыт не нужен. Билеты и визу оплачиваем, долг вычтем из зарплаты. Паспорт отдать координатору. "
    "Пиши в Telegram @dubai_girls, выезд на этой неделе!"
)
ENGLISH_LURE = (
    "URGENT!!! Farm workers needed in the UK, earn £3,500 a month, no experience and no English needed. "
    "We pay your flight and housing, the costs are taken from your first wages. Send a photo of your "
    "passport on WhatsApp +44 7700 900123. Leaving in 5 days, only 3 places left!"
)
AGENCY_JOB = (
    "ООО «ЕвроТрудСервис» (специальное разрешение МВД № 33050/0456) приглашает сварщиков на верфь в Гданьске, "
    "Польша. Трудовой договор до выезда, собеседование в нашем офисе: г. Минск, ул. Сурганова 57б, оф. 12. "
    "Зарплата 28-32 злотых в час брутто, проживание в общежитии за 600 злотых в месяц. hr@eurotrud.by"
)
AGENCY_JOB_AS_LURE = (
    "Сварщики в Польшу на верфь! Зарплата 28-32 злотых в час, жильё дадим. Документы сделаем сами, "
    "едете по туристической визе, паспорт на оформление отдаёте нам. Работа без договора, расчёт в конце. "
    "Места заканчиваются, выезд в пятницу, пиши в Viber."
)
CONTRACT_FIELDS = {"risk", "band", "label", "red_flags", "top_terms", "guidance", "language", "model"}


def test_result_has_the_contract_fields(scorer: Scorer) -> None:
    result = scorer.score(RUSSIAN_LURE, country="BY")
    assert set(result) >= CONTRACT_FIELDS
    assert 0 <= result["risk"] <= 1
    assert result["band"] in {"low", "medium", "high"}
    assert result["label"] in {"suspicious", "looks_ok"}
    assert result["language"] == "ru"
    assert result["model"]["name"] and result["model"]["version"]
    flag = result["red_flags"][0]
    assert {"id", "title", "why", "severity", "spans"} <= set(flag)
    term = result["top_terms"][0]
    assert {"term", "weight", "spans"} <= set(term)
    assert {"message", "country", "hotlines"} <= set(result["guidance"])


@pytest.mark.parametrize(
    ("text", "ui_language", "words"),
    [
        ("Требуется грузчик", "ru", "слов в тексте: 2"),
        ("Praca w Holandii", "pl", "słów w tekście: 3"),
        ("Job", "en", ": 1"),
    ],
)
def test_a_text_of_a_few_words_says_its_risk_is_unreliable(
    scorer: Scorer, text: str, ui_language: str, words: str
) -> None:
    """A couple of words carry the model's priors, not an ad's signs: the result says so in the reader's language."""
    [caveat] = scorer.score(text, ui_language=ui_language)["caveats"]
    assert caveat["id"] == "too_short"
    assert words in caveat["message"]


def test_a_whole_ad_has_no_caveat(scorer: Scorer) -> None:
    assert scorer.score(RUSSIAN_LURE)["caveats"] == []
    assert scorer.score("Требуется грузчик на склад в Минске, смена 8 часов")["caveats"] == []  # 9 words


UKRAINIAN_DAILY_PAY = "Підробіток без досвіду, від 1500 грн на день, пиши в пп, деталі розповім."


def test_a_sign_only_a_shown_pattern_finds_is_listed_with_no_weight(scorer: Scorer) -> None:
    """The reader sees daily pay in '1500 грн на день'; the model was not trained on that pattern, so the
    score does not count it: weight 0, ``weighed`` false, and the flags' contribution leaves it out."""
    result = scorer.score(UKRAINIAN_DAILY_PAY)
    [daily] = [flag for flag in result["red_flags"] if flag["id"] == "DAILY_PAY_HOOK"]
    assert (daily["weighed"], daily["weight"]) == (False, 0.0)
    assert daily["spans"] and "1500 грн на день" in UKRAINIAN_DAILY_PAY[slice(*daily["spans"][0])]
    weighed = [flag for flag in result["red_flags"] if flag["weighed"]]
    assert weighed, "the messenger contact is a weighed flag"
    assert result["contributions"]["flags"] == pytest.approx(sum(flag["weight"] for flag in weighed), abs=1e-3)
    assert "DAILY_PAY_HOOK" in scorer.score_many([UKRAINIAN_DAILY_PAY]).red_flags[0]


def test_a_model_trained_before_a_shown_pattern_shows_it_from_the_data_files(scorer: Scorer) -> None:
    """adscreen-v12's flag specs have no shown patterns; scored with today's data files it shows them, and its
    features (which flags fire for the model) and so its risks stay as v12 was trained."""
    older = Scorer(load_model_dir(MODELS_DIR / "adscreen-v12"), load_guide())
    assert not any(flag.spec.shown_patterns for flag in older.loaded.scoring.flags.flags)
    [daily] = [flag for flag in older.score(UKRAINIAN_DAILY_PAY)["red_flags"] if flag["id"] == "DAILY_PAY_HOOK"]
    assert daily["weighed"] is False
    models = older.loaded.scoring.flags
    for text in [UKRAINIAN_DAILY_PAY, RUSSIAN_LURE, ENGLISH_LURE, "Szukamy kobiet, zaliczka na wyjazd 300 zł."]:
        folded = fold(text).text
        assert older.flags.fired(folded) == models.fired(folded), text
    risks = older.score_many([UKRAINIAN_DAILY_PAY, RUSSIAN_LURE]).risks
    assert risks.tolist() == scorer.score_many([UKRAINIAN_DAILY_PAY, RUSSIAN_LURE]).risks.tolist()  # v14: v12's weights


@pytest.mark.parametrize("text", [RUSSIAN_LURE, ENGLISH_LURE])
def test_clear_lures_score_high(scorer: Scorer, text: str) -> None:
    result = scorer.score(text, country="BY")
    assert result["band"] == "high", result["risk"]
    assert result["label"] == "suspicious"


def test_licensed_agency_job_scores_lower_than_the_same_job_as_a_lure(scorer: Scorer) -> None:
    agency = scorer.score(AGENCY_JOB, country="BY")
    lure = scorer.score(AGENCY_JOB_AS_LURE, country="BY")
    assert agency["risk"] < lure["risk"]
    assert agency["band"] != "high"
    assert {flag["id"] for flag in agency["risk_lowering"]} >= {"LEGAL_ENTITY", "LICENCE_NUMBER"}


def test_spans_point_at_the_words_they_name(scorer: Scorer) -> None:
    result = scorer.score(RUSSIAN_LURE, country="BY")
    for flag in result["red_flags"]:
        for start, end in flag["spans"]:
            assert 0 <= start < end <= len(RUSSIAN_LURE)
    for term in result["top_terms"]:
        if term["spans"]:
            start, end = term["spans"][0]
            assert RUSSIAN_LURE[start:end] == term["term"]
    fee = {flag["id"]: flag for flag in result["red_flags"]}
    assert "NIGHTLIFE_ROLE" in fee
    start, end = fee["NIGHTLIFE_ROLE"]["spans"][0]
    assert any(word in RUSSIAN_LURE[start:end].lower() for word in ("хостес", "клуб"))


def test_contributions_add_up_to_the_decision_value(scorer: Scorer) -> None:
    model = scorer.loaded.model
    for text in (RUSSIAN_LURE, ENGLISH_LURE, AGENCY_JOB):
        result = scorer.score(text)
        parts = result["contributions"]
        shown = sum(term["weight"] for term in result["top_terms"])
        assert shown == pytest.approx(parts["terms_shown"], abs=1e-3)
        total = parts["intercept"] + parts["terms_shown"] + parts["flags"] + parts["remaining"]
        decision = model.decisions_of(model.pipeline.named_steps["prepare"].transform([text]))[0]
        assert total == pytest.approx(decision, abs=1e-4)
        assert parts["decision"] == pytest.approx(decision, abs=1e-4)
        offset = model.language_offsets.get(script_language(text), 0.0)
        assert parts["language_offset"] == pytest.approx(offset, abs=1e-6)
        assert result["risk"] == pytest.approx(float(model.calibrate(np.array([decision]), offset)[0]), abs=1e-4)


def test_terms_either_way_are_shown(scorer: Scorer) -> None:
    weights = [term["weight"] for term in scorer.score(AGENCY_JOB)["top_terms"]]
    assert any(weight > 0 for weight in weights) and any(weight < 0 for weight in weights)


def test_explanation_flag_weights_are_the_learned_ones(scorer: Scorer) -> None:
    """A fired flag adds its coefficient times the flag block's factor (``features.FLAG_WEIGHT`` when trained)."""
    model = scorer.loaded.model
    folded = fold(RUSSIAN_LURE)
    explanation = scorer.explainer.explain(tokenise_folded(folded), scorer.flags.fired(folded.text))
    coefficients = model.pipeline.named_steps["classifier"].coef_[0]
    union = model.pipeline.named_steps["features"]
    factor = (union.transformer_weights or {}).get("flags", 1.0)
    names = list(union.get_feature_names_out())
    assert explanation.flag_weights
    for flag_id, weight in explanation.flag_weights.items():
        assert weight == pytest.approx(coefficients[names.index(f"flags__flag:{flag_id}")] * factor)


def test_a_risk_lowering_sign_lowers_a_borderline_ad_and_says_so(scorer: Scorer) -> None:
    borderline = "Требуются упаковщики на склад в Польше, 18 злотых в час, проживание. Звоните +48 600 100 200."
    signed = borderline + " ООО «ПолТрудСервис», лицензия МВД № 33050/1187, трудовой договор, собеседование в офисе."
    plain, better = scorer.score(borderline), scorer.score(signed)
    assert better["risk"] < plain["risk"]
    lowering = {flag["id"]: flag for flag in better["risk_lowering"]}
    assert "LICENCE_NUMBER" in lowering and lowering["LICENCE_NUMBER"]["weight"] < 0


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Hilfskraft im Lager gesucht, Unterkunft vorhanden, Bewerbung per E-Mail", "DE"),
        ("Office administrator, 9-5, Manchester", "ZZ"),
        ("Бухгалтер в школу №5, полный день", None),
    ],
)
def test_other_languages_unknown_countries_and_flagless_ads_still_get_a_result(
    scorer: Scorer, text: str, country: str | None
) -> None:
    result = scorer.score(text, country=country)
    assert result["guidance"]["hotlines"]
    assert result["guidance"]["message"]
    assert result["band"] in {"low", "medium", "high"}


@pytest.mark.parametrize(
    ("text", "error"), [("", InputError), ("   \n ", InputError), (123, InputError), ("x" * 20_001, InputTooLarge)]
)
def test_bad_input_is_refused_with_a_reason(scorer: Scorer, text: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        scorer.score(text)


def test_batch_scores_equal_single_scores(scorer: Scorer) -> None:
    texts = [RUSSIAN_LURE, ENGLISH_LURE, AGENCY_JOB]
    batch = scorer.score_many(texts)
    for index, text in enumerate(texts):
        single = scorer.score(text)
        assert batch.risks[index] == pytest.approx(single["risk"], abs=1e-4)
        assert batch.bands[index] == single["band"]
        assert set(batch.red_flags[index]) == {flag["id"] for flag in single["red_flags"]}


def test_public_score_function_uses_the_default_model() -> None:
    result = score(ENGLISH_LURE, country="US")
    assert result["band"] == "high"
    assert any(line["sms"] == "233733" for line in result["guidance"]["hotlines"])


def test_fast_feature_transform_equals_the_column_transformer(scorer: Scorer) -> None:
    from adscreen.features import transform_features

    pipeline = scorer.loaded.model.pipeline
    prepared = pipeline.named_steps["prepare"].transform([RUSSIAN_LURE, ENGLISH_LURE, AGENCY_JOB])
    fast = transform_features(pipeline.named_steps["features"], prepared)
    slow = pipeline.named_steps["features"].transform(prepared)
    assert abs(fast - slow).max() < 1e-9
    assert np.allclose(scorer.loaded.model.decisions_of(prepared[:1]), pipeline.decision_function([RUSSIAN_LURE]))
