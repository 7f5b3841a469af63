"""Trafficking indicators: the data file agrees with the red flags, counts, broken files, and the scored result."""

from pathlib import Path

import pytest

from adscreen import Scorer
from adscreen.errors import RuleConfigError
from adscreen.rules.indicators import default_indicators, load_indicators
from adscreen.rules.redflags import load_flags
from adscreen.serve.schemas import ResultOut

INDICATORS = default_indicators()


def test_the_shipped_indicators_are_exactly_the_flags_marked_as_indicators() -> None:
    INDICATORS.check_against(load_flags())
    assert INDICATORS.count([]).of == len(INDICATORS.indicators) == 12


def test_count_names_each_indicator_once_in_file_order() -> None:
    counted = INDICATORS.count(["UPFRONT_FEE", "HIGH_PAY_LOW_SKILL", "URGENCY", "UPFRONT_FEE", "DOCUMENT_HANDOVER"])
    assert counted.ids == ("DECEPTIVE_PAY", "RECRUITMENT_FEE", "DOCUMENTS_RETAINED")
    assert counted.as_dict() == {
        "count": 3,
        "of": 12,
        "ids": ["DECEPTIVE_PAY", "RECRUITMENT_FEE", "DOCUMENTS_RETAINED"],
    }


def test_flags_that_are_not_indicators_count_nothing() -> None:
    assert INDICATORS.count(["URGENCY", "MESSENGER_PHONE_ONLY", "LEGAL_ENTITY"]).count == 0


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "indicators.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_an_unknown_red_flag_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "indicators:\n  - {id: FEE, ilo: debt bondage, note: fee, red_flags: [NO_SUCH_FLAG]}\n")
    with pytest.raises(RuleConfigError, match=r"indicators\.yaml: unknown red flags \['NO_SUCH_FLAG'\]"):
        load_indicators(path).check_against(load_flags())


def test_a_flag_marked_as_indicator_but_not_mapped_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "indicators:\n  - {id: FEE, ilo: debt bondage, note: fee, red_flags: [UPFRONT_FEE]}\n")
    with pytest.raises(RuleConfigError, match="marked `indicator: true` but not mapped"):
        load_indicators(path).check_against(load_flags())


def test_repeated_ids_are_refused(tmp_path: Path) -> None:
    entry = "  - {id: FEE, ilo: debt bondage, note: fee, red_flags: [UPFRONT_FEE]}\n"
    with pytest.raises(RuleConfigError, match="repeated"):
        load_indicators(write(tmp_path, "indicators:\n" + entry + entry))


def test_the_result_counts_the_indicators_of_its_red_flags_and_lists_contacts(scorer: Scorer) -> None:
    text = (
        "Девушки 18-25 на работу хостес в Дубай, 3000$ в месяц без опыта, билеты оплачиваем, "
        "паспорт прислать заранее. Telegram @dubai_job, WhatsApp +971 52 704 3318"
    )
    result = scorer.score(text, country="BY")
    ResultOut.model_validate(result)
    expected = INDICATORS.count(flag["id"] for flag in result["red_flags"])
    assert result["indicators"] == expected.as_dict()
    assert result["indicators"]["count"] >= 4
    assert [(contact["kind"], contact["value"]) for contact in result["contacts"]] == [
        ("handle", "@dubai_job"),
        ("phone", "+971527043318"),
    ]
    start, end = result["contacts"][1]["spans"][0]
    assert text[start:end] == "+971 52 704 3318"


def test_a_plain_job_shows_no_indicator(scorer: Scorer) -> None:
    result = scorer.score("ООО «Кафе Лето», г. Минск, ул. Ленина 5: повар, договор, собеседование.", country="BY")
    assert result["indicators"]["count"] == 0
    assert result["contacts"] == []
