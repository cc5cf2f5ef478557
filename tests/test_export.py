import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from armsledger.errors import ArmsLedgerError, ConfigError
from armsledger.export import DEAL_SCHEMA, FACT_SCHEMA, export_deals, export_facts, export_flows
from armsledger.model import (
    Deal,
    DealEvent,
    Fact,
    Modality,
    Quantity,
    Span,
    Stage,
    Value,
    deal_id,
)
from armsledger.serialize import deal_to_dict, fact_to_dict

TEXT = (
    "Ruritania signed for 12 Zephyr jets worth about \u20ac1.5 billion, "
    "said \u201cAnn\u00a0Smith\u201d."
)


def make_facts() -> list[Fact]:
    return [
        Fact(
            article_id="a1.txt",
            supplier="FRA",
            recipient="IND",
            system="Zephyr",
            stage=Stage.CONTRACT,
            modality=Modality.ASSERTED,
            spans=(Span.of(TEXT, 0, len(TEXT)),),
            quantity=Quantity(12, "aircraft"),
            value=Value(1.5e9, "EUR", approximate=True),
            speaker="Ann\u00a0Smith",
        ),
        Fact(
            article_id="a2.txt",
            supplier="RUS",
            recipient=None,
            system=None,
            stage=Stage.NEGOTIATION,
            modality=Modality.POSSIBLE,
            spans=(Span.of(TEXT, 0, 9),),
            lot=2,
        ),
    ]


def make_deals() -> list[Deal]:
    event = DealEvent(
        stage=Stage.CONTRACT,
        modality=Modality.ASSERTED,
        date=dt.date(2016, 9, 23),
        article_id="a1.txt",
        evidence=TEXT,
        speaker="Ann Smith",
        source="https://example.org/a1",
    )
    return [
        Deal(
            id=deal_id("FRA", "IND", "Zephyr", 1),
            supplier="FRA",
            recipient="IND",
            system="Zephyr",
            lot=1,
            timeline=(event, event),
            quantity=Quantity(12, "aircraft"),
            value=Value(1.5e9, "EUR", approximate=True),
        ),
        Deal(id=deal_id("RUS", None, None, 2), supplier="RUS", recipient=None, system=None, lot=2),
    ]


@dataclass
class FakeRegister:
    facts: list[Fact] = field(default_factory=make_facts)
    deals: list[Deal] = field(default_factory=make_deals)

    def iter_facts(self) -> list[Fact]:
        return self.facts

    def iter_deals(self) -> list[Deal]:
        return self.deals


def expected_fact_rows() -> list[dict[str, Any]]:
    return [
        {
            "article": fact.article_id,
            "deal": deal_id(fact.supplier, fact.recipient, fact.system, fact.lot or 1),
            **fact_to_dict(fact),
        }
        for fact in make_facts()
    ]


