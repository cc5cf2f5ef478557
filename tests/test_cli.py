import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import click
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from armsledger.cli import cli
from armsledger.model import Article, Fact, Modality, Quantity, Span, Stage, deal_id
from armsledger.serialize import FACT_FIELDS
from armsledger.store import Register

ROOT = Path(__file__).resolve().parents[1]

STAGES = {stage.value for stage in Stage}
MODALITIES = {modality.value for modality in Modality}

# An invented article about an invented deal.
TEXT = (
    "Ruritania's neighbour India signed a contract for 36 Zephyr jets, minister Ann Smith said. "
    "The first Zephyr [sic] arrived in 2019."
)
CONTRACT = "India signed a contract for 36 Zephyr jets"
ARRIVED = "The first Zephyr [sic] arrived in 2019."


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def span(text: str, evidence: str) -> Span:
    start = text.index(evidence)
    return Span.of(text, start, start + len(evidence))


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A register holding one article with two facts of one deal."""
    path = str(tmp_path / "register.db")
    article = Article(
        id="zephyr.txt",
        text=TEXT,
        title="Zephyrs for India",
        date=dt.date(2019, 5, 2),
        url="https://example.org/zephyr",
    )
    facts = [
        Fact(
            article_id=article.id,
            supplier="FRA",
            recipient="IND",
            system="Zephyr",
            stage=stage,
            modality=Modality.ASSERTED,
            spans=(span(TEXT, evidence),),
            quantity=Quantity(36, "aircraft") if stage is Stage.CONTRACT else None,
            speaker="Ann Smith" if stage is Stage.CONTRACT else None,
        )
        for stage, evidence in ((Stage.CONTRACT, CONTRACT), (Stage.DELIVERY, ARRIVED))
    ]
    with Register(f"sqlite:///{path}") as register:
        register.save_article(article, facts)
    return path


ZEPHYR_DEAL = deal_id("FRA", "IND", "Zephyr", 1)


# --- errors and exit codes -------------------------------------------------------------


def test_cli_input_error_is_one_line_exit_1(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    result = invoke("extract", str(missing))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"armsledger: error: {missing}: no such file or folder\n"


def test_cli_error_hint_goes_on_a_second_line(tmp_path: Path) -> None:
    odd = tmp_path / "article.pdf"
    odd.write_bytes(b"%PDF-1.4")
    result = invoke("extract", str(odd))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"armsledger: error: {odd}: unsupported file type '.pdf'; "
        "armsledger reads .txt, .html and .htm",
        "hint: give text or HTML articles, or a folder of them",
    ]


def test_cli_usage_errors_exit_2() -> None:
    assert invoke("extract").exit_code == 2
    assert invoke("export", "--what", "facts").exit_code == 2
    assert invoke("deals", "--stage", "sold").exit_code == 2
    assert invoke("deals", "--since", "last week").exit_code == 2
    assert invoke("no-such-command").exit_code == 2


def test_cli_config_error_from_the_environment(tmp_path: Path) -> None:
    result = invoke("deals", env={"ARMSLEDGER_DB": "mysql://host/db"})
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "armsledger: error: ARMSLEDGER_DB: unsupported database URL scheme 'mysql'"
    )
    assert len(result.stderr.splitlines()) == 1


def test_cli_every_command_has_help() -> None:
    assert invoke("--help").exit_code == 0
    for name, command in cli.commands.items():
        result = invoke(name, "--help")
        assert result.exit_code == 0, name
        assert command.help and command.help.strip(), name
        assert command.help.split("\n")[0].strip() in " ".join(result.stdout.split())


def test_cli_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("armsledger, version ")


# --- extract ---------------------------------------------------------------------------


def assert_format_json(document: dict[str, object], text: str, name: str) -> None:
    assert list(document) == ["article", "relevant", "facts"]
    assert document["article"] == name
    facts = document["facts"]
    assert isinstance(facts, list)
    assert document["relevant"] is bool(facts)
    for fact in facts:
        assert tuple(fact) == FACT_FIELDS
        assert fact["stage"] in STAGES and fact["modality"] in MODALITIES
        assert fact["evidence"] in text
        for side in ("supplier", "recipient"):
            assert fact[side] is None or re.fullmatch("[A-Z]{3}", fact[side])


def test_cli_extract_canonical_example_prints_format_json(shared_dir: Path) -> None:
    canonical = shared_dir / "examples" / "s400-turkey-shugaev.txt"
    result = invoke("extract", str(canonical))
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert_format_json(document, canonical.read_text(encoding="utf-8"), canonical.name)
    assert document["relevant"] is True


def test_cli_extract_several_files_prints_an_array(tmp_path: Path) -> None:
    paths = []
    for name in ("one.txt", "two.txt"):
        path = tmp_path / name
        path.write_text(TEXT, encoding="utf-8")
        paths.append(str(path))
    result = invoke("extract", *paths)
    assert result.exit_code == 0, result.stderr
    documents = json.loads(result.stdout)
    assert [d["article"] for d in documents] == ["one.txt", "two.txt"]
    for document in documents:
        assert_format_json(document, TEXT, document["article"])


def test_cli_extract_table(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text(TEXT, encoding="utf-8")
    result = invoke("extract", "--format", "table", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("one.txt: ")


def test_cli_extract_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "one.txt").write_text(TEXT, encoding="utf-8")
    assert invoke("extract", "one.txt").exit_code == 0
    assert not (tmp_path / "armsledger.db").exists()


# --- ingest ----------------------------------------------------------------------------


def test_cli_ingest_summary_and_exit_0(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT, encoding="utf-8")
    (folder / "b.txt").write_text("An unrelated article about the weather.", encoding="utf-8")
    (folder / "b.meta.json").write_text('{"date": "2020-01-02"}', encoding="utf-8")
    db = str(tmp_path / "r.db")
    result = invoke("ingest", str(folder), "--db", db)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "stored 2, unchanged 0, skipped 0, failed 0\n"
    again = invoke("ingest", str(folder), "--db", db)
    assert again.stdout == "stored 0, unchanged 2, skipped 0, failed 0\n"
    with Register(f"sqlite:///{db}") as register:
        assert sum(1 for _ in register.iter_articles()) == 2


def test_cli_ingest_failure_exits_1_with_its_reason(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(TEXT, encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    sidecar = tmp_path / "good.meta.json"
    sidecar.write_text("{}", encoding="utf-8")
    result = invoke("ingest", str(good), str(empty), str(sidecar), "--db", str(tmp_path / "r.db"))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "stored 1, unchanged 0, skipped 1, failed 1",
        f"failed: {empty}: empty file",
        f"skipped: {sidecar}: sidecar file, read with its article",
    ]


def test_cli_ingest_on_error_raise_stops_with_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = invoke("ingest", str(empty), "--on-error", "raise", "--db", str(tmp_path / "r.db"))
    assert result.exit_code == 1
    assert result.stderr == f"armsledger: error: {empty}: empty file\n"


def test_cli_ingest_max_bytes(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text(TEXT, encoding="utf-8")
    result = invoke("ingest", str(path), "--max-bytes", "10", "--db", str(tmp_path / "r.db"))
    assert result.exit_code == 1
    assert "failed 1" in result.stdout and "the limit is 10 bytes" in result.stdout


def test_cli_ingest_db_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    db = tmp_path / "from-env.db"
    result = invoke("ingest", str(path), env={"ARMSLEDGER_DB": str(db)})
    assert result.exit_code == 0, result.stderr
    assert db.is_file()


# --- deals and deal --------------------------------------------------------------------


def test_cli_deals_json(db: str) -> None:
    result = invoke("deals", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.stderr
    (deal,) = json.loads(result.stdout)
    assert deal["id"] == ZEPHYR_DEAL
    assert (deal["supplier"], deal["recipient"], deal["system"], deal["stage"]) == (
        "FRA",
        "IND",
        "Zephyr",
        "delivery",
    )
    assert [event["stage"] for event in deal["timeline"]] == ["contract", "delivery"]


@pytest.mark.parametrize(
    ("options", "found"),
    [
        ([], 1),
        (["--supplier", "fra"], 1),
        (["--supplier", "RUS"], 0),
        (["--recipient", "IND"], 1),
        (["--system", "Zephyr"], 1),
        (["--system", "S-400"], 0),
        (["--stage", "delivery"], 1),
        (["--stage", "contract"], 0),
        (["--since", "2019-01-01"], 1),
        (["--since", "2020-01-01"], 0),
    ],
)
def test_cli_deals_filters(db: str, options: list[str], found: int) -> None:
    result = invoke("deals", "--db", db, "--format", "json", *options)
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == found


def test_cli_deals_table(db: str) -> None:
    result = invoke("deals", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("deals: 1")
    assert ZEPHYR_DEAL in result.stdout and "Zephyr" in result.stdout
    assert invoke("deals", "--db", db, "--supplier", "RUS").stdout == "no deals\n"


def test_cli_deal_timeline(db: str) -> None:
    result = invoke("deal", ZEPHYR_DEAL, "--db", db)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"deal {ZEPHYR_DEAL}: FRA to IND, Zephyr, lot 1; stage delivery\n")
    assert "quantity 36 aircraft" in out
    for expected in ("2019-05-02", CONTRACT, ARRIVED, "Ann Smith", "https://example.org/zephyr"):
        assert expected in out  # [sic] in the evidence is text, not markup
    assert out.index("contract") < out.index(ARRIVED)


def test_cli_deal_shows_confidence_and_sources(db: str) -> None:
    out = invoke("deal", ZEPHYR_DEAL, "--db", db).stdout
    assert "\nconfidence 0.80\n" in out
    assert "\nsources asserting each stage: contract 1, delivery 1\n" in out
    assert "contradiction" not in out
    table = invoke("deals", "--db", db).stdout
    assert "confidence" in table and "0.80" in table


def test_cli_deal_json(db: str) -> None:
    result = invoke("deal", ZEPHYR_DEAL, "--db", db, "--format", "json")
    assert json.loads(result.stdout)["timeline"][1]["evidence"] == ARRIVED


def test_cli_deal_unknown_id(db: str) -> None:
    result = invoke("deal", "0123456789ab", "--db", db)
    assert result.exit_code == 1
    assert result.stderr == (
        "armsledger: error: no deal '0123456789ab' in the register\n"
        "hint: list them: armsledger deals\n"
    )


# --- export ----------------------------------------------------------------------------


def test_cli_export_facts_json_to_stdout(db: str) -> None:
    result = invoke("export", "--db", db, "--what", "facts", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["article"], r["deal"], r["stage"]) for r in rows] == [
        ("zephyr.txt", ZEPHYR_DEAL, "contract"),
        ("zephyr.txt", ZEPHYR_DEAL, "delivery"),
    ]


def test_cli_export_deals_csv_to_file(db: str, tmp_path: Path) -> None:
    out = tmp_path / "deals.csv"
    result = invoke(
        "export", "--db", db, "--what", "deals", "--format", "csv", "--output", str(out)
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    (row,) = csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))
    assert (row["id"], row["stage"], row["events"]) == (ZEPHYR_DEAL, "delivery", "2")


def test_cli_export_parquet(db: str, tmp_path: Path) -> None:
    out = tmp_path / "facts.parquet"
    result = invoke(
        "export", "--db", db, "--what", "facts", "--format", "parquet", "--output", str(out)
    )
    assert result.exit_code == 0, result.stderr
    assert pq.read_table(out).column("quantity_count").to_pylist() == [36, None]


def test_cli_export_flows_as_graphml(db: str, tmp_path: Path) -> None:
    import networkx as nx

    out = tmp_path / "flows.graphml"
    result = invoke(
        "export", "--db", db, "--what", "flows", "--format", "graphml", "--output", str(out)
    )
    assert result.exit_code == 0, result.stderr
    graph = nx.read_graphml(out)
    assert [(s, r, int(d["deals"])) for s, r, d in graph.edges(data=True)] == [("FRA", "IND", 1)]
    assert graph.nodes["IND"]["label"] == "India"


def test_cli_export_flows_only_as_a_graph(db: str) -> None:
    result = invoke("export", "--db", db, "--what", "flows", "--format", "csv")
    assert result.exit_code == 2
    assert "flows are written as graphml or gexf" in result.stderr


# --- evaluate --------------------------------------------------------------------------


def test_cli_evaluate_table_and_json(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    gold = {"article": "a.txt", "relevant": False, "facts": []}
    (tmp_path / "a.gold.json").write_text(json.dumps(gold), encoding="utf-8")
    table = invoke("evaluate", "--gold", str(tmp_path))
    assert table.exit_code == 0, table.stderr
    assert table.stdout.splitlines()[-1].startswith("fact F1")
    as_json = invoke("evaluate", "--gold", str(tmp_path), "--json")
    assert as_json.exit_code == 0, as_json.stderr
    scores = json.loads(as_json.stdout)
    assert scores["articles"] == 1 and scores["extractor"]
    assert set(scores) >= {"facts", "attributes", "relevance", "evidence", "per_article"}


def test_cli_evaluate_folder_without_gold(tmp_path: Path) -> None:
    result = invoke("evaluate", "--gold", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"armsledger: error: {tmp_path}: no *.gold.json files in it"
    )


def test_cli_evaluate_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    assert invoke("evaluate", "--gold", str(tmp_path / "absent")).exit_code == 2


# --- documentation ---------------------------------------------------------------------


def readme_sections() -> dict[str, str]:
    """The README's text under each ``### `armsledger COMMAND``` heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    parts = re.split(r"^### `armsledger (\S+)[^`]*`\s*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_cli_every_command_and_option_is_documented_in_readme() -> None:
    sections = readme_sections()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "--version" in readme and "ARMSLEDGER_DB" in readme
    for name, command in cli.commands.items():
        assert name in sections, f"README has no section for armsledger {name}"
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    assert opt in sections[name], f"armsledger {name} {opt} is not in README"
                if isinstance(param.type, click.Choice):
                    for choice in param.type.choices:
                        assert str(choice) in sections[name], f"{name} {opt} {choice}"
    assert set(sections) == set(cli.commands), "README documents a command that does not exist"


