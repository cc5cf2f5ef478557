"""Find transfer facts in an article.

``extract_facts`` runs the pipeline: normalise the text (offsets kept), find the catalog's
mentions in one pass, drop articles that name no weapon and no state (the cheap relevance
gate), split sentences with spaCy, attribute speakers, apply the rules, and merge facts
with the same key.
"""

from __future__ import annotations

from functools import lru_cache

from armsledger.catalog import Catalog, load_catalog
from armsledger.errors import ArmsLedgerError, ExtractionError
from armsledger.extract.cues import Lexicon, load_lexicon
from armsledger.extract.mentions import mention_finder
from armsledger.extract.rules import EXTRACTOR, RuleExtractor
from armsledger.extract.speakers import assign_speakers
from armsledger.merge import merge_facts
from armsledger.model import Article, Fact
from armsledger.segment import fold_text, normalize_text, split_sentences

__all__ = ["EXTRACTOR", "extract_facts"]


@lru_cache(maxsize=4)
def _rules(catalog: Catalog, lexicon: Lexicon) -> RuleExtractor:
    return RuleExtractor(catalog, lexicon)


def extract_facts(article: Article, catalog: Catalog | None = None) -> list[Fact]:
    """Every transfer fact the article states, merged by key, evidence spans exact.

    Raises:
        ExtractionError: the extractor failed on this article (a bug, reported with the
            article's name and the original error chained), so that a caller reading many
            articles can record it as this one's failure and go on.
    """
    catalog = catalog or load_catalog()
    try:
        return _extract(article, catalog)
    except ArmsLedgerError:
        raise
    except Exception as error:
        raise ExtractionError(
            f"{article.source or article.id}: the extractor failed on this article "
            f"({type(error).__name__}: {error})",
            hint="this is a fault of armsledger: please report it with the article",
        ) from error


def _extract(article: Article, catalog: Catalog) -> list[Fact]:
    lexicon = load_lexicon()
    text = article.text
    lowered = normalize_text(text)
    folded = fold_text(text)
    mentions = mention_finder(catalog, lexicon.anaphors).find(lowered, folded)
    if not any(m.kind in ("system", "class") for m in mentions) or not any(
        m.is_state for m in mentions
    ):
        return []
    if lexicon.stages_anywhere.search(lowered) is None:
        return []
    sentences = split_sentences(text)
    blocked = {m.phrase for m in mentions if m.kind not in ("class", "anaphor")}
    speakers = assign_speakers(folded, sentences, lexicon, blocked)
    facts = _rules(catalog, lexicon).extract(article, lowered, sentences, mentions, speakers)
    return merge_facts(facts)
