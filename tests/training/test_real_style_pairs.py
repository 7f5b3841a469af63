"""Paired ads: a real-style legitimate vacancy and its lure twin, in every language.

Written for this test (not real ads). Each legitimate vacancy has what real ones have and
lures lack: a named employer with its legal form, a contract, pay in line with the job, a
workers' hostel, and work abroad. Its twin keeps the job and the place but swaps the
employer's identity for the signs of a lure. The shipped model must tell them apart in
every language: a model that learned a language, a genre or one source's formatting
instead of the signs would score both alike.
"""

import pytest

from adscreen import Scorer

PAIRS = {
    "ru": (
        "ООО «СеверСтройМонтаж» (г. Тверь, ИНН 6950123456) приглашает монтажников на объект в Санкт-Петербурге. "
        "Оформление по ТК РФ, оклад 78 000 руб. до вычета НДФЛ, вахта 30/30. Проживание в общежитии компании, "
        "проезд компенсируем по билетам. Собеседование в офисе, ул. Советская 12.",
        "Срочно! Монтажники на объект в Санкт-Петербурге, опыт не нужен, от 6000 в день, выплаты ежедневно. "
        "Проживание и дорогу оплатим, паспорт оформим сами, документы оставляете у бригадира. Пиши в лс @stroy_bigmoney.",
    ),
    "be": (
        "ТАА «БудМантаж-Захад» (г. Гродна, УНП 590123456) запрашае муляраў на аб'ект у Польшчы па ліцэнзіі МУС "
        "на працаўладкаванне за мяжой. Працоўны дагавор, заробак 5200 злотых брута, пражыванне ў інтэрнаце "
        "кампаніі. Сумоўе ў офісе ў Гродне.",
        "Тэрмінова! Муляры ў Польшчу, вопыт не патрэбны, заробак ад 3000 еўра, білеты і жыллё за наш кошт. "
        "Пашпарт зробім самі, пішыце толькі ў Telegram @budowa_szybko, засталося 2 месцы!",
    ),
    "uk": (
        "ТОВ «АгроСезон Україна» (м. Вінниця, ЄДРПОУ 41234567) набирає працівників на збір полуниці в Польщі, "
        "ліцензія Мінсоцполітики. Договір з роботодавцем, 28 злотих брутто за годину, проживання в гуртожитку "
        "ферми. Співбесіда в офісі агенції.",
        "Робота в Польщі на полуниці, досвід не потрібен, від 1500 грн за день, виплати щодня! Проїзд і житло "
        "безкоштовно, документи залишаєте для реєстрації. Пишіть у Viber або в особисті, виїзд вже наступного тижня!",
    ),
    "pl": (
        "Sezon Owocowy Sp. z o.o. (Sandomierz, KRS 0000123456, KRAZ 12345) zatrudni pracowników do zbioru truskawek "
        "w Holandii. Umowa o pracę z pracodawcą, 14,50 EUR brutto za godzinę, zakwaterowanie w hotelu pracowniczym "
        "(pokoje 2-osobowe). Rozmowa kwalifikacyjna w biurze w Sandomierzu.",
        "Praca w Holandii przy truskawkach bez doświadczenia, 300 zł za dzień, wypłata codziennie! Przejazd i "
        "mieszkanie gratis, paszport załatwimy sami. Pisz tylko na WhatsApp, wyjazd już w przyszłym tygodniu!",
    ),
    "en": (
        "Harvest Fresh Produce Ltd (Company No. 08123456, GLAA licence 123456) is recruiting seasonal fruit pickers "
        "for its farm in Kent, UK. Employment contract, GBP 12.21 per hour, accommodation in on-site caravans at "
        "GBP 70 a week. Video interview with our HR team.",
        "Fruit pickers needed in the UK, no experience, earn $300 a day, daily payouts! Flights and housing paid, "
        "we arrange your passport ourselves. Message only on WhatsApp, leaving next week, 3 places left!",
    ),
}


@pytest.mark.parametrize("language", sorted(PAIRS))
def test_a_real_style_vacancy_scores_low_and_its_lure_twin_high(scorer: Scorer, language: str) -> None:
    vacancy, lure = PAIRS[language]
    legitimate, risky = scorer.score(vacancy), scorer.score(lure)
    assert legitimate["label"] == "looks_ok", (language, legitimate["risk"])
    assert risky["label"] == "suspicious", (language, risky["risk"])
    assert risky["risk"] - legitimate["risk"] > 0.5, language
