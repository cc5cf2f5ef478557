"""Merge facts: the same key in one article is one fact; facts across articles make deals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from armsledger.model import STAGE_ORDER, Article, Deal, DealEvent, Fact, Modality, deal_id


def merge_facts(facts: Iterable[Fact]) -> list[Fact]:
    """Merge facts with the same article and key, keeping every evidence span.

    A statement of the fact as asserted wins over planned, possible or conditional ones (an
    article that both reports and anticipates a step has reached it); otherwise the first
    statement's modality stays. Attributes (quantity, value, speaker) are taken from the
    first fact that has them.
    The result keeps the order in which keys first appeared.
    """
    merged: dict[tuple[object, ...], Fact] = {}
    for fact in facts:
        key = (fact.article_id, *fact.key)
        old = merged.get(key)
        if old is None:
            merged[key] = fact
            continue
        spans = old.spans + tuple(s for s in fact.spans if s not in old.spans)
        merged[key] = Fact(
            article_id=old.article_id,
            supplier=old.supplier,
            recipient=old.recipient,
            system=old.system,
            stage=old.stage,
            modality=fact.modality if fact.modality is Modality.ASSERTED else old.modality,
            spans=spans,
            lot=old.lot,
            quantity=old.quantity or fact.quantity,
            value=old.value or fact.value,
            speaker=old.speaker or fact.speaker,
            optional=old.optional and fact.optional,
            extractor=old.extractor,
        )
    return list(merged.values())


def merge_deals(facts: Iterable[Fact], articles: Mapping[str, Article]) -> list[Deal]:
    """Group facts from many articles into deals by (supplier, recipient, system, lot).

    Each deal's timeline is ordered by article date (undated last), then by stage order.
    The deal's quantity and value are the latest stated ones on its firmest stage.
    """
    groups: dict[tuple[str | None, str | None, str | None, int], list[Fact]] = {}
    for fact in facts:
        groups.setdefault((fact.supplier, fact.recipient, fact.system, fact.lot or 1), []).append(
            fact
        )
    deals = []
    for (supplier, recipient, system, lot), members in groups.items():
        events = []
        for fact in members:
            article = articles.get(fact.article_id)
            events.append(
                (
                    fact,
                    DealEvent(
                        stage=fact.stage,
                        modality=fact.modality,
                        date=article.date if article else None,
                        article_id=fact.article_id,
                        evidence=fact.evidence,
                        speaker=fact.speaker,
                        source=(article.url or article.source) if article else None,
                    ),
                )
            )
        events.sort(key=lambda pair: (pair[1].date or dt.date.max, STAGE_ORDER[pair[1].stage]))
        quantity = next((f.quantity for f, _ in reversed(events) if f.quantity), None)
        value = next((f.value for f, _ in reversed(events) if f.value), None)
        deals.append(
            Deal(
                id=deal_id(supplier, recipient, system, lot),
                supplier=supplier,
                recipient=recipient,
                system=system,
                lot=lot,
                timeline=tuple(e for _, e in events),
                quantity=quantity,
                value=value,
            )
        )
    return deals
