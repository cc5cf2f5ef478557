"""Merge facts: the same key in one article is one fact; facts across articles make deals.

Deal resolution: facts from many articles join one deal when they share supplier,
recipient, system family (the catalog's ``family``: Su-30MKI and Su-30MK2 are one Su-30
deal) and lot. Each deal then carries its timeline ordered by article date, its
corroboration (independent sources per stage), the contradictions between its sources and
a confidence (:func:`deal_confidence`). Everything here is a pure function of the facts and
their articles' dates, so resolution is idempotent and does not depend on input order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping

from armsledger.catalog import load_catalog
from armsledger.model import (
    STAGE_ORDER,
    Article,
    Contradiction,
    Corroboration,
    Deal,
    DealEvent,
    Fact,
    Modality,
    Stage,
    deal_id,
)

#: How much one source stating a stage with this modality supports it. Set by hand (there
#: is no calibration data yet): an asserted report from one outlet is strong but not
#: certain (about the rules extractor's fact precision on the dev set); plans and
#: conditions are weaker; a denial supports nothing.
MODALITY_WEIGHT: dict[Modality, float] = {
    Modality.ASSERTED: 0.8,
    Modality.PLANNED: 0.5,
    Modality.CONDITIONAL: 0.35,
    Modality.POSSIBLE: 0.25,
    Modality.DENIED: 0.0,
}

#: Factor applied to a stage that another source contradicts (a denial, a cancellation).
CONTRADICTED_FACTOR = 0.5

#: Half-life, in years, of a deal's confidence in its current stage when news stops: deals
#: move on (or stall) within a few years; two years is a guess, to be tuned on data.
HALF_LIFE_YEARS = 2.0

#: Stages a cancellation contradicts when another source asserts them.
_DELIVERY_STAGES = (Stage.DELIVERY, Stage.DELIVERED)

DealKey = tuple[str | None, str | None, str | None, int]


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


def system_family(system: str) -> str:
    """The family a deal groups ``system`` under: the catalog's, else the name as given."""
    found = load_catalog().resolve_system(system)
    return found.family if found is not None else system


def deal_key(fact: Fact, family: Callable[[str], str] | None = None) -> DealKey:
    """The key of the deal a fact belongs to: supplier, recipient, system family and lot."""
    fold = family or system_family
    system = fold(fact.system) if fact.system else None
    return (fact.supplier, fact.recipient, system, fact.lot or 1)


def fact_deal_id(fact: Fact, family: Callable[[str], str] | None = None) -> str:
    """The id of the deal a fact belongs to (:func:`armsledger.model.deal_id` of its key)."""
    return deal_id(*deal_key(fact, family))


# -- confidence -----------------------------------------------------------------------------


def stage_confidence(modalities: Iterable[Modality]) -> float:
    """How well independent sources support a stage: ``1 - prod(1 - w(m))``.

    One modality per independent source (its firmest statement of the stage); ``w`` is
    :data:`MODALITY_WEIGHT`. A noisy-OR: each further source adds, none subtracts, and the
    result stays below 1 (only an analyst's confirmation makes a stage certain).
    """
    doubt = 1.0
    for modality in modalities:
        doubt *= 1.0 - MODALITY_WEIGHT[modality]
    return round(1.0 - doubt, 3)


def recency_factor(latest: dt.date | None, as_of: dt.date | None) -> float:
    """``0.5 ** (years from latest to as_of / HALF_LIFE_YEARS)``; 1 where either is unknown."""
    if latest is None or as_of is None or as_of <= latest:
        return 1.0
    years = (as_of - latest).days / 365.25
    return float(0.5 ** (years / HALF_LIFE_YEARS))


