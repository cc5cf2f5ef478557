import contextlib
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from armsledger.errors import ParseError
from armsledger.model import (
    Deal,
    DealEvent,
    Fact,
    Modality,
    Quantity,
    Span,
    Stage,
    Value,
)
from armsledger.serialize import (
    FACT_FIELDS,
    GoldFact,
    article_to_dict,
    deal_to_dict,
    fact_to_dict,
    guard_csv_cell,
    guard_csv_row,
    parse_gold,
)

TEXT = "Ruritania signed a contract for 12 Zephyr-9 jets worth about $1.2 billion, Ann Smith said."


def make_fact(**changes: object) -> Fact:
    fields: dict[str, object] = dict(
        article_id="a1",
        supplier="FRA",
        recipient="IND",
        system="Rafale",
        stage=Stage.CONTRACT,
        modality=Modality.ASSERTED,
        spans=(Span.of(TEXT, 0, 50),),
        lot=None,
        quantity=Quantity(12, "aircraft"),
        value=Value(1.2e9, "USD", approximate=True),
        speaker="Ann Smith",
    )
    fields.update(changes)
    return Fact(**fields)  # type: ignore[arg-type]


def gold_fact_dict(**changes: object) -> dict[str, object]:
    fact: dict[str, object] = {
        "supplier": "RUS",
        "recipient": "TUR",
        "system": "S-400",
        "stage": "negotiation",
        "modality": "asserted",
        "lot": 2,
        "quantity": {"count": 1, "unit": "regimental set"},
        "value": {"amount": 1e9, "currency": "USD", "approximate": True},
        "speaker": "Dmitry Shugaev",
        "evidence": "Talks are under way",
        "optional": False,
    }
    fact.update(changes)
    return fact


def write_gold(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_serialize_fact_to_dict_keeps_format_order_and_values() -> None:
    out = fact_to_dict(make_fact())
    assert tuple(out) == FACT_FIELDS
    assert out == {
        "supplier": "FRA",
        "recipient": "IND",
        "system": "Rafale",
        "stage": "contract",
        "modality": "asserted",
        "lot": None,
        "quantity": {"count": 12, "unit": "aircraft"},
        "value": {"amount": 1.2e9, "currency": "USD", "approximate": True},
        "speaker": "Ann Smith",
        "evidence": TEXT[0:50],
        "optional": False,
    }
    assert type(out["stage"]) is str and type(out["modality"]) is str


def test_serialize_fact_to_dict_writes_nulls() -> None:
    out = fact_to_dict(make_fact(quantity=None, value=None, speaker=None, system=None, lot=2))
    assert (out["quantity"], out["value"], out["speaker"], out["system"], out["lot"]) == (
        None,
        None,
        None,
        None,
        2,
    )


def test_serialize_evidence_is_the_first_span() -> None:
    fact = make_fact(spans=(Span.of(TEXT, 52, 74), Span.of(TEXT, 0, 9)))
    assert fact_to_dict(fact)["evidence"] == TEXT[52:74]


def test_serialize_article_to_dict_relevance_follows_facts() -> None:
    assert article_to_dict("x.txt", []) == {"article": "x.txt", "relevant": False, "facts": []}
    out = article_to_dict("x.txt", [make_fact()])
    assert list(out) == ["article", "relevant", "facts"]
    assert out["relevant"] is True and len(out["facts"]) == 1
    json.dumps(out)  # JSON-ready as it is


def test_serialize_deal_to_dict() -> None:
    event = DealEvent(
        stage=Stage.DELIVERY,
        modality=Modality.ASSERTED,
        date=dt.date(2019, 7, 12),
        article_id="a1",
        evidence="The first batch arrived",
        speaker=None,
        source="https://example.org/a1",
    )
    deal = Deal(
        id="abc",
        supplier="RUS",
        recipient="TUR",
        system="S-400",
        lot=1,
        timeline=(event,),
        quantity=Quantity(4, "batteries"),
        value=None,
    )
    out = deal_to_dict(deal)
    assert out["stage"] == "delivery"
    assert out["first_seen"] == out["last_seen"] == "2019-07-12"
    assert out["quantity"] == {"count": 4, "unit": "batteries"}
    assert out["timeline"] == [
        {
            "date": "2019-07-12",
            "stage": "delivery",
            "modality": "asserted",
            "article": "a1",
            "evidence": "The first batch arrived",
            "speaker": None,
            "source": "https://example.org/a1",
            "confidence": None,
        }
    ]
    json.dumps(out)


def test_serialize_parse_gold_reads_every_field(tmp_path: Path) -> None:
    path = write_gold(
        tmp_path / "a.gold.json",
        {
            "article": "a.txt",
            "relevant": True,
            "facts": [gold_fact_dict(), gold_fact_dict(quantity=None, value=None, optional=True)],
        },
    )
    gold = parse_gold(path)
    assert gold.article == "a.txt" and gold.relevant is True
    assert gold.facts[0] == GoldFact(
        supplier="RUS",
        recipient="TUR",
        system="S-400",
        stage=Stage.NEGOTIATION,
        modality=Modality.ASSERTED,
        lot=2,
        quantity=Quantity(1, "regimental set"),
        value=Value(1e9, "USD", approximate=True),
        speaker="Dmitry Shugaev",
        evidence="Talks are under way",
        optional=False,
    )
    assert gold.facts[1].optional is True and gold.facts[1].quantity is None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "top level: is not a JSON object"),
        ({"relevant": True, "facts": []}, "top level: missing field 'article'"),
        ({"article": "a.txt", "relevant": "yes", "facts": []}, "field 'relevant': 'yes' is not"),
        ({"article": "a.txt", "relevant": True, "facts": {}}, "field 'facts': is not a list"),
        (
            {"article": "a.txt", "relevant": True, "facts": [gold_fact_dict(stage="sold")]},
            "fact 0 field 'stage': 'sold' is not one of interest, offer",
        ),
        (
            {"article": "a.txt", "relevant": True, "facts": [gold_fact_dict(modality="sure")]},
            "fact 0 field 'modality': 'sure' is not one of asserted",
        ),
        (
            {
                "article": "a.txt",
                "relevant": True,
                "facts": [gold_fact_dict(), gold_fact_dict(quantity={"unit": "jets"})],
            },
            "fact 1 field 'quantity': missing field 'count'",
        ),
        (
            {
                "article": "a.txt",
                "relevant": True,
                "facts": [gold_fact_dict(quantity={"count": 1.5})],
            },
            "fact 0 field 'quantity' field 'count': 1.5 is not a whole number",
        ),
        (
            {
                "article": "a.txt",
                "relevant": True,
                "facts": [gold_fact_dict(value={"amount": "1bn", "currency": "USD"})],
            },
            "fact 0 field 'value' field 'amount': '1bn' is not a number",
        ),
        (
            {"article": "a.txt", "relevant": True, "facts": [gold_fact_dict(lot=0)]},
            "fact 0 field 'lot': 0 is not a positive whole number",
        ),
        (
            {"article": "a.txt", "relevant": True, "facts": [gold_fact_dict(supplier=7)]},
            "fact 0 field 'supplier': 7 is not a string or null",
        ),
        (
            {"article": "a.txt", "relevant": True, "facts": [gold_fact_dict(evidence=None)]},
            "fact 0 field 'evidence': None is not a string",
        ),
    ],
)
def test_serialize_parse_gold_names_file_and_field(
    tmp_path: Path, document: object, message: str
) -> None:
    path = write_gold(tmp_path / "bad.gold.json", document)
    with pytest.raises(ParseError) as caught:
        parse_gold(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_serialize_parse_gold_rejects_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.gold.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ParseError, match=r"broken\.gold\.json: not valid JSON"):
        parse_gold(path)
    with pytest.raises(ParseError, match=r"missing\.gold\.json: cannot read gold file"):
        parse_gold(tmp_path / "missing.gold.json")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
