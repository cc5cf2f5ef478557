"""Recognise wire copies: the same report reprinted with small changes, by MinHash and LSH.

A news agency's story is reprinted by many outlets, each trimming a paragraph, adding a
byline or changing a headline. Such a copy is one report, not a corroboration: counting
it as an independent article would let one wire story look like a dozen sources.
Each text gets a MinHash signature of its word 5-grams (datasketch); a locality-sensitive
hash index finds stored texts whose estimated Jaccard similarity reaches the threshold.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
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


def signature_from_bytes(data: bytes) -> Any:
    """The signature :func:`signature_bytes` wrote."""
    import numpy as np
    from datasketch import MinHash

    values = np.frombuffer(data, dtype="<u8").copy()
    return MinHash(
        num_perm=NUM_PERM, hashvalues=values, permutations=_permutations(), scheme=SCHEME
    )


@lru_cache(maxsize=1)
def _permutations() -> Any:
    """The permutations every signature of :data:`NUM_PERM` and :data:`SCHEME` shares (the
    default seed's); drawn once, as drawing them took most of a signature's decoding."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, scheme=SCHEME).permutations


@dataclass(frozen=True, slots=True)
class Match:
    """A stored text that a new one copies: its key and their estimated similarity."""

    key: Hashable
    similarity: float


class DuplicateIndex:
    """The signatures of stored texts, searchable for near-duplicates of a new one."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        from datasketch import MinHashLSH

        self._threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._signatures: dict[Hashable, Any] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def add(self, key: Hashable, minhash: Any) -> None:
        """Index a stored text's signature under ``key`` (once per key)."""
        if key not in self._signatures:
            self._lsh.insert(key, minhash)
            self._signatures[key] = minhash

    def find(self, minhash: Any) -> Match | None:
        """The most similar indexed text at or above the threshold, if any."""
        best: Match | None = None
        for key in self._lsh.query(minhash):
            similarity = float(minhash.jaccard(self._signatures[key]))
            if similarity >= self._threshold and (best is None or similarity > best.similarity):
                best = Match(key, similarity)
        return best
