"""Merging: one fact per key in an article, deals across articles, and where a deal stands."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armsledger.merge import (
    deal_confidence,
    fact_deal_id,
    merge_deals,
    merge_facts,
    recency_factor,
    stage_confidence,
)
from armsledger.model import (
    Article,
    Contradiction,
    Corroboration,
    Deal,
    DealEvent,
    Fact,
    Modality,
    Span,
    Stage,
    deal_id,
)

TEXT = "Russia delivered the S-400 to Turkey. Talks on a second set go on. Training began."
ARTICLE = Article(id="a.txt", text=TEXT, date=dt.date(2019, 7, 12))
SENTENCES = [Span.of(TEXT, 0, 37), Span.of(TEXT, 38, 66), Span.of(TEXT, 67, 82)]


def make(stage: Stage, span: int, *, lot: int | None = None, modality=Modality.ASSERTED) -> Fact:
    return Fact(
        article_id=ARTICLE.id,
        supplier="RUS",
        recipient="TUR",
        system="S-400",
        stage=stage,
        modality=modality,
        spans=(SENTENCES[span],),
        lot=lot,
    )


facts_strategy = st.lists(
    st.builds(
        make,
        st.sampled_from([Stage.DELIVERY, Stage.NEGOTIATION, Stage.TRAINING]),
        st.integers(0, 2),
        lot=st.sampled_from([None, 1, 2]),
        modality=st.sampled_from(list(Modality)),
    ),
    max_size=12,
)


def test_merge_facts_keeps_every_evidence_span_of_one_key() -> None:
    merged = merge_facts([make(Stage.DELIVERY, 0), make(Stage.DELIVERY, 2)])
    assert len(merged) == 1
    assert [s.text for s in merged[0].spans] == [SENTENCES[0].text, SENTENCES[2].text]


def test_merge_facts_treats_lot_none_as_lot_one() -> None:
    assert len(merge_facts([make(Stage.DELIVERY, 0), make(Stage.DELIVERY, 1, lot=1)])) == 1
    assert len(merge_facts([make(Stage.DELIVERY, 0), make(Stage.DELIVERY, 1, lot=2)])) == 2


@settings(max_examples=80, deadline=None)
@given(facts_strategy)
def test_merge_facts_is_idempotent(facts: list[Fact]) -> None:
    once = merge_facts(facts)
    assert merge_facts(once) == once


@settings(max_examples=80, deadline=None)
@given(facts_strategy, st.randoms())
def test_merge_facts_keys_do_not_depend_on_order(facts: list[Fact], rnd) -> None:
    shuffled = list(facts)
    rnd.shuffle(shuffled)
    keys = {f.key for f in merge_facts(facts)}
    assert keys == {f.key for f in merge_facts(shuffled)}
    spans = {f.key: set(f.spans) for f in merge_facts(facts)}
    assert spans == {f.key: set(f.spans) for f in merge_facts(shuffled)}


def deal(events: tuple[DealEvent, ...]) -> Deal:
    return Deal(id="d", supplier="RUS", recipient="TUR", system="S-400", lot=1, timeline=events)


def test_merge_deals_groups_by_lot_and_orders_the_timeline() -> None:
    later = Article(id="b.txt", text=TEXT, date=dt.date(2020, 1, 1))
    first = make(Stage.NEGOTIATION, 1, lot=2)
    second = dataclasses.replace(first, article_id="b.txt", stage=Stage.CONTRACT)
    deals = merge_deals(
        [second, make(Stage.DELIVERY, 0), first], {"a.txt": ARTICLE, "b.txt": later}
    )
    by_lot = {d.lot: d for d in deals}
    assert set(by_lot) == {1, 2}
    assert [e.stage for e in by_lot[2].timeline] == [Stage.NEGOTIATION, Stage.CONTRACT]
    assert by_lot[2].id == deal_id("RUS", "TUR", "S-400", 2)


def test_deal_stage_is_the_main_line_not_a_side_stage() -> None:
    events = (
        DealEvent(Stage.DELIVERED, Modality.ASSERTED, None, "a.txt", "delivered"),
        DealEvent(Stage.SERVICING, Modality.ASSERTED, None, "a.txt", "service"),
        DealEvent(Stage.CANCELLED, Modality.POSSIBLE, None, "a.txt", "may cancel"),
    )
    assert deal(events).stage is Stage.DELIVERED


def test_deal_stage_falls_back_to_side_stages_and_plans() -> None:
    only_side = (DealEvent(Stage.TRAINING, Modality.ASSERTED, None, "a.txt", "trained"),)
    assert deal(only_side).stage is Stage.TRAINING
    only_plans = (DealEvent(Stage.CONTRACT, Modality.PLANNED, None, "a.txt", "will sign"),)
    assert deal(only_plans).stage is Stage.CONTRACT
    assert deal(()).stage is None


# -- deal resolution: families, corroboration, contradictions, confidence -------------------

DATES = {"a.txt": dt.date(2017, 1, 1), "b.txt": dt.date(2018, 1, 1), "c.txt": None}
ARTICLES = {name: Article(id=name, text=TEXT, date=date) for name, date in DATES.items()}


def fact_in(article: str, stage: Stage, modality: Modality = Modality.ASSERTED, **fields) -> Fact:
    return dataclasses.replace(make(stage, 0, modality=modality), article_id=article, **fields)


resolution_facts = st.lists(
    st.builds(
        fact_in,
        st.sampled_from(sorted(DATES)),
        st.sampled_from(list(Stage)),
        st.sampled_from(list(Modality)),
        system=st.sampled_from(["S-400", "Su-30MKI", "Su-30MK2", "XYZ-1"]),
        lot=st.sampled_from([None, 1, 2]),
        spans=st.sampled_from([(s,) for s in SENTENCES]),
    ),
    max_size=14,
)


def by_id(deals: list[Deal]) -> dict[str, Deal]:
    return {d.id: d for d in deals}


def test_merge_deals_joins_variants_of_one_family() -> None:
    deals = merge_deals(
        [
            fact_in("a.txt", Stage.CONTRACT, system="Su-30MKI"),
            fact_in("b.txt", Stage.DELIVERY, system="Su-30MK2"),
        ],
        ARTICLES,
    )
    assert [(d.system, d.id, d.stage) for d in deals] == [
        ("Su-30", deal_id("RUS", "TUR", "Su-30", 1), Stage.DELIVERY)
    ]


def test_merge_deals_counts_independent_sources_per_stage() -> None:
    (found,) = merge_deals(
        [
            fact_in("a.txt", Stage.CONTRACT),
            fact_in("b.txt", Stage.CONTRACT),
            fact_in("b.txt", Stage.DELIVERY, Modality.PLANNED),
        ],
        ARTICLES,
    )
    assert found.corroboration == (Corroboration(Stage.CONTRACT, 2, ("a.txt", "b.txt")),)
    assert found.stage is Stage.CONTRACT
    assert found.confidence == stage_confidence([Modality.ASSERTED] * 2) == 0.96


def test_merge_deals_flags_a_denial_of_an_asserted_stage() -> None:
    (found,) = merge_deals(
        [fact_in("a.txt", Stage.CONTRACT), fact_in("b.txt", Stage.CONTRACT, Modality.DENIED)],
        ARTICLES,
    )
    assert found.contradictions == (
        Contradiction("denial", Stage.CONTRACT, "a.txt", "b.txt", dt.date(2018, 1, 1)),
    )
    assert found.confidence == 0.4  # one asserted source (0.8), halved


def test_merge_deals_flags_a_cancellation_after_delivery() -> None:
    (found,) = merge_deals(
        [fact_in("a.txt", Stage.DELIVERED), fact_in("b.txt", Stage.CANCELLED)], ARTICLES
    )
    assert found.stage is Stage.CANCELLED
    assert [(c.kind, c.stage, c.asserted_in, c.contradicted_in) for c in found.contradictions] == [
        ("cancellation", Stage.DELIVERED, "a.txt", "b.txt")
    ]
    assert found.confidence == 0.4


def test_merge_deals_one_source_is_no_contradiction_of_itself() -> None:
    (found,) = merge_deals(
        [fact_in("a.txt", Stage.DELIVERY), fact_in("a.txt", Stage.CANCELLED)], ARTICLES
    )
    assert found.contradictions == ()


def test_merge_stage_confidence_formula() -> None:
    assert stage_confidence([]) == 0.0
    assert stage_confidence([Modality.ASSERTED]) == 0.8
    assert stage_confidence([Modality.ASSERTED, Modality.PLANNED]) == 0.9
    assert stage_confidence([Modality.DENIED]) == 0.0


def test_merge_deal_confidence_ages_with_as_of() -> None:
    (found,) = merge_deals([fact_in("a.txt", Stage.CONTRACT)], ARTICLES)
    assert deal_confidence(found) == 0.8
    assert deal_confidence(found, as_of=dt.date(2019, 1, 1)) == pytest.approx(0.4, abs=0.01)
    assert deal_confidence(found, as_of=dt.date(2016, 1, 1)) == 0.8
    assert recency_factor(None, dt.date(2019, 1, 1)) == 1.0


@settings(max_examples=80, deadline=None)
@given(resolution_facts, st.randoms())
def test_merge_deals_does_not_depend_on_fact_order(facts: list[Fact], rnd) -> None:
    shuffled = list(facts)
    rnd.shuffle(shuffled)
    assert by_id(merge_deals(facts, ARTICLES)) == by_id(merge_deals(shuffled, ARTICLES))


@settings(max_examples=80, deadline=None)
@given(resolution_facts)
def test_merge_deals_is_idempotent(facts: list[Fact]) -> None:
    once = by_id(merge_deals(facts, ARTICLES))
    # Resolving again, or resolving each deal's own facts alone, changes nothing.
    assert by_id(merge_deals(facts, ARTICLES)) == once
    for deal_found in once.values():
        own = [f for f in facts if fact_deal_id(f) == deal_found.id]
        assert by_id(merge_deals(own, ARTICLES)) == {deal_found.id: deal_found}
