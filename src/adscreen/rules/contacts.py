"""Contacts in an ad: phone numbers, messenger accounts and links, e-mail addresses, web domains.

Traffickers and scammers repost one ad under many names but keep the same numbers and
accounts, so contacts link the copies (see ``adscreen.analysis.campaigns``). Every contact has a
canonical ``value`` (phones in E.164 where the country is known, ``@name`` for accounts,
lower-case addresses and domains), the services it was offered on, and its spans in the
text as submitted. Which services exist, how their links look and which domains do not
identify anyone is data (``data/contacts.yaml``); extraction is a pure function.

Phone numbers are found by a loose pattern and kept only when ``phonenumbers`` says they
are valid: international numbers ("+375 ...") always, national ones ("8 029 ...") only
when the country is known, since "067 123 45 67" means different people in different
countries. One regex pass over the text finds everything else, so extraction stays cheap
enough for dumps of millions of ads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field

from adscreen.datafiles import read_yaml, validated
from adscreen.errors import RuleConfigError
from adscreen.paths import DATA_DIR
from adscreen.text import latin_lookalikes, without_invisible

CONTACTS_FILE = DATA_DIR / "contacts.yaml"
Kind = Literal["phone", "handle", "link", "email", "domain"]
# How far from a bare @name or a phone number a service's name may stand ("Viber/WhatsApp: +48 ...").
_CONTEXT_BEFORE = 40
_CONTEXT_AFTER = 25
# How many loose matches per ad may be searched for numbers side by side (see ``_phones``).
MAX_PHONE_SPLITS = 10


class LinkExample(BaseModel):
    """A text and the key of the contact it must yield."""

    model_config = ConfigDict(extra="forbid")
    text: str
    key: str


class ServiceExamples(BaseModel):
    """Texts that must and must not yield a contact on the service; the test suite runs them."""

    model_config = ConfigDict(extra="forbid")
    match: list[LinkExample] = Field(min_length=1)
    no_match: list[str] = Field(min_length=1)


class ServiceSpec(BaseModel):
    """One messaging service, as written in the data file."""

    model_config = ConfigDict(extra="forbid")
    handles: bool
    phones: bool
    words: list[str] = Field(min_length=1)
    hosts: list[str] = Field(min_length=1)
    links: list[str] = Field(min_length=1)
    examples: ServiceExamples


class ContactRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    services: dict[str, ServiceSpec] = Field(min_length=1)
    tlds: list[str] = Field(min_length=1)
    not_identifying: list[str]


@dataclass(frozen=True)
class Contact:
    """One contact of one ad, with every place it appears."""

    kind: Kind
    value: str
    services: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    identifying: bool = True  # False for job boards, social networks, link shorteners ...

    @property
    def key(self) -> str:
        """``kind:value``: the same person's number or account gives the same key in every ad."""
        return f"{self.kind}:{self.value}"

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "value": self.value,
            "services": list(self.services),
            "spans": [list(span) for span in self.spans],
        }


Contacts = tuple[Contact, ...]


@dataclass(frozen=True)
class _Service:
    name: str
    spec: ServiceSpec
    words: re.Pattern[str]
    links: tuple[re.Pattern[str], ...]


def _compile(pattern: str, source: str, what: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise RuleConfigError(f"{source}: {what} {pattern!r}: {error}") from None


def _on_host(host: str, domains: Iterable[str]) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in domains)


# Possessive quantifiers (3.11+) so that ordinary words fail fast instead of backtracking.
_EMAIL = r"(?P<email>(?<![\w.+-])[\w.+-]++@[a-z0-9-]++(?:\.[a-z0-9-]++)++)"
_URL = r"(?P<url>(?:(?:https?|viber|tg)://|(?<![\w@.-])www\.)[^\s<>\"'«»()\[\]{}]++)"
_BARE = r"(?P<bare>(?<![\w@.-])(?:[a-z0-9-]++\.)+(?:{tlds})(?![\w-])(?:/[^\s<>\"'«»()]*+)?)"
_HANDLE = r"(?P<handle>(?<![\w@.])@\w[\w.]{2,31})"
# Loose on purpose: phonenumbers decides what is a number.
_PHONE = r"(?P<phone>(?<![\w+])(?:\+\s?|00)?\(?\d(?:[ \t\u00a0().\-/]{0,2}\d){6,14}(?!\w))"
# Nothing starts inside a word: one shared look-behind skips most positions of a text at once.
_START = r"(?<![\w@+-])"
_TRAILING = ".,;:!?…'\")»"
_SCHEME = re.compile(r"^(?:https?://)?(?:www\.)?", re.IGNORECASE)
_DIGITS = re.compile(r"\d")
_NEXT_CONTACT = re.compile(r"[@+\d]|https?:|www\.", re.IGNORECASE)
_NOT_DIALLED = re.compile(r"[^\d+]")


