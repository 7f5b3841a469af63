"""Campaigns: ads that belong together because their texts are near-copies or they share a contact.

Traffickers and scammers post one lure many times with small changes (sentences
reordered, sums and numbers changed, contacts swapped) under different names, and
reuse the same numbers and accounts. Two links join ads into one campaign:

- **text**: MinHash signatures of each ad's shingles (word n-grams within a sentence,
  of lower-cased text with its contacts cut out and every digit made ``0``), so
  reordered sentences, new sums and new contacts leave the signature nearly unchanged;
  LSH banding finds the candidate pairs and each is kept only when the signatures
  agree on at least ``threshold`` of their values (the estimated Jaccard similarity);
- **contact**: the same identifying contact (``adscreen.rules.contacts``) in both ads.

Campaigns are the connected components of both links together. Everything is
near-linear: signatures are computed in vectorised batches (the exact values of
``datasketch.MinHash`` with its ``affine32`` scheme, which the tests check), and
candidate pairs come from sorting band keys rather than from an index of Python
objects, which would not fit a million ads in memory. Pairs are never enumerated all
against all: an LSH bucket or a shared contact adds at most two edges per member.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import get_context

import numpy as np
import pandas as pd
from datasketch import MinHash, MinHashLSH
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from adscreen.config import CAMPAIGN_THRESHOLD
from adscreen.rules.contacts import Contacts, default_finder

DEFAULT_NUM_PERM = 64
SHINGLE_WORDS = 3
MIN_SHINGLES = 3  # shorter texts ("Call +48 ...") say too little to call two ads copies
SEED = 1
CHUNK_ADS = 5_000

_SENTENCE_END = re.compile(r"[.!?…;|\n]+")
_NONZERO_DIGIT = re.compile(r"[1-9]")
_WORD_OR_END = re.compile(r"\w+|\|")
END = np.uint32(zlib.crc32(b"|"))
MIX = np.uint32(0x01000193)  # the 32-bit FNV prime


@dataclass(frozen=True)
class GroupingParams:
    """How alike two texts must be to count as copies, and how fine the signatures are."""

    num_perm: int = DEFAULT_NUM_PERM
    threshold: float = CAMPAIGN_THRESHOLD
    shingle_words: int = SHINGLE_WORDS
    min_shingles: int = MIN_SHINGLES
    seed: int = SEED

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be between 0 and 1, got {self.threshold}")
        if self.num_perm < 8:
            raise ValueError(f"num_perm must be at least 8, got {self.num_perm}")
        if self.min_shingles < 1:
            raise ValueError(f"min_shingles must be at least 1, got {self.min_shingles}")

    @property
    def bands(self) -> tuple[int, int]:
        """LSH bands and rows per band for the threshold, as datasketch chooses them."""
        lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm)
        return lsh.b, lsh.r


# --- Shingles and signatures -------------------------------------------------------


def template_tokens(text: str, contacts: Contacts) -> list[str]:
    """The ad as a template, in words, with ``|`` wherever a sentence ends.

    Contacts are cut out, letters lower-cased and every digit made ``0`` ("3500" is "0000").
    """
    pieces, position = [], 0
    for start, end in sorted(span for contact in contacts for span in contact.spans):
        if start >= position:
            pieces.append(text[position:start])
            pieces.append(" ")
            position = end
    pieces.append(text[position:])
    template = _SENTENCE_END.sub(" | ", _NONZERO_DIGIT.sub("0", "".join(pieces).lower()))
    return _WORD_OR_END.findall(template)


def word_hashes(tokens: list[str]) -> list[int]:
    """CRC-32 of each word: stable across processes and runs, which Python's ``hash`` of a string is not."""
    return list(map(zlib.crc32, map(str.encode, tokens)))