def test_cli_readme_opens_with_the_two_setup_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, flags=re.S)
    run, test = blocks[0], blocks[1]
    assert run == (
        "python3 -m venv .venv && .venv/bin/pip install -e . && "
        ".venv/bin/armsledger ingest samples && .venv/bin/armsledger deals"
    )
    assert test == (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest"
    )
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()
    assert (ROOT / "samples").is_dir()


def test_cli_deals_left_stale_by_a_killed_run_are_merged_before_reading(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    article = Article(id="a.txt", text=TEXT, date=dt.date(2019, 5, 1))
    fact = Fact(
        article_id="a.txt",
        supplier="FRA",
        recipient="IND",
        system="Rafale",
        stage=Stage.CONTRACT,
        modality=Modality.ASSERTED,
        spans=(span(TEXT, CONTRACT),),
    )
    with Register(f"sqlite:///{db}") as register:  # as a run killed before it merged
        register.save_article(article, [fact], defer_deals=True)
        assert register.counts()["deals"] == 0
    result = invoke("deals", "--db", str(db), "--format", "json")
    assert result.exit_code == 0, result.output
    (deal,) = json.loads(result.output)
    assert (deal["supplier"], deal["recipient"], deal["system"]) == ("FRA", "IND", "Rafale")
    assert deal["stage"] == "contract"
    with Register(f"sqlite:///{db}") as register:
        assert register.stale_deals() == 0
