"""Who says what: the speaker of quotes and attributed paraphrases.

A sentence's speaker is the person a verb of saying or "according to" names in it. A pronoun
or an office ("he said", "said the head of the agency") stands for the last person named. A
sentence of a quotation that another sentence of the same paragraph attributes takes that
attribution. In an interview report, unattributed statements are the interviewee's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from armsledger.extract.cues import Lexicon
from armsledger.model import Span

#: A run of capitalised words or initials: a candidate name ("Dmitry Shugaev", "BS Dhanoa").
_NAME = re.compile(
    r"(?:[A-Z][\w'.-]*|[A-Z]\.)(?:\s+(?:[A-Z][\w'.-]*|[A-Z]\.|(?:de|van|von|bin|al|el)\b))*"
)
_INTERVIEW = re.compile(r"\binterview", re.IGNORECASE)
_QUOTE = re.compile(r"[\"\u201c\u201d]")
_PUNCT = ".,;:'\"()[]"
#: Words between a name and its verb of saying ("Dhanoa has told", "Kirby also said").
_AUXILIARIES = re.compile(
    r"(?:\s+(?:has|have|had|was|is|also|earlier|later|then|once|reportedly))+$"
)


def _clean_name(run: str, lexicon: Lexicon, blocked: set[str]) -> str | None:
    """The person's name in a capitalised run, without titles around it; None if no name."""
    words = [w.strip(_PUNCT) for w in run.replace("\u2019", "'").split()]
    words = [w[:-2] if w.endswith("'s") else w for w in words if w]

    def named(word: str) -> bool:
        return word.lower() not in lexicon.titles and word not in blocked

    while words and not named(words[0]):
        words.pop(0)
    while words and not named(words[-1]):
        words.pop()
    if not words or not all(named(w) for w in words):
        return None
    name = " ".join(words)
    return name if len(name) > 2 and not name.isupper() or len(words) > 1 else None


def _attributed(sentence: str, lexicon: Lexicon, blocked: set[str]) -> tuple[str | None, bool]:
    """The name a verb of saying attributes the sentence to, and whether there was such a verb."""
    for verb in lexicon.speech.finditer(sentence.lower()):
        after = sentence[verb.end() :].lstrip(" ,")
        before = _AUXILIARIES.sub("", sentence[: verb.start()].rstrip(" ,")).rstrip(" ,")
        match = _NAME.match(after)
        if match:
            name = _clean_name(match.group(), lexicon, blocked)
            if name:
                return name, True
        runs = list(_NAME.finditer(before))
        if runs and runs[-1].end() >= len(before) - 1:
            name = _clean_name(runs[-1].group(), lexicon, blocked)
            if name:
                return name, True
        # an appositive: "Mariusz Blaszczak, Poland's defence minister, said"
        head = re.match(r"(.*?),[^,]{3,80},?\s*$", before)
        if head:
            runs = list(_NAME.finditer(head.group(1)))
            if runs and runs[-1].end() >= len(head.group(1)) - 1:
                name = _clean_name(runs[-1].group(), lexicon, blocked)
                if name:
                    return name, True
        return None, True
    return None, False


def _full_name(name: str, known: list[str]) -> str:
    """The fullest earlier form of a name: "Shugaev" becomes "Dmitry Shugaev"."""
    surname = name.split()[-1]
    longer = [k for k in known if k.split()[-1] == surname and len(k) > len(name)]
    return max(longer, key=len) if longer else name


def assign_speakers(
    text: str, sentences: Sequence[Span], lexicon: Lexicon, blocked: set[str]
) -> list[str | None]:
    """The speaker of each sentence (None where the text attributes it to no one)."""
    speakers: list[str | None] = []
    spoke: list[bool] = []
    known: list[str] = []
    last: str | None = None
    for sent in sentences:
        name, has_verb = _attributed(sent.text, lexicon, blocked)
        if name:
            name = _full_name(name, known)
            for match in _NAME.finditer(text[: sent.end]):
                cand = _clean_name(match.group(), lexicon, blocked)
                if cand and cand.split()[-1] == name.split()[-1] and cand not in known:
                    known.append(cand)
            name = _full_name(name, known)
            last = name
        elif (
            has_verb
            and last
            and re.search(r"\b(?:he|she|said the|says the|told the|added|noted)\b", sent.text)
        ):
            name = last
        speakers.append(name)
        spoke.append(has_verb)
    # a quotation's other sentences in the same paragraph share its attribution
    for i, sent in enumerate(sentences):
        if speakers[i] or not _QUOTE.search(sent.text):
            continue
        for j in (i + 1, i + 2, i - 1):
            if 0 <= j < len(sentences) and speakers[j]:
                between = text[
                    min(sent.end, sentences[j].end) : max(sent.start, sentences[j].start)
                ]
                if "\n" not in between:
                    speakers[i] = speakers[j]
                    break
    # an interview report: the interviewee speaks for unattributed statements
    if _INTERVIEW.search(text[:1500]):
        counts = Counter(s for s in speakers if s)
        if counts:
            main, n = counts.most_common(1)[0]
            if n >= 2:
                speakers = [s or main for s in speakers]
    return speakers