class ContactFinder:
    """The rules of ``data/contacts.yaml`` compiled into one scanning regex and per-service link patterns."""

    def __init__(self, rules: ContactRules, source: str) -> None:
        self.rules = rules
        self.source = source
        self.services = tuple(
            _Service(
                name,
                spec,
                _compile(r"(?<!\w)(?:" + "|".join(spec.words) + ")", source, f"{name} words"),
                tuple(_compile(link, source, f"{name} link") for link in spec.links),
            )
            for name, spec in rules.services.items()
        )
        tlds = "|".join(sorted((re.escape(tld) for tld in rules.tlds), key=len, reverse=True))
        alternatives = [_EMAIL, _URL, _BARE.format(tlds=tlds), _HANDLE, _PHONE]
        self.scanner = re.compile(_START + "(?:" + "|".join(alternatives) + ")", re.IGNORECASE)
        self._service_hosts = tuple(host for service in self.services for host in service.spec.hosts)

    def extract(self, text: str, country: str | None = None) -> Contacts:
        """Every contact in ``text``, in order of first appearance; ``country`` (ISO code) reads national numbers."""
        region = country.upper() if country and len(country) == 2 else None
        visible = without_invisible(text)  # "@dub\u200bai_job" is @dubai_job; spans still point into ``text``
        found: dict[tuple[Kind, str], tuple[list[tuple[int, int]], set[str], bool]] = {}
        for kind, value, span, services, identifying in self._matches(visible.text, region):
            spans, names, _ = found.setdefault((kind, value), ([], set(), identifying))
            spans.append(span if visible.text is text else visible.original_span(*span))
            names.update(services)
        contacts = [
            Contact(kind, value, tuple(sorted(names)), tuple(sorted(spans)), identifying)
            for (kind, value), (spans, names, identifying) in found.items()
        ]
        return tuple(sorted(contacts, key=lambda contact: contact.spans[0]))

    def _matches(self, text: str, region: str | None) -> Iterator[tuple[Kind, str, tuple[int, int], list[str], bool]]:
        previous_end = 0  # a service named before the previous contact belongs to that one
        splits_left = MAX_PHONE_SPLITS
        for match in self.scanner.finditer(text):
            group, start = match.lastgroup, match.start()
            if group == "email":
                yield "email", match.group().lower(), match.span(), [], True
            elif group in ("url", "bare"):
                raw = match.group().rstrip(_TRAILING)
                link = self._link(raw)
                if link:
                    yield link[0], link[1], (start, start + len(raw)), link[2], link[3]
            elif group == "handle":
                raw = match.group().rstrip(".")
                if any(char.isalpha() for char in raw):
                    span = (start, start + len(raw))
                    services = self._services(text, previous_end, span, handles=True)
                    yield "handle", _canonical_handle(raw[1:]), span, services[-1:], True
            else:
                # Looking inside a loose match costs milliseconds: a few times per ad, or "1/2/3/..." takes seconds.
                candidate = match.group()
                splits_left -= _may_hold_two(candidate)
                for value, span in _phones(candidate, start, region, split=splits_left >= 0):
                    yield "phone", value, span, self._services(text, previous_end, span, handles=False), True
            previous_end = match.end()

    def _link(self, raw: str) -> tuple[Kind, str, list[str], bool] | None:
        """What a link points to: a service's account, number or group, else the advertiser's domain."""
        bare = _SCHEME.sub("", raw)
        for service in self.services:
            for pattern in service.links:
                found = pattern.fullmatch(bare)
                if found is None:
                    continue
                named = {key: value for key, value in found.groupdict().items() if value}
                if "handle" in named:
                    return "handle", _canonical_handle(named["handle"]), [service.name], True
                if "phone" in named:
                    phone = _e164("+" + named["phone"], None)
                    return ("phone", phone, [service.name], True) if phone else None
                return "link", f"{service.name}/{named['invite']}", [service.name], True
        host = bare.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].lower().rstrip(".")
        if "://" in bare or "." not in host or _on_host(host, self._service_hosts):
            return None  # a messenger link we cannot read is no web site of the advertiser
        return "domain", host, [], not _on_host(host, self.rules.not_identifying)

    def _services(self, text: str, previous_end: int, span: tuple[int, int], handles: bool) -> list[str]:
        """The services named just before a bare @name or number on its line, else just after it.

        "Viber/WhatsApp: +48 ..." is on both; a bare @name takes the service named nearest to it.
        """
        start, end = span
        before = text[max(previous_end, start - _CONTEXT_BEFORE) : start].rsplit("\n", 1)[-1]
        after = _NEXT_CONTACT.split(text[end : end + _CONTEXT_AFTER].split("\n", 1)[0], 1)[0]
        candidates = [
            service for service in self.services if (service.spec.handles if handles else service.spec.phones)
        ]
        for window, nearest_last in ((before, True), (after, False)):
            named = [(hit.start(), service.name) for service in candidates for hit in service.words.finditer(window)]
            if named:
                ordered = [name for _, name in sorted(named, reverse=not nearest_last)]
                return list(dict.fromkeys(ordered))  # nearest last, each service once
        return []