fact_like = st.fixed_dictionaries(
    {name: json_values for name in FACT_FIELDS},
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    document=json_values
    | st.fixed_dictionaries(
        {
            "article": json_values,
            "relevant": st.booleans(),
            "facts": st.lists(fact_like, max_size=2),
        }
    )
)
def test_serialize_parse_gold_raises_only_parse_error(tmp_path: Path, document: object) -> None:
    path = tmp_path / "random.gold.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with contextlib.suppress(ParseError):  # anything else escaping fails the test
        parse_gold(path)


def test_serialize_parse_gold_reads_the_canonical_example(shared_dir: Path) -> None:
    gold = parse_gold(shared_dir / "examples" / "s400-turkey-shugaev.gold.json")
    assert gold.article == "s400-turkey-shugaev.txt" and gold.relevant
    assert len(gold.facts) == 10
    assert sum(f.optional for f in gold.facts) == 3
    second = next(f for f in gold.facts if f.lot == 2)
    assert second.stage is Stage.NEGOTIATION and second.quantity == Quantity(1, "regimental set")


def test_serialize_parse_gold_reads_every_dev_file(shared_dir: Path) -> None:
    paths = sorted((shared_dir / "dev").glob("*.gold.json"))
    assert paths
    for path in paths:
        gold = parse_gold(path)
        assert gold.article == path.name.removesuffix(".gold.json") + ".txt"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("https://evil.example","x")', '\'=HYPERLINK("https://evil.example","x")'),
        ("+31 20 555 0100", "'+31 20 555 0100"),
        ("-2+3", "'-2+3"),
        ("-12", "'-12"),  # text that looks like a number is still text
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("S-400", "S-400"),
        ("a = b", "a = b"),
        (" =1+1", " =1+1"),
        ("'=1+1", "'=1+1"),
        ("", ""),
        (-12, -12),
        (-1.5e9, -1.5e9),
        (0, 0),
        (True, True),
        (None, None),
        (dt.date(2019, 7, 12), dt.date(2019, 7, 12)),
        (Stage.CONTRACT, Stage.CONTRACT),
    ],
)
def test_serialize_guard_csv_cell_quotes_formulas_in_text_only(
    cell: object, expected: object
) -> None:
    guarded = guard_csv_cell(cell)
    assert guarded == expected
    assert type(guarded) is type(cell)  # a number stays a number


def test_serialize_guard_csv_row_guards_every_cell() -> None:
    assert guard_csv_row(["=A1", -3, None, "ok", "@x"]) == ["'=A1", -3, None, "ok", "'@x"]
