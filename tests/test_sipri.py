"""Comparison with SIPRI trade-register exports, read from ``shared/`` (never copied here)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from armsledger.batch import ingest_paths
from armsledger.cli import cli
from armsledger.errors import ParseError
from armsledger.model import Deal, Stage, deal_id
from armsledger.sipri import (
    Comparison,
    SipriRegister,
    compare_register,
    load_sipri,
    save_sipri_csv,
)
from armsledger.store import Register

ORDERS = "sipri_trade_register_all_years_generated_2025-03-13.csv"
DELIVERIES = "sipri_trade_register_deliveries_1995-2025_generated_2026-02-12.csv"
DEV = (
    "a005_nose4news_india_russia_s400_signed_2018",
    "a001_scmp_turkey_receives_s400_2019",
    "a003_defensenews_india_rafale_contract_2016",
)


def sipri_file(shared: Path, name: str) -> Path:
    path = shared / "research-data" / "registers" / name
    if not path.is_file():
        pytest.skip(f"{name} is not in shared/")
    return path


@pytest.fixture
def dev_register(register: Register, shared_dir: Path) -> Register:
    summary = ingest_paths([shared_dir / "dev" / f"{n}.txt" for n in DEV], register)
    assert summary.tally["stored"] == len(DEV)
    return register


def test_sipri_reads_orders_layout_with_broken_records(shared_dir: Path) -> None:
    sipri = load_sipri(sipri_file(shared_dir, ORDERS))
    assert sipri.layout == "orders"
    assert sipri.generated == "13 Mar 2025 10:02:49 AM"
    # 29,511 well-formed rows and 4 broken across two lines (the file's .source.txt)
    assert len(sipri.deals) == 29_515
    assert sipri.columns[:3] == ("Recipient", "Supplier", "Year of order")
    s400 = [d for d in sipri.deals if d.key == ("RUS", "TUR", "S-400") and d.ordered == 2]
    assert len(s400) == 1
    assert (s400[0].order_year, s400[0].delivered, s400[0].delivery_years) == (2017, 2, (2019,))
    assert s400[0].recipient_name == "Turkiye"
    broken = [d for d in sipri.deals if d.designation == "BTR-3" and d.recipient == "THA"]
    assert broken and all(d.delivery_years for d in broken)


def test_sipri_reads_deliveries_layout_one_deal_per_id(shared_dir: Path) -> None:
    sipri = load_sipri(sipri_file(shared_dir, DELIVERIES))
    assert sipri.layout == "deliveries"
    assert len(sipri.deals) == 12_571
    turkey = next(d for d in sipri.deals if d.record == "59633")
    assert turkey.key == ("RUS", "TUR", "S-400")
    assert turkey.stage is Stage.DELIVERY


def test_sipri_compare_dev_corpus(dev_register: Register, shared_dir: Path) -> None:
    sipri = load_sipri(sipri_file(shared_dir, ORDERS))
    comparison = compare_register(dev_register.iter_deals(), sipri)
    covered = {m.deal.id for m in comparison.covered}
    assert deal_id("RUS", "IND", "S-400", 1) in covered
    assert deal_id("FRA", "IND", "Rafale", 1) in covered
    assert deal_id("RUS", "TUR", "S-400", 1) in covered
    india = next(d for d in comparison.disagreements if d.deal.recipient == "IND")
    assert (india.news_stage, india.sipri_stage, india.later) == (
        Stage.CONTRACT,
        Stage.DELIVERY,
        True,
    )
    assert india.sipri.designation == "S-400 Triumf"
    assert india.describe() == (
        "SIPRI records deliveries (6 in 2021-2023); the news shows contract "
        "(last report 2018-10-05); deliveries began after the last report"
    )


def test_sipri_not_an_export(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ParseError, match=r"x\.csv: not a SIPRI trade-register export"):
        load_sipri(path)


def test_sipri_cut_record_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    header = "Recipient,Supplier,Year of order, ,Number ordered, ,Weapon designation,"
    header += "Weapon description,Number delivered, ,Year(s) of delivery,status,Comments,"
    header += "SIPRI TIV per unit,SIPRI TIV for total order,SIPRI TIV of delivered weapons"
    path.write_text(f"notes\n{header}\nIndia,Russia,2018,,10\n", encoding="latin-1")
    with pytest.raises(ParseError, match=r"x\.csv:3: the last record is cut short"):
        load_sipri(path)


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_sipri_command_formats(dev_register: Register, shared_dir: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'register.db'}"
    path = str(sipri_file(shared_dir, DELIVERIES))
    table = invoke("compare-sipri", path, "--db", db)
    assert "news deals absent from SIPRI:" in table and "stage disagreements:" in table
    data = json.loads(invoke("compare-sipri", path, "--db", db, "--format", "json"))
    assert set(data) == {"summary", "absent", "covered", "disagreements"}
    rows = list(
        csv.reader(io.StringIO(invoke("compare-sipri", path, "--db", db, "--format", "csv")))
    )
    assert rows[0][:3] == ["SIPRI AT Database ID", "Supplier", "Recipient"]
    assert ["59633", "Russia", "Turkiye", "S-400"] in [r[:4] for r in rows]
    assert ["32127", "Russia", "India", "S-400"] in [r[:4] for r in rows]


def test_sipri_csv_quotes_text_a_spreadsheet_would_run() -> None:
    system = '=HYPERLINK("https://evil.example","S-400")'
    deal = Deal(deal_id("RUS", "TUR", system, 1), "RUS", "TUR", system, 1)
    columns = tuple(f"column {n}" for n in range(12)) + ("@comments",)
    sipri = SipriRegister("orders.csv", "orders", columns, None, ())
    text = save_sipri_csv([deal], Comparison(sipri, (deal,), (deal,), ()))
    header, row = csv.reader(io.StringIO(text))
    assert header[12] == "'@comments"
    assert row[6] == "'" + system
    assert row[12].startswith("armsledger deal ")
