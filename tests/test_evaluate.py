import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from armsledger.errors import InputError, ParseError
from armsledger.evaluate import Accuracy, Scores, evaluate_dir, format_key, score_article
from armsledger.model import Article, Fact, Modality, Quantity, Span, Stage, Value
from armsledger.serialize import GoldArticle, GoldFact, parse_gold

# Invented articles about invented deals between real states.
TEXT_A = (
    "Ruritania's neighbour India signed a contract for 36 Zephyr jets worth $8.7 billion. "
    "Deliveries of the Zephyr will begin next year, minister Ann Smith said. "
    "Talks on a second batch are under way."
)
TEXT_B = "The navy held an exercise with allied ships. No weapons changed hands."


def family(name: str) -> str:
    """A stand-in for the catalog: variants of a made-up system fold into one family."""
    return {"Zephyr Mk2": "Zephyr", "Zephyr-E": "Zephyr"}.get(name, name)


def gold(
    supplier: str | None,
    recipient: str | None,
    system: str | None,
    stage: str,
    evidence: str,
    **changes: Any,
) -> dict[str, Any]:
    fact = {
        "supplier": supplier,
        "recipient": recipient,
        "system": system,
        "stage": stage,
        "modality": "asserted",
        "lot": None,
        "quantity": None,
        "value": None,
        "speaker": None,
        "evidence": evidence,
        "optional": False,
    }
    fact.update(changes)
    return fact