def deal_confidence(deal: Deal, as_of: dt.date | None = None) -> float | None:
    """How sure the register is that ``deal`` stands at its current stage, from 0 to 1.

    ``support x contradiction x recency``: *support* is the largest event confidence of the
    current stage (its :func:`stage_confidence` over the sources stating it, already halved
    where contradicted, 1 where an analyst confirmed it); *recency* is
    :func:`recency_factor` from the latest report of that stage to ``as_of`` (1 when
    ``as_of`` is not given, as in the register: a stored deal does not age by itself).
    ``None`` for a deal with no timeline.
    """
    stage = deal.stage
    if stage is None:
        return None
    events = [e for e in deal.timeline if e.stage is stage]
    support = max((e.confidence or 0.0 for e in events), default=0.0)
    latest = max((e.date for e in events if e.date is not None), default=None)
    return round(support * recency_factor(latest, as_of), 3)


def _firmest(facts: Iterable[Fact]) -> dict[Stage, dict[str, Modality]]:
    """Per stage, each article's firmest modality stating it."""
    firmest: dict[Stage, dict[str, Modality]] = {}
    for fact in facts:
        per_article = firmest.setdefault(fact.stage, {})
        old = per_article.get(fact.article_id)
        if old is None or MODALITY_WEIGHT[fact.modality] > MODALITY_WEIGHT[old]:
            per_article[fact.article_id] = fact.modality
    return firmest


def _corroboration(facts: Iterable[Fact]) -> tuple[Corroboration, ...]:
    asserting: dict[Stage, set[str]] = {}
    for fact in facts:
        if fact.modality is Modality.ASSERTED:
            asserting.setdefault(fact.stage, set()).add(fact.article_id)
    return tuple(
        Corroboration(stage, len(names), tuple(sorted(names)))
        for stage, names in sorted(asserting.items(), key=lambda item: STAGE_ORDER[item[0]])
    )


def _contradictions(
    facts: Iterable[Fact], dates: Mapping[str, dt.date | None]
) -> tuple[Contradiction, ...]:
    asserted: dict[Stage, set[str]] = {}
    denied: dict[Stage, set[str]] = {}
    for fact in facts:
        if fact.modality is Modality.ASSERTED:
            asserted.setdefault(fact.stage, set()).add(fact.article_id)
        elif fact.modality is Modality.DENIED:
            denied.setdefault(fact.stage, set()).add(fact.article_id)

    def later(a: str, b: str) -> dt.date | None:
        return max((d for d in (dates.get(a), dates.get(b)) if d is not None), default=None)

    found: set[Contradiction] = set()
    for stage, deniers in denied.items():
        for asserter in asserted.get(stage, set()):
            for denier in deniers - {asserter}:
                found.add(Contradiction("denial", stage, asserter, denier, later(asserter, denier)))
    for canceller in asserted.get(Stage.CANCELLED, set()):
        for stage in _DELIVERY_STAGES:
            for asserter in asserted.get(stage, set()) - {canceller}:
                date = later(asserter, canceller)
                found.add(Contradiction("cancellation", stage, asserter, canceller, date))
    return tuple(
        sorted(
            found,
            key=lambda c: (
                c.date or dt.date.max,
                STAGE_ORDER[c.stage],
                c.kind,
                c.asserted_in,
                c.contradicted_in,
            ),
        )
    )


def _event_order(event: DealEvent) -> tuple[object, ...]:
    """Article date (undated last), stage order, then whatever tells two events apart."""
    return (
        event.date or dt.date.max,
        STAGE_ORDER[event.stage],
        event.article_id,
        str(event.modality),
        event.evidence,
        event.speaker or "",
        event.source or "",
    )


