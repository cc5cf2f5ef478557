"""Find the catalog's phrases in an article: systems, states, organisations, weapon classes.

One Aho-Corasick automaton holds every phrase of the catalog (with its hyphen and space
variants), so finding them costs one pass over the text whatever the catalog's size. Matches
must stand on word boundaries; a designation may take a plural or a variant suffix
("S-400s", "Rafales", "F-35A") and overlapping matches keep the longest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from armsledger.catalog import Catalog, Term

#: A variant suffix after a designation ending in a digit: F-35A, Su-30MKI, Su-30MK2, MiG-29K.
_VARIANT = re.compile(r"[a-z]{1,3}[0-9]?")

#: Kinds of mention that name a state (directly or through one of its organisations).
STATE_KINDS = frozenset({"state", "adjective", "people", "metonym", "organisation"})


@dataclass(frozen=True, slots=True)
class Mention:
    """A catalog phrase found in the text, at ``[start, end)``."""

    start: int
    end: int
    kind: str
    target: str
    phrase: str

    @property
    def is_state(self) -> bool:
        return self.kind in STATE_KINDS


def _variants(phrase: str) -> set[str]:
    """The phrase as written and with its hyphens as spaces or dropped ("Su-35", "Su 35")."""
    out = {phrase}
    if "-" in phrase:
        out.add(phrase.replace("-", " "))
        out.add(phrase.replace("-", ""))
    return {v for v in out if len(v.strip()) >= 2}


class MentionFinder:
    """Finds every catalog term in a text in one pass (two automatons: by case and without)."""

    def __init__(self, terms: list[Term]) -> None:
        self._folded = ahocorasick.Automaton()
        self._exact = ahocorasick.Automaton()
        for term in terms:
            automaton = self._exact if term.case_sensitive else self._folded
            for variant in _variants(term.phrase):
                key = variant if term.case_sensitive else variant.lower()
                if key not in automaton:  # first term wins: systems are listed first
                    automaton.add_word(key, (len(key), term.kind, term.target))
        self._folded.make_automaton()
        self._exact.make_automaton()

    def find(self, lowered: str, folded: str) -> list[Mention]:
        """Mentions in a text given as its lower-cased and case-kept normalised forms."""
        found: list[Mention] = []
        for automaton, text in ((self._folded, lowered), (self._exact, folded)):
            for last, (length, kind, target) in automaton.iter(text):
                start = last + 1 - length
                end = _accept(lowered, start, last + 1, kind)
                if end is not None:
                    found.append(Mention(start, end, kind, target, folded[start:end]))
        return _longest(found)


def _accept(lowered: str, start: int, end: int, kind: str) -> int | None:
    """The mention's end if it stands on word boundaries (with an allowed suffix), else None."""
    before = lowered[start - 1] if start > 0 else " "
    if (before.isalnum() or before in "-_") and not (kind == "adjective" and before == "-"):
        return None
    n = len(lowered)
    if end == n or not lowered[end].isalnum():
        return end
    if kind in ("system", "class", "state", "people", "adjective", "metonym", "organisation"):
        # plural or possessive-free suffixes: S-400s, Rafales, Su-35S, F-35As, MiG-29K
        for suffix_len in (1, 2, 3, 4):
            stop = end + suffix_len
            if stop <= n and (stop == n or not lowered[stop].isalnum()):
                suffix = lowered[end:stop]
                if suffix in ("s", "es") or (
                    kind == "system" and lowered[end - 1].isdigit() and _VARIANT.fullmatch(suffix)
                ):
                    return stop
                break
    return None


def _longest(mentions: list[Mention]) -> list[Mention]:
    """Overlapping mentions resolved in favour of the longest, then the leftmost."""
    mentions.sort(key=lambda m: (m.start - m.end, m.start))
    end = max((m.end for m in mentions), default=0)
    used = bytearray(end)
    taken: list[Mention] = []
    for m in mentions:
        if not any(used[m.start : m.end]):
            used[m.start : m.end] = b"\x01" * (m.end - m.start)
            taken.append(m)
    taken.sort(key=lambda m: m.start)
    return taken


@lru_cache(maxsize=4)
def mention_finder(catalog: Catalog, anaphors: tuple[str, ...] = ()) -> MentionFinder:
    """The finder for a catalog (and the head nouns that may refer back to a weapon), built once.

    Catalog phrases come first, so "fighter jets" stays a weapon class and only a head noun
    the catalog does not know ("the system") becomes an ``anaphor`` mention.
    """
    terms = catalog.terms() + [Term(a, "anaphor", a) for a in anaphors]
    return MentionFinder(terms)
