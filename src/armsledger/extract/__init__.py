"""Find transfer facts in an article (work in progress: returns no facts yet)."""

from __future__ import annotations

from armsledger.model import Article, Fact

EXTRACTOR = "rules.v1"


def extract_facts(article: Article) -> list[Fact]:
    """Every transfer fact the article states, merged by key."""
    return []
