"""Recognise wire copies: the same report reprinted with small changes, by MinHash and LSH.

A news agency's story is reprinted by many outlets, each trimming a paragraph, adding a
byline or changing a headline. Such a copy is one report, not a corroboration: counting
it as an independent article would let one wire story look like a dozen sources.
Each text gets a MinHash signature of its word 5-grams (datasketch). The signature is cut
into bands (locality-sensitive hashing, with datasketch's choice of bands for the
threshold); texts sharing a band's hash are candidates, and a candidate whose estimated
Jaccard similarity reaches the threshold is a copy. The register keeps every stored text's
band keys (``article_bands``), so a writer finds copies with an indexed query rather than
holding every signature in memory, and writers in several processes see each other's texts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: Permutations of a signature. 128 estimates Jaccard similarity within about ±0.09
#: (1/sqrt(128)), enough to tell a copy (0.8 and more) from two reports of one event
#: (rarely over 0.3 on 5-grams); the signature is 1 KB.
NUM_PERM = 128

#: Estimated Jaccard similarity of word 5-grams from which two texts are one report.
#: Reprints with a changed headline and a dropped closing paragraph stay above 0.8;
#: separately written reports of the same announcement share few 5-grams.
THRESHOLD = 0.8

#: datasketch's hashing scheme, named so that stored signatures stay comparable if its
#: default changes.
SCHEME = "affine64"

#: Words per shingle.
SHINGLE = 5

_WORD = re.compile(r"\w+")


def shingles(text: str) -> set[bytes]:
    """The word 5-grams of ``text``, lower-cased (the whole text if it is shorter)."""
    words = _WORD.findall(text.lower())
    if len(words) <= SHINGLE:
        return {" ".join(words).encode("utf-8")}
    return {
        " ".join(words[i : i + SHINGLE]).encode("utf-8") for i in range(len(words) - SHINGLE + 1)
    }


def signature(text: str) -> Any:
    """The MinHash signature of ``text`` (a ``datasketch.MinHash``)."""
    from datasketch import MinHash

    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    minhash.update_batch(list(shingles(text)))
    return minhash


def signature_bytes(minhash: Any) -> bytes:
    """A signature as bytes, to keep in the register (little-endian 64-bit values)."""
    data: bytes = minhash.hashvalues.astype("<u8").tobytes()
    return data


@lru_cache(maxsize=1)
def bands() -> tuple[int, int]:
    """``(bands, rows)``: how a signature is cut for the locality-sensitive hash, as
    datasketch's ``MinHashLSH`` chooses for :data:`THRESHOLD` and :data:`NUM_PERM`
    (9 bands of 13 values), so that texts at the threshold share a band almost surely
    and unrelated texts almost never."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    return int(lsh.b), int(lsh.r)


#: One band key: the band's number and a signed 64-bit hash of its values.
BandKey = tuple[int, int]


@lru_cache(maxsize=4096)
def band_keys(data: bytes) -> tuple[BandKey, ...]:
    """The band keys of a signature as :func:`signature_bytes` wrote it. Two texts whose
    signatures share a key are candidates, to be compared whole (:func:`similarity`); the
    keys are what the register indexes (``article_bands``), so that finding a text's
    copies reads a few rows, not every signature. (Cached: a writer asks for the keys of
    one signature several times, ahead of a partition, to search and to store them.)"""
    count, rows = bands()
    width = 8 * rows
    return tuple(
        (
            band,
            int.from_bytes(
                hashlib.blake2b(data[band * width : (band + 1) * width], digest_size=8).digest(),
                "little",
                signed=True,
            ),
        )
        for band in range(count)
    )


def similarity(first: bytes, second: bytes) -> float:
    """The Jaccard similarity two signatures estimate: the share of their values that are
    equal (as ``MinHash.jaccard``)."""
    import numpy as np

    a = np.frombuffer(first, dtype="<u8")
    b = np.frombuffer(second, dtype="<u8")
    if a.shape != b.shape:
        raise ValueError(f"signatures of {a.size} and {b.size} values cannot be compared")
    return float(np.count_nonzero(a == b)) / a.size


@dataclass(frozen=True, slots=True)
class Match:
    """A stored text that a new one copies: its key and their estimated similarity."""

    key: Hashable
    similarity: float


def best_match(data: bytes, candidates: Iterable[tuple[Hashable, bytes]]) -> Match | None:
    """The most similar of ``candidates`` (key, signature) at or above :data:`THRESHOLD`."""
    best: Match | None = None
    for key, other in candidates:
        found = similarity(data, other)
        if found >= THRESHOLD and (best is None or found > best.similarity):
            best = Match(key, found)
    return best


class DuplicateIndex:
    """Signatures held in memory, searchable for near-duplicates of a new one by their band
    keys: the texts a writer has decided on but not yet committed to the register."""

    def __init__(self) -> None:
        self._signatures: dict[Hashable, bytes] = {}
        self._buckets: dict[BandKey, list[Hashable]] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def add(self, key: Hashable, data: bytes) -> None:
        """Index a text's signature under ``key`` (once per key)."""
        if key in self._signatures:
            return
        self._signatures[key] = data
        for band in band_keys(data):
            self._buckets.setdefault(band, []).append(key)

    def candidates(self, keys: Iterable[BandKey]) -> list[tuple[Hashable, bytes]]:
        """The indexed texts sharing one of ``keys``, each once."""
        found = dict.fromkeys(key for band in keys for key in self._buckets.get(band, ()))
        return [(key, self._signatures[key]) for key in found]

    def find(self, data: bytes) -> Match | None:
        """The most similar indexed text at or above the threshold, if any."""
        return best_match(data, self.candidates(band_keys(data)))