def shingle_hashes(hashes: np.ndarray, words: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the shingles of many templates at once, and the position each starts at.

    ``hashes`` are word hashes with ``END`` after every sentence and every document. A
    shingle is ``words`` consecutive words of one sentence, so reordering sentences keeps
    every shingle; a shorter sentence is one shingle of its own. A shingle's hash mixes
    its words' hashes: ``h = h * MIX ^ word`` for each, a missing word counting as 0.
    """
    count = len(hashes)
    is_end = hashes == END
    ends = np.flatnonzero(is_end)
    positions = np.arange(count)
    available = np.minimum(ends[np.searchsorted(ends, positions)] - positions, words)  # words left in the sentence
    padded = np.concatenate([hashes, np.zeros(words, dtype=np.uint32)])
    mixed = np.zeros(count, dtype=np.uint32)
    for offset in range(words):
        word = np.where(offset < available, padded[offset : offset + count], np.uint32(0))
        mixed = (mixed * MIX) ^ word
    sentence_start = ~is_end & np.r_[True, is_end[:-1]]
    starts = (available == words) | (sentence_start & (available > 0))
    return mixed[starts], positions[starts]


@lru_cache(maxsize=8)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's finaliser, which datasketch applies to every input hash before permuting."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def signatures(hashes: np.ndarray, starts: np.ndarray, params: GroupingParams) -> np.ndarray:
    """MinHash signatures of many documents at once: ``hashes`` concatenated, document i from ``starts[i]``.

    Every document must have at least one hash. Equal to ``datasketch.MinHash(scheme="affine32")``
    updated with the same hash values, at a fraction of the cost.
    """
    a, b = _permutations(params.num_perm, params.seed)
    mixed = _fmix32(hashes.astype(np.uint32))
    result = np.empty((len(starts), params.num_perm), dtype=np.uint32)
    for k in range(params.num_perm):
        result[:, k] = np.minimum.reduceat(mixed * a[k] + b[k], starts)
    return result


@dataclass
class Fingerprints:
    """What grouping needs of each ad: its text signature (if long enough) and its identifying contacts."""

    signatures: np.ndarray  # (ads, num_perm) uint32
    comparable: np.ndarray  # bool: the text had at least min_shingles shingles
    contact_keys: list[list[str]]

    def __len__(self) -> int:
        return len(self.contact_keys)

    @staticmethod
    def concat(parts: Sequence[Fingerprints], num_perm: int) -> Fingerprints:
        if not parts:
            return Fingerprints(np.empty((0, num_perm), np.uint32), np.empty(0, bool), [])
        return Fingerprints(
            np.concatenate([part.signatures for part in parts]),
            np.concatenate([part.comparable for part in parts]),
            [keys for part in parts for keys in part.contact_keys],
        )


def fingerprint(
    texts: Sequence[str | None], countries: Sequence[str | None] | None, params: GroupingParams
) -> Fingerprints:
    """Fingerprints of a batch of ads; ``countries`` (ISO codes) read national phone numbers."""
    if not texts:
        return Fingerprints.concat([], params.num_perm)
    finder = default_finder()
    hashes: list[int] = []
    document_starts: list[int] = []
    contact_keys: list[list[str]] = []
    for index, text in enumerate(texts):
        text = text if isinstance(text, str) else ""
        contacts = finder.extract(text, countries[index] if countries is not None else None)
        contact_keys.append([contact.key for contact in contacts if contact.identifying])
        document_starts.append(len(hashes))
        hashes.extend(word_hashes(template_tokens(text, contacts)))
        hashes.append(int(END))
    found, positions = shingle_hashes(np.array(hashes, dtype=np.uint32), params.shingle_words)
    document = np.searchsorted(np.array(document_starts), positions, side="right") - 1
    per_document = np.bincount(document, minlength=len(texts))
    comparable = per_document >= params.min_shingles
    keep = comparable[document]
    found, document = found[keep], document[keep]
    signature_rows = np.full((len(texts), params.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    if len(found):
        first = np.searchsorted(document, np.flatnonzero(comparable))
        signature_rows[comparable] = signatures(found, first, params)
    return Fingerprints(signature_rows, comparable, contact_keys)


def _fingerprint_chunk(job: tuple[Sequence[str | None], Sequence[str | None] | None, GroupingParams]) -> Fingerprints:
    return fingerprint(*job)


def fingerprints(
    texts: Sequence[str | None],
    countries: Sequence[str | None] | None = None,
    params: GroupingParams | None = None,
    jobs: int = 1,
    chunk_ads: int = CHUNK_ADS,
) -> Fingerprints:
    """Fingerprints of every ad, in chunks, in ``jobs`` processes when more than one."""
    params = params or GroupingParams()
    chunks = [
        (
            texts[start : start + chunk_ads],
            countries[start : start + chunk_ads] if countries is not None else None,
            params,
        )
        for start in range(0, len(texts), chunk_ads)
    ]
    if jobs <= 1 or len(chunks) <= 1:
        return Fingerprints.concat([_fingerprint_chunk(chunk) for chunk in chunks], params.num_perm)
    # spawn, not fork: forking a process that may hold threads (pyarrow, uvicorn) is unsafe.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        return Fingerprints.concat(list(pool.map(_fingerprint_chunk, chunks)), params.num_perm)


# --- Links and components ----------------------------------------------------------


def _runs(keys: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges that join every run of equal keys: each member to the next one and to the run's first.

    Two edges per member at most, however large the run, so grouping stays linear.
    """
    order = np.argsort(keys, kind="stable")
    keys, members = keys[order], members[order]
    same = keys[1:] == keys[:-1]
    run_start = np.maximum.accumulate(np.where(np.r_[True, ~same], np.arange(len(keys)), 0))
    chain = (members[:-1][same], members[1:][same])
    leader = (members[run_start][1:][same], members[1:][same])
    return np.concatenate([chain[0], leader[0]]), np.concatenate([chain[1], leader[1]])


def _band_keys(band: np.ndarray) -> np.ndarray:
    """One 64-bit key per row of a band (FNV-style mixing; a chance collision only adds a pair to verify)."""
    keys = np.full(len(band), 0xCBF29CE484222325, dtype=np.uint64)
    for column in band.T:
        keys = (keys ^ column.astype(np.uint64)) * np.uint64(0x100000001B3)
    return keys


def _unique_pairs(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    low, high = np.minimum(left, right), np.maximum(left, right)
    keep = low != high
    pairs = np.unique(np.stack([low[keep], high[keep]], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def text_links(prints: Fingerprints, params: GroupingParams, batch: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of ads whose texts are near-copies: LSH candidates whose signatures agree on ``threshold`` or more."""
    members = np.flatnonzero(prints.comparable)
    bands, rows = params.bands
    lefts, rights = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for band in range(bands):
        keys = _band_keys(prints.signatures[members, band * rows : (band + 1) * rows])
        left, right = _runs(keys, members)
        lefts.append(left)
        rights.append(right)
    left, right = _unique_pairs(np.concatenate(lefts), np.concatenate(rights))
    keep = np.zeros(len(left), dtype=bool)
    for start in range(0, len(left), batch):
        part = slice(start, start + batch)
        agreement = (prints.signatures[left[part]] == prints.signatures[right[part]]).mean(axis=1)
        keep[part] = agreement >= params.threshold
    return left[keep], right[keep]


def contact_links(prints: Fingerprints) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Pairs of ads that share a contact, and the (ad, contact) table they come from."""
    ads = np.repeat(np.arange(len(prints)), [len(keys) for keys in prints.contact_keys])
    keys = [key for ad_keys in prints.contact_keys for key in ad_keys]
    codes, names = pd.factorize(pd.Series(keys, dtype=object))
    table = pd.DataFrame({"ad": ads, "contact": codes}).drop_duplicates()
    left, right = _runs(table["contact"].to_numpy(), table["ad"].to_numpy())
    table["contact"] = pd.Categorical.from_codes(table["contact"].to_numpy(), categories=names)
    return left, right, table


@dataclass
class Grouping:
    """Which campaign each ad belongs to (-1: none), campaigns numbered from the largest."""

    labels: np.ndarray
    sizes: np.ndarray  # per campaign
    linked_by: list[str]  # per campaign: "text", "contact" or "text+contact"
    shared_contacts: list[list[str]]  # per campaign: contacts found in two or more of its ads

    @property
    def count(self) -> int:
        return len(self.sizes)

    def members(self) -> Iterator[np.ndarray]:
        """Row numbers of each campaign's ads, in campaign order."""
        order = np.argsort(self.labels, kind="stable")
        grouped = self.labels[order]
        bounds = np.searchsorted(grouped, np.arange(self.count + 1))
        for campaign in range(self.count):
            yield order[bounds[campaign] : bounds[campaign + 1]]


def group(prints: Fingerprints, params: GroupingParams | None = None) -> Grouping:
    """Campaigns: connected components of the text and contact links, of two ads or more."""
    params = params or GroupingParams()
    count = len(prints)
    text_left, text_right = text_links(prints, params)
    contact_left, contact_right, contact_table = contact_links(prints)
    left = np.concatenate([text_left, contact_left])
    right = np.concatenate([text_right, contact_right])
    graph = coo_matrix((np.ones(len(left), dtype=np.int32), (left, right)), shape=(count, count))
    _, components = connected_components(graph, directed=False)
    sizes = np.bincount(components)
    first_row = np.full(len(sizes), count)
    np.minimum.at(first_row, components, np.arange(count))
    campaign_components = np.flatnonzero(sizes >= 2)
    campaign_components = campaign_components[np.lexsort((first_row[campaign_components], -sizes[campaign_components]))]
    number = np.full(len(sizes), -1)
    number[campaign_components] = np.arange(len(campaign_components))
    labels = number[components]
    by_text = np.isin(np.arange(len(campaign_components)), labels[text_left])
    by_contact = np.isin(np.arange(len(campaign_components)), labels[contact_left])
    names = {(True, False): "text", (False, True): "contact", (True, True): "text+contact"}
    linked_by = [names[(bool(t), bool(c))] for t, c in zip(by_text, by_contact, strict=True)]
    return Grouping(labels, sizes[campaign_components], linked_by, _shared(contact_table, labels, len(linked_by)))


def _shared(table: pd.DataFrame, labels: np.ndarray, campaigns: int) -> list[list[str]]:
    """Per campaign, the contacts that two or more of its ads carry, the most widely shared first."""
    shared: list[list[str]] = [[] for _ in range(campaigns)]
    table = table.assign(campaign=labels[table["ad"].to_numpy()])
    table = table[table["campaign"] >= 0]
    counts = table.groupby(["campaign", "contact"], observed=True).size().reset_index(name="ads")
    counts = counts[counts["ads"] >= 2].sort_values(["campaign", "ads", "contact"], ascending=[True, False, True])
    for campaign, contact in zip(counts["campaign"], counts["contact"].astype(str), strict=True):
        shared[campaign].append(contact)
    return shared


# --- The analyst's table -------------------------------------------------------------


def campaign_ids(count: int) -> list[str]:
    """``C0001`` ... : zero-padded so that sorting the ids sorts the campaigns."""
    width = max(4, len(str(count)))
    return [f"C{number + 1:0{width}d}" for number in range(count)]


def campaign_table(
    grouping: Grouping,
    ids: Sequence[object],
    risks: np.ndarray | None = None,
    languages: Sequence[str | None] | None = None,
    dates: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per campaign: id, size, members, shared contacts, how linked, languages, dates, risk.

    ``risks``, ``languages`` and ``dates`` are per ad, aligned with ``ids``; each is optional
    and its columns are left out when absent.
    """
    names = campaign_ids(grouping.count)
    rows = []
    for campaign, members in enumerate(grouping.members()):
        row: dict[str, object] = {
            "campaign_id": names[campaign],
            "size": int(grouping.sizes[campaign]),
            "linked_by": grouping.linked_by[campaign],
            "members": [str(ids[member]) for member in members],
            "shared_contacts": grouping.shared_contacts[campaign],
        }
        if languages is not None:
            counted = pd.Series([languages[member] for member in members], dtype=object).dropna().value_counts()
            row["languages"] = [str(language) for language in counted.index]
        if dates is not None:
            seen = dates.iloc[members].dropna()
            row["first_seen"] = seen.min().date().isoformat() if len(seen) else None
            row["last_seen"] = seen.max().date().isoformat() if len(seen) else None
        if risks is not None:
            row["max_risk"] = round(float(np.max(risks[members])), 4)
            row["median_risk"] = round(float(np.median(risks[members])), 4)
        rows.append(row)
    columns = ["campaign_id", "size", "linked_by", "members", "shared_contacts"]
    columns += ["languages"] * (languages is not None) + ["first_seen", "last_seen"] * (dates is not None)
    columns += ["max_risk", "median_risk"] * (risks is not None)
    return pd.DataFrame(rows, columns=columns)


def ad_campaign_ids(grouping: Grouping) -> list[str | None]:
    """Per ad, the id of its campaign, or None for an ad in none."""
    names = campaign_ids(grouping.count)
    return [names[label] if label >= 0 else None for label in grouping.labels]