def merge_deals(
    facts: Iterable[Fact],
    articles: Mapping[str, Article],
    *,
    family: Callable[[str], str] | None = None,
    confirmed: Callable[[Fact], bool] | None = None,
) -> list[Deal]:
    """Group facts from many articles into deals by :func:`deal_key`.

    Each deal's timeline is ordered by article date (undated last), then by stage order,
    then by article and evidence, so the order of ``facts`` never matters. The deal's
    quantity and value are the latest stated ones; its ``system`` is the family.
    ``corroboration`` counts, per stage, the independent sources (articles) asserting it;
    ``contradictions`` pairs a source denying a stage with one asserting it, and a source
    asserting the deal cancelled with one asserting delivery. Each event's ``confidence`` is
    its stage's :func:`stage_confidence` (times :data:`CONTRADICTED_FACTOR` where
    contradicted; 1 for a fact ``confirmed`` by an analyst) and the deal's is
    :func:`deal_confidence` without ageing. Deals come in the order their keys first appear.

    Args:
        facts: the facts, from any number of articles.
        articles: the articles by id, for their dates and sources.
        family: folds a system name into its family; the catalog's by default.
        confirmed: whether an analyst confirmed a fact (see :mod:`armsledger.store`).
    """
    groups: dict[DealKey, list[Fact]] = {}
    for fact in facts:
        groups.setdefault(deal_key(fact, family), []).append(fact)
    deals = []
    for (supplier, recipient, system, lot), members in groups.items():
        dates = {f.article_id: _date(articles, f.article_id) for f in members}
        contradictions = _contradictions(members, dates)
        contradicted = {c.stage for c in contradictions}
        if any(c.kind == "cancellation" for c in contradictions):
            contradicted.add(Stage.CANCELLED)
        support = {stage: stage_confidence(m.values()) for stage, m in _firmest(members).items()}
        events = []
        for fact in members:
            article = articles.get(fact.article_id)
            confidence = support[fact.stage]
            if fact.stage in contradicted:
                confidence = round(confidence * CONTRADICTED_FACTOR, 3)
            if confirmed is not None and confirmed(fact):
                confidence = 1.0
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
                        confidence=confidence,
                    ),
                )
            )
        events.sort(key=lambda pair: _event_order(pair[1]))
        quantity = next((f.quantity for f, _ in reversed(events) if f.quantity), None)
        value = next((f.value for f, _ in reversed(events) if f.value), None)
        deal = Deal(
            id=deal_id(supplier, recipient, system, lot),
            supplier=supplier,
            recipient=recipient,
            system=system,
            lot=lot,
            timeline=tuple(e for _, e in events),
            quantity=quantity,
            value=value,
            corroboration=_corroboration(members),
            contradictions=contradictions,
        )
        deals.append(dataclasses.replace(deal, confidence=deal_confidence(deal)))
    return deals


def _date(articles: Mapping[str, Article], article_id: str) -> dt.date | None:
    article = articles.get(article_id)
    return article.date if article else None


# -- analyst review ---------------------------------------------------------------------------

#: Fields of a fact an analyst may edit (merging and splitting deals edit the key fields).
EDITABLE_FIELDS: tuple[str, ...] = (
    "supplier",
    "recipient",
    "system",
    "stage",
    "modality",
    "lot",
    "speaker",
)

#: What an analyst can do to a fact: ``merge`` and ``split`` are edits made for a deal.
REVIEW_ACTIONS: tuple[str, ...] = ("confirm", "reject", "edit", "merge", "split")


def apply_review(fact: Fact, action: str, changes: Mapping[str, object]) -> Fact | None:
    """``fact`` as an analyst's review leaves it: ``None`` when rejected.

    ``confirm`` leaves it as it is (the caller keeps that it was confirmed); ``edit``,
    ``merge`` and ``split`` set the fields in ``changes`` (:data:`EDITABLE_FIELDS`; a
    stage or modality by its FORMAT.md string, a lot as an integer or ``None``).

    Raises:
        ValueError: an unknown action or field, or a value of the wrong kind.
    """
    if action == "reject":
        return None
    if action == "confirm":
        return fact
    if action not in REVIEW_ACTIONS:
        raise ValueError(f"review action {action!r} is not one of: {', '.join(REVIEW_ACTIONS)}")
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValueError(
            f"cannot edit {', '.join(unknown)}; editable: {', '.join(EDITABLE_FIELDS)}"
        )
    values: dict[str, object] = dict(changes)
    if "stage" in values:
        values["stage"] = Stage(str(values["stage"]))
    if "modality" in values:
        values["modality"] = Modality(str(values["modality"]))
    if values.get("lot") is not None:
        lot = values["lot"]
        if not isinstance(lot, int | str) or not str(lot).isdigit() or int(lot) < 1:
            raise ValueError(f"lot {lot!r} is not a positive integer")
        values["lot"] = int(lot)
    return dataclasses.replace(fact, **values)  # type: ignore[arg-type]
