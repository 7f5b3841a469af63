"""Contacts: each messenger's own examples, phones in five countries' formats, addresses, spans, broken rules."""

from pathlib import Path

import pytest

from adscreen.errors import RuleConfigError
from adscreen.rules.contacts import contact_keys, default_finder, extract, load_contact_rules

SERVICES = default_finder().rules.services
SERVICE_MATCHES = [
    pytest.param(name, example.text, example.key, id=f"{name}-{index}")
    for name, spec in SERVICES.items()
    for index, example in enumerate(spec.examples.match)
]
SERVICE_MISSES = [
    pytest.param(name, text, id=f"{name}-no-{index}")
    for name, spec in SERVICES.items()
    for index, text in enumerate(spec.examples.no_match)
]


def keys(text: str, country: str | None = "BY") -> list[str]:
    return contact_keys(extract(text, country))


def test_every_messenger_of_the_issue_has_rules() -> None:
    assert {"telegram", "whatsapp", "viber", "vk", "instagram"} <= set(SERVICES)


@pytest.mark.parametrize(("service", "text", "key"), SERVICE_MATCHES)
def test_service_examples_match(service: str, text: str, key: str) -> None:
    found = {contact.key: contact for contact in extract(text, "BY")}
    assert key in found, (text, list(found))
    assert service in found[key].services


@pytest.mark.parametrize(("service", "text"), SERVICE_MISSES)
def test_service_examples_do_not_match(service: str, text: str) -> None:
    assert not [contact for contact in extract(text, "BY") if service in contact.services]


@pytest.mark.parametrize(
    ("text", "country", "e164"),
    [
        ("Звоните 8 029 153-40-92", "BY", "+375291534092"),
        ("тел. 8 (029) 153-40-92", "BY", "+375291534092"),
        ("тел.+375 (29) 153-40-92", "BY", "+375291534092"),
        ("Тэл: 80291534092", "BY", "+375291534092"),
        ("Офис 8 0165 31-07-44", "BY", "+375165310744"),
        ("+7 914 280-36-71", "RU", "+79142803671"),
        ("Звонить 8 (914) 280 36 71", "RU", "+79142803671"),
        ("Дзвоніть 067 123 45 67", "UA", "+380671234567"),
        ("+380 67 123 4567", "UA", "+380671234567"),
        ("Tel. 571 330 912", "PL", "+48571330912"),
        ("tel. +48 571-330-912", "PL", "+48571330912"),
        ("Call (760) 432-1987", "US", "+17604321987"),
        ("Text 760.432.1987 now", "US", "+17604321987"),
        ("+1 760 432 1987", None, "+17604321987"),
        ("A Polish number read in Belarus: +48 571 330 912", "BY", "+48571330912"),
    ],
)
def test_phone_numbers_become_e164(text: str, country: str | None, e164: str) -> None:
    phones = [contact for contact in extract(text, country) if contact.kind == "phone"]
    assert [phone.value for phone in phones] == [e164]
    start, end = phones[0].spans[0]
    digits = "".join(char for char in text[start:end] if char.isdigit())
    assert e164[1:].endswith(digits.lstrip("0")[-9:])  # the span covers the number as written


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Зарплата 3 000 000 руб", "BY"),
        ("Выезд 01.06.2025", "BY"),
        ("Сезон 2024-2025", "RU"),
        ("1500-2000 EUR", "PL"),
        ("Девушки 18-25 лет", "BY"),
        ("Лицензия № 0123456", "BY"),
        ("тел. 153-40-92", "BY"),  # no area code: not dialable from anywhere
        ("8 029 153-40-92", None),  # national format and no country: whose number is it?
        ("067 123 45 67", None),
    ],
)
def test_things_that_are_not_phone_numbers(text: str, country: str | None) -> None:
    assert not [contact for contact in extract(text, country) if contact.kind == "phone"]


def test_emails_and_domains_in_lower_case_with_spans_into_the_text() -> None:
    text = "Резюме: HR.Dept@Krok.BY, сайт https://www.Krok.by/jobs. Анкета на olx.pl"
    found = extract(text, "BY")
    assert [contact.key for contact in found] == ["email:hr.dept@krok.by", "domain:krok.by", "domain:olx.pl"]
    assert [text[slice(*contact.spans[0])] for contact in found] == [
        "HR.Dept@Krok.BY",
        "https://www.Krok.by/jobs",
        "olx.pl",
    ]
    assert [contact.identifying for contact in found] == [True, True, False]  # a job board names nobody
    assert contact_keys(found, identifying_only=True) == ["email:hr.dept@krok.by", "domain:krok.by"]


def test_a_repeated_contact_is_one_contact_with_every_span() -> None:
    text = "Telegram @dubai_job. Ещё раз: t.me/dubai_job"
    (contact,) = extract(text)
    assert contact.key == "handle:@dubai_job"
    assert [text[start:end] for start, end in contact.spans] == ["@dubai_job", "t.me/dubai_job"]


def test_look_alike_letters_do_not_make_a_new_handle() -> None:
    assert keys("Telegram @dubаi_jоb") == keys("Telegram @dubai_job") == ["handle:@dubai_job"]


def test_services_named_beside_a_number_or_handle() -> None:
    found = extract("Viber/WhatsApp: +48 571 330 912, Instagram @casting_pl, пиши в телеграм @casting_bot", "BY")
    assert [(contact.value, contact.services) for contact in found] == [
        ("+48571330912", ("viber", "whatsapp")),
        ("@casting_pl", ("instagram",)),
        ("@casting_bot", ("telegram",)),
    ]


def test_a_messenger_link_nobody_can_read_is_not_a_web_site() -> None:
    assert keys("t.me/ab и wa.me/ и vk.com/x") == []


def test_an_ad_without_contacts() -> None:
    assert extract("Требуются повара в кафе, приходите на собеседование.") == ()


def test_a_bad_link_pattern_names_its_file(tmp_path: Path) -> None:
    source = default_finder().source
    broken = tmp_path / "contacts.yaml"
    broken.write_text(Path(source).read_text(encoding="utf-8").replace(r"wa\.me/", r"wa\.me/(", 1), encoding="utf-8")
    with pytest.raises(RuleConfigError, match=r"contacts\.yaml: whatsapp link"):
        load_contact_rules(broken)


def test_a_rules_file_without_services_names_the_field(tmp_path: Path) -> None:
    broken = tmp_path / "contacts.yaml"
    broken.write_text("services: {}\ntlds: [com]\nnot_identifying: []\n", encoding="utf-8")
    with pytest.raises(RuleConfigError, match=r"contacts\.yaml: services"):
        load_contact_rules(broken)
