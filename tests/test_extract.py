"""The extractor's behaviour: rules on short texts, the canonical example, exact evidence."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armsledger.extract import EXTRACTOR, extract_facts
from armsledger.model import Article, Modality, Stage
from armsledger.serialize import article_to_dict

GOLDEN = Path(__file__).parent / "golden" / "s400-turkey-shugaev.json"


def facts_of(text: str) -> set[tuple[object, ...]]:
    article = Article(id="t.txt", text=text)
    return {
        (f.supplier, f.recipient, f.system, f.stage.value, f.modality.value, f.lot or 1)
        for f in extract_facts(article)
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "India has signed a contract for 36 Rafale fighter jets, Dassault Aviation said.",
            ("FRA", "IND", "Rafale", "contract", "asserted", 1),
        ),
        (
            "Turkey bought the S-400 from Russia in 2017.",
            ("RUS", "TUR", "S-400", "contract", "asserted", 1),
        ),
        (
            "The first batch of S-400 air defence systems arrived in Turkey on Friday.",
            ("RUS", "TUR", "S-400", "delivery", "asserted", 1),
        ),
        (
            "Deliveries of the Su-35 fighters to Egypt will begin in 2020.",
            ("RUS", "EGY", "Su-35", "delivery", "planned", 1),
        ),
        (
            "Russia is ready to supply the Su-35 to Indonesia.",
            ("RUS", "IDN", "Su-35", "offer", "possible", 1),
        ),
        (
            "If Egypt pays, Russia will deliver the Su-35 jets to Egypt.",
            ("RUS", "EGY", "Su-35", "delivery", "conditional", 1),
        ),
        (
            "Turkey has not received the F-35 from the United States.",
            ("USA", "TUR", "F-35", "delivery", "denied", 1),
        ),
        (
            "Talks on a second batch of S-400 for India are under way.",
            ("RUS", "IND", "S-400", "negotiation", "asserted", 2),
        ),
        (
            "The State Department approved the sale of HIMARS to Romania.",
            ("USA", "ROU", "HIMARS", "approval", "asserted", 1),
        ),
        (
            "Poland plans to acquire 32 F-35 jets from the United States.",
            ("USA", "POL", "F-35", "interest", "asserted", 1),
        ),
        (
            "The State Department has approved a possible Foreign Military Sale to Morocco of"
            " AGM-114 Hellfire missiles for an estimated cost of $90 million.",
            ("USA", "MAR", "AGM-114 Hellfire", "approval", "asserted", 1),
        ),
        (
            "South Korea's Hanwha Aerospace signed a contract with Poland to supply 212 K9"
            " howitzers.",
            ("KOR", "POL", "K9", "contract", "asserted", 1),
        ),
        (
            "Germany will not deliver Taurus missiles to Ukraine, Chancellor Olaf Scholz said.",
            ("DEU", "UKR", "Taurus", "delivery", "denied", 1),
        ),
        (
            "Denmark and the Netherlands have supplied F-16 jets to Ukraine.",
            ("NLD", "UKR", "F-16", "delivery", "asserted", 1),
        ),
        (
            "Turkey was removed from the F-35 programme in 2019.",
            ("USA", "TUR", "F-35", "cancelled", "asserted", 1),
        ),
        (
            "Greece signed a letter of offer and acceptance for 20 F-35 jets with the United"
            " States.",
            ("USA", "GRC", "F-35", "contract", "asserted", 1),
        ),
        (
            "The Philippines is eyeing the purchase of Gripen jets from Sweden.",
            ("SWE", "PHL", "Gripen", "interest", "asserted", 1),
        ),
    ],
)
def test_extract_rules_find_the_stated_fact(text: str, expected: tuple[object, ...]) -> None:
    assert expected in facts_of(text)


@pytest.mark.parametrize(
    "text",
    [
        "Russia deployed S-400 systems in Crimea to protect its own bases.",
        "The weather in Ankara was mild on Tuesday.",
        "An F-35 crashed during a training flight in Alaska.",
        "Russia's arms exports fell by 53% while U.S. arms exports rose by 17%.",
        "Indian and Russian troops fired T-90 tanks during the joint exercise.",
        "",
    ],
)
def test_extract_finds_no_transfer_where_there_is_none(text: str) -> None:
    assert facts_of(text) == set()


@pytest.mark.parametrize(
    ("text", "stage", "expected"),
    [
        # a plan near its cue scopes it; one governing another verb does not
        ("Russia will deliver the Su-35 jets to Iran next year.", "delivery", "planned"),
        (
            "Iran received the first Su-35 jets from Russia, in a deal that will see it acquire"
            " 24 aircraft.",
            "delivery",
            "asserted",
        ),
        # a condition's own verbs state nothing, the main clause is conditional
        ("If Iran pays, Russia is ready to supply the Su-35 to Iran.", "offer", "conditional"),
        ("Russia could supply the Su-35 to Iran.", "delivery", "possible"),
        ("Russia has not delivered the Su-35 to Iran.", "delivery", "denied"),
        # "as soon as possible" is no doubt
        ("Russia will deliver the Su-35 to Iran as soon as possible.", "delivery", "planned"),
    ],
)
def test_extract_modality_follows_the_words_that_scope_the_cue(
    text: str, stage: str, expected: str
) -> None:
    found = {(st, m) for (_, _, system, st, m, _) in facts_of(text) if system == "Su-35"}
    assert {m for st, m in found if st == stage} == {expected}


def test_extract_a_bystander_is_no_party() -> None:
    found = facts_of(
        "Turkey bought the S-400 from Russia despite sanctions from the United States."
    )
    assert found == {("RUS", "TUR", "S-400", "contract", "asserted", 1)}


def test_extract_a_former_buyer_is_no_party() -> None:
    found = facts_of("Russia will supply Iran with 24 Su-35 jets originally intended for Egypt.")
    assert {(s, r) for (s, r, *_) in found} == {("RUS", "IRN")}


def test_extract_the_giver_of_used_equipment_is_the_supplier() -> None:
    found = facts_of("Poland and Slovakia have supplied 27 MiG-29 jets to Ukraine.")
    assert {(s, r, sys) for (s, r, sys, *_) in found} == {
        ("POL", "UKR", "MiG-29"),
        ("SVK", "UKR", "MiG-29"),
    }


def test_extract_a_second_set_is_a_second_lot() -> None:
    found = facts_of("Talks with Turkey on a second regimental set of S-400 are under way.")
    assert ("RUS", "TUR", "S-400", "negotiation", "asserted", 2) in found
    found = facts_of("Vietnam signed a contract to become the second buyer of the BrahMos.")
    assert {lot for (*_, lot) in found} == {1}


def test_extract_talks_about_a_purchase_are_no_contract() -> None:
    found = facts_of("Algeria is in talks with Russia over the purchase of Su-57 fighters.")
    assert found == {("RUS", "DZA", "Su-57", "negotiation", "asserted", 1)}


def test_extract_a_deal_of_the_buyer_with_its_own_maker_is_no_transfer() -> None:
    assert (
        facts_of("The U.S. Army has contracted Lockheed Martin to produce Javelin missiles.")
        == set()
    )


def test_extract_counts_before_a_system_are_quantities() -> None:
    [fact] = extract_facts(Article(id="q.txt", text="Egypt bought 24 Rafales from France."))
    assert (fact.quantity.count, fact.quantity.unit) == (24, "aircraft")


def test_extract_records_the_extractor_name_and_exact_evidence(canonical_article: Article) -> None:
    facts = extract_facts(canonical_article)
    assert facts
    for fact in facts:
        assert fact.extractor == EXTRACTOR
        for span in fact.spans:
            assert canonical_article.text[span.start : span.end] == span.text


def test_extract_canonical_example_matches_the_golden_file(canonical_article: Article) -> None:
    """Regenerate on purpose only: ARMSLEDGER_REGENERATE_GOLDEN=1 pytest -k golden_file."""
    produced = article_to_dict(canonical_article.id, extract_facts(canonical_article))
    if os.environ.get("ARMSLEDGER_REGENERATE_GOLDEN") == "1":
        text = json.dumps(produced, indent=2, ensure_ascii=False) + "\n"
        GOLDEN.write_text(text, encoding="utf-8")
    assert produced == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_extract_canonical_example_keeps_the_speaker(canonical_article: Article) -> None:
    facts = extract_facts(canonical_article)
    assert {f.speaker for f in facts} == {"Dmitry Shugaev"}
    su35 = [f for f in facts if f.system == "Su-35"]
    assert [(f.stage, f.modality) for f in su35] == [(Stage.OFFER, Modality.CONDITIONAL)]


_FILLER = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)


@settings(max_examples=60, deadline=None)
@given(before=_FILLER, after=_FILLER)
def test_extract_evidence_is_always_an_exact_span(before: str, after: str) -> None:
    planted = "\u201cRussia delivered the S-400\u00a0systems to Turkey,\u201d the minister said."
    text = before + "\n" + planted + "\n" + after
    article = Article(id="h.txt", text=text)
    for fact in extract_facts(article):
        for span in fact.spans:
            assert text[span.start : span.end] == span.text


_WORDS = st.lists(
    st.sampled_from(["the", "deal", "talks", "on", "Monday", "42", "weather", "a", "of", "it"]),
    max_size=12,
).map(" ".join)


@settings(max_examples=80, deadline=None)
@given(before=_WORDS, after=_WORDS, phrase=st.sampled_from(["S-400", "Su-35", "Rafale", "Turkey"]))
def test_extract_mentions_come_back_at_their_exact_span(
    before: str, after: str, phrase: str
) -> None:
    from armsledger.catalog import load_catalog
    from armsledger.extract.mentions import mention_finder
    from armsledger.segment import fold_text, normalize_text

    text = f"{before} {phrase} {after}"
    start = len(before) + 1
    found = mention_finder(load_catalog()).find(normalize_text(text), fold_text(text))
    assert any(m.start == start and m.end == start + len(phrase) for m in found)
    for m in found:
        assert text[m.start : m.end] == m.phrase
