"""Merging: one fact per key in an article, deals across articles, and where a deal stands."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from armsledger.merge import merge_deals, merge_facts
from armsledger.model import Article, Deal, DealEvent, Fact, Modality, Span, Stage, deal_id

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
