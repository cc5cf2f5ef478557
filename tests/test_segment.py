"""Sentences and the offset-keeping normalisation every later stage relies on."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armsledger import segment
from armsledger.model import Article
from armsledger.segment import fold_text, normalize_text, split_sentences


def test_segment_normalisation_keeps_every_offset() -> None:
    text = "\u201cTürkiye\u2019s S\u2011400\u00a0deal\u201d \u2014 İstanbul"
    for folded in (normalize_text(text), fold_text(text)):
        assert len(folded) == len(text)
    assert normalize_text(text).startswith('"türkiye\'s s-400 deal" -')


def test_segment_splits_lines_then_sentences(canonical_article: Article) -> None:
    spans = split_sentences(canonical_article.text)
    assert spans[0].text == "Russia\u2019s Military-Technical Cooperation with Turkey"
    assert all(canonical_article.text[s.start : s.end] == s.text for s in spans)
    assert any(s.text.startswith("Active negotiations to supply") for s in spans)


_LINES = st.lists(
    st.text(alphabet=st.sampled_from(list("ab .?!\u201d'\"()\u00a0")), min_size=1, max_size=40),
    max_size=6,
).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(_LINES)
def test_segment_lines_kept_whole_are_exactly_what_spacy_would_give(text: str) -> None:
    fast = split_sentences(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(segment, "_one_sentence", lambda line: False)
        assert split_sentences(text) == fast