def _canonical_handle(name: str) -> str:
    """``@name`` in lower case with look-alike Cyrillic letters made Latin ("@dubаi" is "@dubai")."""
    return "@" + latin_lookalikes(name)


def _e164(candidate: str, region: str | None) -> str | None:
    """The number in E.164, or None when phonenumbers does not take it for a valid one."""
    compact = _NOT_DIALLED.sub("", candidate)
    return _e164_compact(compact, region) if 7 <= len(compact) <= 17 else None


@lru_cache(maxsize=1 << 16)
def _e164_compact(candidate: str, region: str | None) -> str | None:
    # Reposts repeat the same numbers, and parsing is the slow part of extraction.
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phones(candidate: str, offset: int, region: str | None, split: bool = True) -> list[tuple[str, tuple[int, int]]]:
    """Valid numbers in one loose match: the whole of it, else (if ``split``) the numbers phonenumbers finds inside."""
    international = candidate.lstrip("(").startswith(("+", "00"))
    if region is None and not international:
        return []
    whole = _e164(candidate, region)
    if whole:
        return [(whole, (offset, offset + len(candidate)))]
    if not split or not _may_hold_two(candidate):
        return []
    return [(value, (offset + start, offset + end)) for value, start, end in _split_phones(candidate, region)]


def _may_hold_two(candidate: str) -> bool:
    return len(_DIGITS.findall(candidate)) >= 14  # two numbers side by side have at least 14 digits


@lru_cache(maxsize=1 << 12)
def _split_phones(candidate: str, region: str | None) -> tuple[tuple[str, int, int], ...]:
    return tuple(
        (phonenumbers.format_number(found.number, phonenumbers.PhoneNumberFormat.E164), found.start, found.end)
        for found in phonenumbers.PhoneNumberMatcher(candidate, region or "ZZ")
    )


def load_contact_rules(path: Path = CONTACTS_FILE) -> ContactFinder:
    return ContactFinder(validated(path, ContactRules, read_yaml(path)), str(path))


@lru_cache(maxsize=1)
def default_finder() -> ContactFinder:
    """The shipped rules, read on first use."""
    return load_contact_rules()


def extract(text: str, country: str | None = None) -> Contacts:
    """Every contact in one ad with the shipped rules (see ``ContactFinder.extract``)."""
    return default_finder().extract(text, country)


def contact_keys(contacts: Contacts, identifying_only: bool = False) -> list[str]:
    """The ad's contacts as ``kind:value`` keys, in order of appearance."""
    return [contact.key for contact in contacts if contact.identifying or not identifying_only]