def write_article(
    folder: Path, name: str, text: str, facts: list[dict[str, Any]], relevant: bool | None = None
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    if relevant is None:
        relevant = any(not f["optional"] for f in facts)
    document = {"article": f"{name}.txt", "relevant": relevant, "facts": facts}
    (folder / f"{name}.gold.json").write_text(json.dumps(document), encoding="utf-8")


def predicted(
    article: Article,
    supplier: str | None,
    recipient: str | None,
    system: str | None,
    stage: Stage,
    evidence: str,
    **changes: Any,
) -> Fact:
    start = article.text.index(evidence)
    fields: dict[str, Any] = dict(
        article_id=article.id,
        supplier=supplier,
        recipient=recipient,
        system=system,
        stage=stage,
        modality=Modality.ASSERTED,
        spans=(Span.of(article.text, start, start + len(evidence)),),
    )
    fields.update(changes)
    return Fact(**fields)


def fake_extract(
    by_article: dict[str, Callable[[Article], list[Fact]]],
) -> Callable[[Article], list[Fact]]:
    """An extractor answering each article (by file name) from a table."""
    return lambda article: by_article.get(article.id, lambda _: [])(article)


def run(folder: Path, by_article: dict[str, Callable[[Article], list[Fact]]]) -> Scores:
    return evaluate_dir(folder, fake_extract(by_article), family=family, extractor="fake.v0")


CONTRACT = "India signed a contract for 36 Zephyr jets worth $8.7 billion"
DELIVERY = "Deliveries of the Zephyr will begin next year"
TALKS = "Talks on a second batch are under way"


def test_evaluate_exact_match_scores_one(tmp_path: Path) -> None:
    write_article(tmp_path, "a", TEXT_A, [gold("FRA", "IND", "Zephyr", "contract", CONTRACT)])
    scores = run(
        tmp_path,
        {"a.txt": lambda a: [predicted(a, "FRA", "IND", "Zephyr", Stage.CONTRACT, CONTRACT)]},
    )
    assert (scores.tp, scores.fp, scores.fn) == (1, 0, 0)
    assert (scores.precision, scores.recall, scores.f1) == (1.0, 1.0, 1.0)
    assert scores.extractor == "fake.v0"


def test_evaluate_optional_gold_counts_neither_way(tmp_path: Path) -> None:
    write_article(
        tmp_path,
        "a",
        TEXT_A,
        [
            gold("FRA", "IND", "Zephyr", "contract", CONTRACT),
            gold("FRA", "IND", "Zephyr", "delivery", DELIVERY, optional=True),
            gold("FRA", "IND", "Zephyr", "negotiation", TALKS, lot=2, optional=True),
        ],
    )
    scores = run(
        tmp_path,
        {
            "a.txt": lambda a: [
                predicted(a, "FRA", "IND", "Zephyr", Stage.CONTRACT, CONTRACT),
                # matches an optional fact: neither a hit nor a false alarm
                predicted(a, "FRA", "IND", "Zephyr", Stage.DELIVERY, DELIVERY),
                # the optional lot-2 negotiation is not predicted: not a miss
            ]
        },
    )
    assert (scores.tp, scores.fp, scores.fn) == (1, 0, 0)
    row = scores.articles[0]
    assert row.missed == () and row.spurious == ()


def test_evaluate_optional_match_does_not_score_attributes(tmp_path: Path) -> None:
    write_article(
        tmp_path,
        "a",
        TEXT_A,
        [gold("FRA", "IND", "Zephyr", "delivery", DELIVERY, optional=True, speaker="Ann Smith")],
        relevant=False,
    )
    scores = run(
        tmp_path,
        {"a.txt": lambda a: [predicted(a, "FRA", "IND", "Zephyr", Stage.DELIVERY, DELIVERY)]},
    )
    assert scores.attributes["modality"] == Accuracy(0, 0)
    assert scores.attributes["speaker"] == Accuracy(0, 0)


def test_evaluate_system_matches_at_family_level(tmp_path: Path) -> None:
    write_article(
        tmp_path,
        "a",
        TEXT_A,
        [
            gold("FRA", "IND", "Zephyr", "contract", CONTRACT),
            gold("FRA", "IND", "Zephyr-E", "delivery", DELIVERY, modality="planned"),
        ],
    )
    scores = run(
        tmp_path,
        {
            "a.txt": lambda a: [
                predicted(a, "FRA", "IND", "Zephyr Mk2", Stage.CONTRACT, CONTRACT),
                predicted(a, "FRA", "IND", "Zephyr", Stage.DELIVERY, DELIVERY),
            ]
        },
    )
    assert (scores.tp, scores.fp, scores.fn) == (2, 0, 0)


def test_evaluate_other_key_fields_must_match(tmp_path: Path) -> None:
    write_article(tmp_path, "a", TEXT_A, [gold("FRA", "IND", "Zephyr", "contract", CONTRACT)])
    scores = run(
        tmp_path,
        {
            "a.txt": lambda a: [
                predicted(a, "USA", "IND", "Zephyr", Stage.CONTRACT, CONTRACT),
                predicted(a, "FRA", "IND", None, Stage.CONTRACT, CONTRACT),
                predicted(a, "FRA", "IND", "Zephyr", Stage.AGREEMENT, CONTRACT),
            ]
        },
    )
    assert (scores.tp, scores.fp, scores.fn) == (0, 3, 1)


def test_evaluate_system_null_matches_null(tmp_path: Path) -> None:
    write_article(tmp_path, "a", TEXT_A, [gold("FRA", "IND", None, "contract", CONTRACT)])
    scores = run(
        tmp_path, {"a.txt": lambda a: [predicted(a, "FRA", "IND", None, Stage.CONTRACT, CONTRACT)]}
    )
    assert (scores.tp, scores.fp, scores.fn) == (1, 0, 0)


def test_evaluate_lot_null_equals_one(tmp_path: Path) -> None:
    write_article(
        tmp_path,
        "a",
        TEXT_A,
        [
            gold("FRA", "IND", "Zephyr", "contract", CONTRACT, lot=None),
            gold("FRA", "IND", "Zephyr", "delivery", DELIVERY, lot=1),
            gold("FRA", "IND", "Zephyr", "negotiation", TALKS, lot=2),
        ],
    )
    scores = run(
        tmp_path,
        {
            "a.txt": lambda a: [
                predicted(a, "FRA", "IND", "Zephyr", Stage.CONTRACT, CONTRACT, lot=1),
                predicted(a, "FRA", "IND", "Zephyr", Stage.DELIVERY, DELIVERY, lot=None),
                predicted(a, "FRA", "IND", "Zephyr", Stage.NEGOTIATION, TALKS, lot=None),
            ]
        },
    )
    assert (scores.tp, scores.fp, scores.fn) == (2, 1, 1)
    row = scores.articles[0]
    assert row.missed == (("FRA", "IND", "Zephyr", "negotiation", 2),)
    assert row.spurious == (("FRA", "IND", "Zephyr", "negotiation", 1),)


def test_evaluate_duplicate_predictions_are_one_fact(tmp_path: Path) -> None:
    write_article(tmp_path, "a", TEXT_A, [gold("FRA", "IND", "Zephyr", "contract", CONTRACT)])
    scores = run(
        tmp_path,
        {
            "a.txt": lambda a: [
                predicted(a, "FRA", "IND", "Zephyr", Stage.CONTRACT, CONTRACT),
                predicted(a, "FRA", "IND", "Zephyr", Stage.CONTRACT, "36 Zephyr jets"),
                predicted(a, "FRA", "IND", "Zephyr Mk2", Stage.CONTRACT, CONTRACT, lot=1),
                # a duplicate that is wrong is still only one false positive
                predicted(a, "FRA", "IND", "Zephyr", Stage.OFFER, CONTRACT),
                predicted(a, "FRA", "IND", "Zephyr-E", Stage.OFFER, DELIVERY),
            ]
        },
    )
    assert (scores.tp, scores.fp, scores.fn) == (1, 1, 0)


def test_evaluate_scores_are_micro_averaged(tmp_path: Path) -> None:
    write_article(tmp_path, "a", TEXT_A, [gold("FRA", "IND", "Zephyr", "contract", CONTRACT)])
    write_article(
        tmp_path,
        "b",
        TEXT_A,
        [
            gold("FRA", "IND", "Zephyr", "contract", CONTRACT),
            gold("FRA", "IND", "Zephyr", "delivery", DELIVERY),
            gold("FRA", "IND", "Zephyr", "negotiation", TALKS, lot=2),
        ],
    )
    scores = run(
        tmp_path,
        {
            "a.txt": lambda a: [predicted(a, "FRA", "IND", "Zephyr", Stage.CONTRACT, CONTRACT)],
            "b.txt": lambda a: [predicted(a, "FRA", "IND", "Zephyr", Stage.OFFER, CONTRACT)],
        },
    )
    # micro: 1 hit of 2 predicted, 1 of 4 required; a macro average would give P 0.5, R 0.5
    assert (scores.tp, scores.fp, scores.fn) == (1, 1, 3)
    assert scores.precision == 0.5
    assert scores.recall == 0.25
    assert scores.f1 == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    assert [(r.article, r.tp, r.fp, r.fn) for r in scores.articles] == [
        ("a.txt", 1, 0, 0),
        ("b.txt", 0, 1, 3),
    ]


def test_evaluate_modality_accuracy(tmp_path: Path) -> None:
    write_article(
        tmp_path,
        "a",
        TEXT_A,
        [
            gold("FRA", "IND", "Zephyr", "contract", CONTRACT),
            gold("FRA", "IND", "Zephyr", "delivery", DELIVERY, modality="planned"),
        ],
    )
    scores = run(
        tmp_path,
        {
            "a.txt": lambda a: [
                predicted(a, "FRA", "IND", "Zephyr", Stage.CONTRACT, CONTRACT),
                predicted(a, "FRA", "IND", "Zephyr", Stage.DELIVERY, DELIVERY),
            ]
        },
    )
    assert scores.attributes["modality"] == Accuracy(1, 2)
    assert scores.attributes["modality"].accuracy == 0.5
    (mismatch,) = scores.articles[0].mismatches
    assert (mismatch.attribute, mismatch.gold, mismatch.predicted) == (
        "modality",
        "planned",
        "asserted",
    )


def test_evaluate_quantity_accuracy_compares_the_count(tmp_path: Path) -> None:
    count = {"count": 36, "unit": "aircraft"}
    write_article(
        tmp_path,
        "a",
        TEXT_A,
        [
            gold("FRA", "IND", "Zephyr", "contract", CONTRACT, quantity=count),
            gold("FRA", "IND", "Zephyr", "delivery", DELIVERY, quantity=count),
            gold("FRA", "IND", "Zephyr", "negotiation", TALKS, quantity=count, lot=2),
            gold("FRA", "IND", None, "contract", CONTRACT),  # gold null: not counted
        ],
    )
    scores = run(
        tmp_path,
        {
            "a.txt": lambda a: [
                predicted(
                    a,
                    "FRA",
                    "IND",
                    "Zephyr",
                    Stage.CONTRACT,
                    CONTRACT,
                    quantity=Quantity(36, "jets"),
                ),
                predicted(
                    a,
                    "FRA",
                    "IND",
                    "Zephyr",
                    Stage.DELIVERY,
                    DELIVERY,
                    quantity=Quantity(6, "aircraft"),
                ),
                predicted(a, "FRA", "IND", "Zephyr", Stage.NEGOTIATION, TALKS, lot=2),
                predicted(
                    a, "FRA", "IND", None, Stage.CONTRACT, CONTRACT, quantity=Quantity(36, "jets")
                ),
            ]
        },
    )
    assert scores.tp == 4
    assert scores.attributes["quantity"] == Accuracy(1, 3)


@pytest.mark.parametrize(
    ("value", "right"),
    [
        (Value(8.7e9, "USD"), True),
        (Value(8.7e9 * 1.01, "USD", approximate=True), True),  # within 1 %
        (Value(8.7e9 * 0.99, "USD"), True),
        (Value(8.7e9 * 1.02, "USD"), False),
        (Value(8.7e9, "EUR"), False),  # same amount, other currency
        (None, False),
    ],
)
def test_evaluate_value_accuracy(tmp_path: Path, value: Value | None, right: bool) -> None:
    stated = {"amount": 8.7e9, "currency": "USD", "approximate": False}
    write_article(
        tmp_path,
        "a",
        TEXT_A,
        [
            gold("FRA", "IND", "Zephyr", "contract", CONTRACT, value=stated),
            gold("FRA", "IND", "Zephyr", "delivery", DELIVERY),  # gold null: not counted
        ],
    )
    scores = run(
        tmp_path,
        {
            "a.txt": lambda a: [
                predicted(a, "FRA", "IND", "Zephyr", Stage.CONTRACT, CONTRACT, value=value),
                predicted(
                    a, "FRA", "IND", "Zephyr", Stage.DELIVERY, DELIVERY, value=Value(1.0, "USD")
                ),
            ]
        },
    )
    assert scores.attributes["value"] == Accuracy(int(right), 1)


@pytest.mark.parametrize(
    ("speaker", "right"),
    [
        ("Ann Smith", True),
        ("Smith", True),
        ("minister SMITH", True),
        ("Dr. Ann Smith,", True),
        ("Ann Smithers", False),
        ("Smith Jones", False),
        (None, False),
    ],
)
def test_evaluate_speaker_accuracy_compares_surnames(
    tmp_path: Path, speaker: str | None, right: bool
) -> None:
    write_article(
        tmp_path,
        "a",
        TEXT_A,
        [
            gold("FRA", "IND", "Zephyr", "delivery", DELIVERY, speaker="Ann Smith"),
            gold("FRA", "IND", "Zephyr", "contract", CONTRACT),  # gold null: not counted
        ],
    )
    scores = run(
        tmp_path,
        {
            "a.txt": lambda a: [
                predicted(a, "FRA", "IND", "Zephyr", Stage.DELIVERY, DELIVERY, speaker=speaker),
                predicted(a, "FRA", "IND", "Zephyr", Stage.CONTRACT, CONTRACT, speaker="Bob Jones"),
            ]
        },
    )
    assert scores.attributes["speaker"] == Accuracy(int(right), 1)


def test_evaluate_attributes_are_none_when_gold_never_states_them(tmp_path: Path) -> None:
    write_article(tmp_path, "a", TEXT_A, [gold("FRA", "IND", "Zephyr", "contract", CONTRACT)])
    scores = run(tmp_path, {})
    assert all(acc.accuracy is None for acc in scores.attributes.values())


def test_evaluate_relevance_precision_and_recall(tmp_path: Path) -> None:
    fact = [gold("FRA", "IND", "Zephyr", "contract", CONTRACT)]
    write_article(tmp_path, "hit", TEXT_A, fact)
    write_article(tmp_path, "missed", TEXT_A, fact)
    write_article(tmp_path, "false-alarm", TEXT_B, [])
    write_article(tmp_path, "quiet", TEXT_B, [])
    scores = run(
        tmp_path,
        {
            "hit.txt": lambda a: [predicted(a, "FRA", "IND", "Zephyr", Stage.CONTRACT, CONTRACT)],
            "false-alarm.txt": lambda a: [
                predicted(a, "USA", "JPN", None, Stage.CONTRACT, "allied ships")
            ],
        },
    )
    assert (scores.relevance_tp, scores.relevance_fp, scores.relevance_fn) == (1, 1, 1)
    assert scores.relevance_precision == 0.5
    assert scores.relevance_recall == 0.5


def test_evaluate_relevance_follows_gold_flag_with_only_optional_facts(tmp_path: Path) -> None:
    write_article(
        tmp_path,
        "a",
        TEXT_A,
        [gold("FRA", "IND", "Zephyr", "delivery", DELIVERY, optional=True)],
        relevant=False,
    )
    scores = run(
        tmp_path,
        {"a.txt": lambda a: [predicted(a, "FRA", "IND", "Zephyr", Stage.DELIVERY, DELIVERY)]},
    )
    assert (scores.tp, scores.fp, scores.fn) == (0, 0, 0)
    assert scores.relevance_fp == 1


def test_evaluate_counts_evidence_that_is_not_an_exact_span(tmp_path: Path) -> None:
    write_article(tmp_path, "a", TEXT_A, [gold("FRA", "IND", "Zephyr", "contract", CONTRACT)])

    def extract(article: Article) -> list[Fact]:
        good = predicted(article, "FRA", "IND", "Zephyr", Stage.CONTRACT, CONTRACT)
        shifted = Span(good.spans[0].start + 1, good.spans[0].end + 1, CONTRACT)
        retyped = Span(0, 10, "Ruritania\u2019")  # a typographic quote the text does not hold
        bad = predicted(article, "FRA", "IND", "Zephyr", Stage.DELIVERY, DELIVERY)
        return [good, Fact(**{**_fields(bad), "spans": (shifted, retyped)})]

    scores = evaluate_dir(tmp_path, extract, family=family)
    assert scores.evidence_checked == 3
    assert scores.evidence_not_exact == 2
    assert scores.to_dict()["evidence"] == {"checked": 3, "not_exact": 2}


def _fields(fact: Fact) -> dict[str, Any]:
    return {name: getattr(fact, name) for name in Fact.__dataclass_fields__}


def test_evaluate_reads_the_article_through_ingest_with_meta(tmp_path: Path) -> None:
    write_article(tmp_path, "a", TEXT_A, [gold("FRA", "IND", "Zephyr", "contract", CONTRACT)])
    (tmp_path / "a.meta.json").write_text(
        json.dumps({"title": "Zephyrs for India", "date": "2016-09-23"}), encoding="utf-8"
    )
    seen: list[Article] = []
    evaluate_dir(tmp_path, lambda article: seen.append(article) or [], family=family)
    (article,) = seen
    assert article.text == TEXT_A
    assert article.title == "Zephyrs for India"
    assert str(article.date) == "2016-09-23"


def test_evaluate_to_dict_is_json_with_every_figure(tmp_path: Path) -> None:
    write_article(tmp_path, "a", TEXT_A, [gold("FRA", "IND", "Zephyr", "contract", CONTRACT)])
    scores = run(tmp_path, {})
    out = json.loads(json.dumps(scores.to_dict()))
    assert out["articles"] == 1
    assert out["facts"] == {"tp": 0, "fp": 0, "fn": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert set(out["attributes"]) == {"modality", "quantity", "value", "speaker"}
    assert out["attributes"]["modality"] == {"correct": 0, "total": 0, "accuracy": None}
    assert out["relevance"]["fn"] == 1
    assert out["per_article"][0]["missed"] == [
        {"supplier": "FRA", "recipient": "IND", "system": "Zephyr", "stage": "contract", "lot": 1}
    ]


def test_evaluate_table_ends_with_the_headline_figures(tmp_path: Path) -> None:
    write_article(tmp_path, "a", TEXT_A, [gold("FRA", "IND", "Zephyr", "contract", CONTRACT)])
    scores = run(
        tmp_path, {"a.txt": lambda a: [predicted(a, "FRA", "IND", "Zephyr", Stage.OFFER, CONTRACT)]}
    )
    lines = scores.to_table().splitlines()
    assert lines[0].split()[:4] == ["article", "tp", "fp", "fn"]
    assert lines[1].split()[:5] == ["a.txt", "0", "1", "1", "yy"]
    assert "FRA>IND Zephyr contract | FRA>IND Zephyr offer" in lines[1]
    assert [line.split("  ")[0] for line in lines[-6:]] == [
        "evidence not exact",
        "relevance precision",
        "relevance recall",
        "fact precision",
        "fact recall",
        "fact F1",
    ]
    assert lines[-1].split()[:3] == ["fact", "F1", "0.000"]


def test_evaluate_format_key_shows_lot_only_past_one() -> None:
    assert (
        format_key(("RUS", "TUR", "S-400", "negotiation", 2)) == "RUS>TUR S-400 negotiation lot 2"
    )
    assert format_key((None, "TUR", None, "contract", 1)) == "?>TUR (no system) contract"


def test_evaluate_folder_without_gold_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \*\.gold\.json files in it"):
        evaluate_dir(tmp_path, lambda _: [], family=family)
    with pytest.raises(InputError, match="not a folder of gold files"):
        evaluate_dir(tmp_path / "absent", lambda _: [], family=family)


def test_evaluate_gold_without_its_article_is_an_error(tmp_path: Path) -> None:
    write_article(tmp_path, "a", TEXT_A, [])
    (tmp_path / "a.txt").unlink()
    with pytest.raises(InputError, match=r"a\.gold\.json: its article a\.txt is not beside it"):
        evaluate_dir(tmp_path, lambda _: [], family=family)


def test_evaluate_malformed_gold_is_a_parse_error(tmp_path: Path) -> None:
    write_article(tmp_path, "a", TEXT_A, [gold("FRA", "IND", "Zephyr", "sold", CONTRACT)])
    with pytest.raises(ParseError, match=r"a\.gold\.json: fact 0 field 'stage'"):
        evaluate_dir(tmp_path, lambda _: [], family=family)


# --- with the real catalog and the shared gold -----------------------------------------


def test_evaluate_default_family_resolves_catalog_aliases(tmp_path: Path) -> None:
    text = (
        "Turkey took delivery of the S-400 Triumf. India signed for more Su-30MKI jets. "
        "Taiwan ordered F-16 Block 70 fighters."
    )
    write_article(
        tmp_path,
        "a",
        text,
        [
            gold("RUS", "TUR", "S-400", "delivery", "Turkey took delivery of the S-400 Triumf"),
            gold("RUS", "IND", "Su-30", "contract", "India signed for more Su-30MKI jets"),
            gold("USA", "TWN", "F-16", "contract", "Taiwan ordered F-16 Block 70 fighters"),
        ],
    )

    def extract(a: Article) -> list[Fact]:
        return [
            predicted(a, "RUS", "TUR", "SA-21 Growler", Stage.DELIVERY, "S-400 Triumf"),
            predicted(a, "RUS", "IND", "Su-30MKI", Stage.CONTRACT, "Su-30MKI jets"),
            predicted(a, "USA", "TWN", "F-16 Block 70", Stage.CONTRACT, "F-16 Block 70"),
        ]

    scores = evaluate_dir(tmp_path, extract)
    assert (scores.tp, scores.fp, scores.fn) == (3, 0, 0)


def oracle(gold_dir: Path) -> Callable[[Article], list[Fact]]:
    """An extractor that answers with the gold facts themselves (required and optional)."""

    def extract(article: Article) -> list[Fact]:
        facts = []
        for fact in parse_gold(gold_dir / article.id.replace(".txt", ".gold.json")).facts:
            start = article.text.index(fact.evidence)
            facts.append(
                Fact(
                    article_id=article.id,
                    supplier=fact.supplier,
                    recipient=fact.recipient,
                    system=fact.system,
                    stage=fact.stage,
                    modality=fact.modality,
                    spans=(Span.of(article.text, start, start + len(fact.evidence)),),
                    lot=fact.lot,
                    quantity=fact.quantity,
                    value=fact.value,
                    speaker=fact.speaker,
                )
            )
        return facts

    return extract


@pytest.mark.parametrize("folder", ["examples", "dev"])
def test_evaluate_gold_scored_against_itself_is_perfect(shared_dir: Path, folder: str) -> None:
    gold_dir = shared_dir / folder
    scores = evaluate_dir(gold_dir, oracle(gold_dir))
    assert scores.fp == scores.fn == 0 and scores.tp > 0
    assert scores.f1 == 1.0
    assert scores.evidence_not_exact == 0
    assert all(acc.accuracy in (1.0, None) for acc in scores.attributes.values())
    assert scores.relevance_recall == 1.0
    if folder == "examples":
        assert scores.tp == 7  # the canonical example's required facts


# --- invariants ------------------------------------------------------------------------

_POOL = [
    ("FRA", "IND", "Zephyr", Stage.CONTRACT, None),
    ("FRA", "IND", "Zephyr Mk2", Stage.CONTRACT, 1),
    ("FRA", "IND", "Zephyr", Stage.DELIVERY, None),
    ("FRA", "IND", "Zephyr", Stage.NEGOTIATION, 2),
    ("USA", "IND", None, Stage.OFFER, None),
    ("FRA", None, "Zephyr-E", Stage.CANCELLED, 3),
]


@given(
    picks=st.lists(st.integers(0, len(_POOL) - 1), max_size=12),
    gold_picks=st.lists(st.tuples(st.integers(0, len(_POOL) - 1), st.booleans()), max_size=6),
    seed=st.randoms(use_true_random=False),
)
def test_evaluate_score_ignores_order_and_repetition(
    picks: list[int], gold_picks: list[tuple[int, bool]], seed: Any
) -> None:
    article = Article(id="a.txt", text=TEXT_A)
    seen: set[tuple[Any, ...]] = set()
    facts = []
    for index, optional in gold_picks:
        supplier, recipient, system, stage, lot = _POOL[index]
        key = (supplier, recipient, family(system) if system else None, stage, lot or 1)
        if key not in seen:  # gold writes each key once
            seen.add(key)
            facts.append(
                GoldFact(
                    supplier,
                    recipient,
                    system,
                    stage,
                    Modality.ASSERTED,
                    lot,
                    None,
                    None,
                    None,
                    CONTRACT,
                    optional,
                )  # fmt: skip
            )
    gold_article = GoldArticle("a.txt", bool(facts), tuple(facts))
    pool = [predicted(article, s, r, y, st_, CONTRACT, lot=lot) for s, r, y, st_, lot in _POOL]
    chosen = [pool[i] for i in picks]
    shuffled = chosen * 2
    seed.shuffle(shuffled)
    once = score_article(gold_article, chosen, TEXT_A, family)
    again = score_article(gold_article, shuffled, TEXT_A, family)
    assert (once.tp, once.fp, once.fn) == (again.tp, again.fp, again.fn)
    assert set(once.missed) == set(again.missed) and set(once.spurious) == set(again.spurious)
    required = {
        (f.supplier, f.recipient, family(f.system) if f.system else None, f.stage, f.lot or 1)
        for f in facts
        if not f.optional
    }
    assert once.tp + once.fn == len(required)
