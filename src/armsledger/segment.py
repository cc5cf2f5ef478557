"""Split an article into sentences, with offsets into the text exactly as read.

News text carries typographic quotes, non-breaking spaces and odd dashes. Matching runs on
a *normalised* copy of the text that has the same length as the original, character for
character, so every offset found in the copy is an offset into the original and evidence
can be cut from the article exactly.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from armsledger.model import Span

if TYPE_CHECKING:
    from spacy.language import Language

#: One-for-one character replacements: each key and value is a single character.
_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
        "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u202f": " ", "\u200a": " ", "\t": " ",
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    }
)  # fmt: skip

#: Paragraphs are cut at line breaks: news text often ends a line without a full stop.
_LINE = re.compile(r"[^\n\r]+")


def normalize_text(text: str) -> str:
    """A lower-cased copy of ``text`` with quotes, spaces and dashes folded, of the same length.

    A character whose lower case is longer than one character (Turkish dotted I) is kept as is,
    so offsets never shift.
    """
    folded = text.translate(_FOLD)
    lowered = folded.lower()
    if len(lowered) == len(folded):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in folded)


def fold_text(text: str) -> str:
    """``text`` with quotes, spaces and dashes folded but its case kept (same length)."""
    return text.translate(_FOLD)


@lru_cache(maxsize=1)
def _sentence_ends() -> frozenset[str]:
    """The characters after which spaCy's sentencizer may end a sentence."""
    from spacy.pipeline import Sentencizer

    return frozenset(Sentencizer.default_punct_chars)


def _one_sentence(line: str) -> bool:
    """Whether ``line`` holds no sentence end before its last word (so it is one sentence)."""
    ends = _sentence_ends()
    # only the last run of closing marks goes ("end."), never marks apart from it ("?  ?")
    body = line.rstrip().rstrip("".join(ends) + "\"')]\u2019\u201d\u00bb")
    return not any(c in ends for c in body)


@lru_cache(maxsize=1)
def _nlp() -> Language:
    """A blank English pipeline with a rule-based sentencizer: no model to download."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def split_sentences(text: str) -> list[Span]:
    """The sentences of ``text``, trimmed of surrounding white space, as spans of it.

    Lines are split first (a headline or a line without a full stop is its own sentence), then
    spaCy's tokenizer and sentencizer cut each line into sentences.
    """
    nlp = _nlp()
    lines = [(m.start(), m.group()) for m in _LINE.finditer(text) if m.group().strip()]
    # a line with no sentence-final character before its end is one sentence whatever spaCy
    # would do with it: it is kept whole, untokenized (about half the lines of news text)
    whole = [_one_sentence(line) for _, line in lines]
    docs = iter(nlp.pipe(line for (_, line), one in zip(lines, whole, strict=True) if not one))
    spans: list[Span] = []
    for (offset, line), one in zip(lines, whole, strict=True):
        bounds = [(0, len(line))] if one else [(s.start_char, s.end_char) for s in next(docs).sents]
        for first, last in bounds:
            start = offset + first
            end = offset + last
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end > start:
                spans.append(Span.of(text, start, end))
    return spans