def flat(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    quantity = row.pop("quantity") or {}
    value = row.pop("value") or {}
    row.update(
        quantity_count=quantity.get("count"),
        quantity_unit=quantity.get("unit"),
        value_amount=value.get("amount"),
        value_currency=value.get("currency"),
        value_approximate=value.get("approximate"),
    )
    return row


def as_csv_text(row: dict[str, Any]) -> dict[str, str]:
    return {key: "" if value is None else str(value) for key, value in row.items()}


def export(kind: str, fmt: str, register: FakeRegister | None = None) -> bytes:
    out = io.BytesIO()
    function = export_facts if kind == "facts" else export_deals
    function(register or FakeRegister(), fmt, out)
    return out.getvalue()


def test_export_facts_json_round_trip() -> None:
    data = export("facts", "json")
    assert json.loads(data.decode("utf-8")) == expected_fact_rows()
    assert "\u201cAnn\u00a0Smith\u201d" in data.decode("utf-8")  # kept, not escaped


def test_export_facts_json_keeps_format_fields_in_order() -> None:
    (row, _) = json.loads(export("facts", "json"))
    assert list(row) == [
        "article",
        "deal",
        "supplier",
        "recipient",
        "system",
        "stage",
        "modality",
        "lot",
        "quantity",
        "value",
        "speaker",
        "evidence",
        "optional",
    ]


def test_export_facts_csv_round_trip() -> None:
    data = export("facts", "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert list(rows[0]) == FACT_SCHEMA.names
    assert rows == [as_csv_text(flat(row)) for row in expected_fact_rows()]


def test_export_facts_parquet_round_trip() -> None:
    table = pq.read_table(io.BytesIO(export("facts", "parquet")))
    assert table.schema.equals(FACT_SCHEMA)
    assert table.to_pylist() == [flat(row) for row in expected_fact_rows()]


def test_export_deals_json_round_trip() -> None:
    rows = json.loads(export("deals", "json"))
    assert rows == [deal_to_dict(deal) for deal in make_deals()]
    assert len(rows[0]["timeline"]) == 2


def expected_flat_deals() -> list[dict[str, Any]]:
    rows = []
    for deal in make_deals():
        row = flat(deal_to_dict(deal))
        row["events"] = len(row.pop("timeline"))
        row.pop("corroboration")
        row["contradictions"] = len(row.pop("contradictions"))
        row = {name: row[name] for name in DEAL_SCHEMA.names}
        rows.append(row)
    return rows


def test_export_deals_csv_round_trip() -> None:
    rows = list(csv.DictReader(io.StringIO(export("deals", "csv").decode("utf-8"), newline="")))
    assert list(rows[0]) == DEAL_SCHEMA.names
    assert rows == [as_csv_text(row) for row in expected_flat_deals()]
    assert rows[0]["stage"] == "contract" and rows[0]["events"] == "2"


HOSTILE = '=HYPERLINK("https://evil.example","Zephyr")'


def hostile_register() -> FakeRegister:
    """Facts and a deal whose text fields a spreadsheet would run, and a negative amount."""
    text = f"{HOSTILE} said Ruritania signed."
    fact = Fact(
        article_id="@evil.txt",
        supplier="FRA",
        recipient="IND",
        system="+Zephyr",
        stage=Stage.CONTRACT,
        modality=Modality.ASSERTED,
        spans=(Span.of(text, 0, len(text)),),
        quantity=Quantity(12, "-aircraft"),
        value=Value(-1.5e9, "EUR"),
        speaker="\t=cmd|' /C calc'!A0",
    )
    deal = Deal(
        id=deal_id("FRA", "IND", "+Zephyr", 1),
        supplier="FRA",
        recipient="IND",
        system="+Zephyr",
        lot=1,
        value=Value(-1.5e9, "EUR"),
    )
    return FakeRegister(facts=[fact], deals=[deal])


def test_export_csv_quotes_text_a_spreadsheet_would_run() -> None:
    data = export("facts", "csv", hostile_register()).decode("utf-8")
    [row] = list(csv.DictReader(io.StringIO(data, newline="")))
    assert row["evidence"] == f"'{HOSTILE} said Ruritania signed."
    assert row["speaker"] == "'\t=cmd|' /C calc'!A0"
    assert (row["article"], row["system"]) == ("'@evil.txt", "'+Zephyr")
    assert row["quantity_unit"] == "'-aircraft"
    assert row["value_amount"] == "-1500000000.0"  # a number, written as a number
    assert (row["supplier"], row["stage"], row["quantity_count"]) == ("FRA", "contract", "12")
    [deal] = list(csv.DictReader(io.StringIO(export("deals", "csv", hostile_register()).decode())))
    assert (deal["system"], deal["value_amount"]) == ("'+Zephyr", "-1500000000.0")


def test_export_json_and_parquet_keep_formula_text_as_it_is() -> None:
    register = hostile_register()
    [fact] = json.loads(export("facts", "json", register))
    assert fact["evidence"].startswith(HOSTILE) and fact["system"] == "+Zephyr"
    table = pq.read_table(io.BytesIO(export("facts", "parquet", register))).to_pylist()
    assert table[0]["evidence"].startswith(HOSTILE) and table[0]["value_amount"] == -1.5e9


def test_export_deals_parquet_round_trip() -> None:
    table = pq.read_table(io.BytesIO(export("deals", "parquet")))
    assert table.schema.equals(DEAL_SCHEMA)
    assert table.to_pylist() == expected_flat_deals()


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_empty_register_is_a_valid_empty_file(fmt: str) -> None:
    data = export("facts", fmt, FakeRegister(facts=[], deals=[]))
    if fmt == "json":
        assert json.loads(data) == []
    elif fmt == "csv":
        assert data.decode("utf-8").splitlines() == [",".join(FACT_SCHEMA.names)]
    else:
        table = pq.read_table(io.BytesIO(data))
        assert table.num_rows == 0 and table.schema.equals(FACT_SCHEMA)


def test_export_parquet_streams_in_row_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("armsledger.export._PARQUET_BATCH", 1)
    table = pq.ParquetFile(io.BytesIO(export("facts", "parquet")))
    assert table.metadata.num_row_groups == 2
    assert table.read().to_pylist() == [flat(row) for row in expected_fact_rows()]


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_writes_to_a_path(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"facts.{fmt}"
    export_facts(FakeRegister(), fmt, path)
    assert path.read_bytes() == export("facts", fmt)


def test_export_unknown_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="export format 'xlsx' is not one of csv, json, parquet"):
        export("facts", "xlsx")


def test_export_unwritable_path_is_an_error(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "facts.csv"
    with pytest.raises(ArmsLedgerError, match=r"facts\.csv: cannot write the export"):
        export_facts(FakeRegister(), "csv", target)


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_export_flows_graph_reads_back_in_networkx(tmp_path: Path, fmt: str) -> None:
    import networkx as nx

    path = tmp_path / f"flows.{fmt}"
    export_flows(FakeRegister(), fmt, path, {"FRA": "France", "IND": "India"}.get)
    graph = (nx.read_graphml if fmt == "graphml" else nx.read_gexf)(path)
    # the deal with no recipient has no edge to draw
    assert sorted(graph.nodes) == ["FRA", "IND"]
    assert graph.nodes["FRA"]["label"] == "France"
    edge = graph.edges["FRA", "IND"]
    assert (int(edge["deals"]), int(edge["facts"]), edge["systems"]) == (1, 2, "Zephyr")


def test_export_flows_refuses_a_table_format() -> None:
    with pytest.raises(ConfigError, match="flows format 'csv' is not one of graphml, gexf"):
        export_flows(FakeRegister(), "csv", io.BytesIO())
