"""Changes since a date, watchlists, and alerts to stdout, a file and a webhook."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import MakeFact

from armsledger.alerts import (
    Rule,
    find_changes,
    load_watchlist,
    match_alerts,
    post_webhook,
    stage_as_of,
)
from armsledger.cli import cli
from armsledger.errors import ArmsLedgerError, InputError
from armsledger.model import Article, Modality, Stage, deal_id
from armsledger.store import Register

S400_TUR = deal_id("RUS", "TUR", "S-400", 1)

DENIAL = Article(
    id="denial.txt",
    text="Ankara denied that any S-400 batteries had been delivered.\n",
    date=dt.date(2020, 2, 1),
)
HIMARS = Article(
    id="himars.txt",
    text="Washington approved the sale of HIMARS launchers to Poland.\n",
    date=dt.date(2021, 5, 3),
)


@pytest.fixture
def filled(
    register: Register,
    make_fact: MakeFact,
    contract_article: Article,
    delivery_article: Article,
) -> Register:
    """RUS→TUR S-400: contract 2017, delivery 2019, a denial of delivery 2020; USA→POL
    HIMARS approved 2021."""
    register.save_article(
        contract_article,
        [make_fact(contract_article, "signed a contract", stage=Stage.CONTRACT)],
    )
    register.save_article(
        delivery_article, [make_fact(delivery_article, "had arrived from Russia")]
    )
    register.save_article(
        DENIAL, [make_fact(DENIAL, "denied", modality=Modality.DENIED, stage=Stage.DELIVERY)]
    )
    register.save_article(
        HIMARS,
        [
            make_fact(
                HIMARS,
                "approved the sale",
                supplier="USA",
                recipient="POL",
                system="HIMARS",
                stage=Stage.APPROVAL,
            )
        ],
    )
    return register


def kinds(register: Register, since: dt.date) -> list[tuple[str, str, str | None]]:
    found = find_changes(register.iter_deals(), since)
    return [(c.kind, c.deal.id, c.date.isoformat() if c.date else None) for c in found]


def test_alerts_stage_as_of_uses_events_before_the_date(filled: Register) -> None:
    deal = filled.get_deal(S400_TUR)
    assert deal is not None
    assert stage_as_of(deal, dt.date(2018, 1, 1)) is Stage.CONTRACT
    assert stage_as_of(deal, dt.date(2017, 9, 12)) is None
    assert deal.stage is Stage.DELIVERY


def test_alerts_changes_since_date(filled: Register) -> None:
    himars = deal_id("USA", "POL", "HIMARS", 1)
    assert kinds(filled, dt.date(2018, 1, 1)) == [
        ("stage", S400_TUR, "2019-07-12"),
        ("contradiction", S400_TUR, "2020-02-01"),
        ("new", himars, "2021-05-03"),
    ]
    change = find_changes(filled.iter_deals(), dt.date(2018, 1, 1))[0]
    assert change.previous_stage is Stage.CONTRACT
    assert change.to_dict()["previous_stage"] == "contract"


def test_alerts_new_deal_is_not_also_a_stage_change(filled: Register) -> None:
    found = kinds(filled, dt.date(2017, 1, 1))
    assert [k for k, d, _ in found if d == S400_TUR] == ["new", "contradiction"]


def test_alerts_no_changes_after_last_report(filled: Register) -> None:
    assert kinds(filled, dt.date(2022, 1, 1)) == []


def test_alerts_contradiction_only_when_an_article_is_recent(filled: Register) -> None:
    assert [k for k, _, _ in kinds(filled, dt.date(2020, 2, 2))] == ["new"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watch.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_alerts_load_watchlist_resolves_states_and_families(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rules:\n"
        "  - name: air defence from Russia\n"
        "    supplier: Russia\n"
        "    category: air defence system\n"
        "  - name: rockets\n"
        "    recipient: [Poland, ROU]\n"
        "    system: himars\n",
    )
    assert load_watchlist(path) == [
        Rule("air defence from Russia", supplier=("RUS",), category=("air defence system",)),
        Rule("rockets", recipient=("POL", "ROU"), system=("HIMARS",)),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "the watchlist is not YAML at line 1"),
        ("- name: x", "a watchlist is a mapping with a non-empty list of 'rules'"),
        ("rules:\n  - supplier: RUS\n", "rule 1 has no name"),
        (
            "rules:\n  - {name: a, vendor: RUS}\n",
            "rule 'a' has unknown field vendor; allowed: name, supplier, recipient, system, "
            "category",
        ),
        ("rules:\n  - {name: a}\n", "rule 'a' names none of supplier, recipient, system, category"),
        (
            "rules:\n  - {name: a, supplier: Atlantis}\n",
            "rule 'a' supplier 'Atlantis' is not a state",
        ),
        ("rules:\n  - {name: a, category: tanks}\n", "rule 'a' category 'tanks' is not one of: "),
        ("rules:\n  - {name: a, system: [1]}\n", "rule 'a' system must be a string or a list"),
        (
            "rules:\n  - {name: a, system: S-400}\n  - {name: a, system: F-16}\n",
            "rule name 'a' is used more than once",
        ),
    ],
)
def test_alerts_bad_watchlist_is_one_input_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_watchlist(path)
    assert str(caught.value).startswith(f"{path}: {message}")
    assert "\n" not in str(caught.value)


def test_alerts_missing_watchlist(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.yaml: cannot read the watchlist"):
        load_watchlist(tmp_path / "missing.yaml")


def test_alerts_match_by_category_and_state(filled: Register) -> None:
    found = find_changes(filled.iter_deals(), dt.date(2017, 1, 1))
    rules = [
        Rule("air defence", category=("air defence system",)),
        Rule("to Poland", recipient=("POL",)),
        Rule("nobody", supplier=("FRA",)),
    ]
    matched = [(a.change.kind, a.rules) for a in match_alerts(found, rules)]
    assert matched == [
        ("new", ("air defence",)),
        ("contradiction", ("air defence",)),
        ("new", ("to Poland",)),
    ]


# -- the commands ---------------------------------------------------------------------------


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def db(filled: Register, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'register.db'}"


WATCHLIST = "rules:\n  - name: turkey\n    recipient: Turkey\n"


def test_alerts_changes_command_json_and_table(db: str) -> None:
    result = invoke("changes", "--db", db, "--since", "2018-01-01", "--format", "json")
    assert result.exit_code == 0
    assert [c["kind"] for c in json.loads(result.stdout)] == ["stage", "contradiction", "new"]
    result = invoke("changes", "--db", db, "--since", "2018-01-01")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == (
        "changes since 2018-01-01: 3 (new 1, stage 1, contradiction 1)"
    )
    assert "was contract" in result.stdout


def test_alerts_command_writes_json_lines(db: str, tmp_path: Path) -> None:
    watchlist = write(tmp_path, WATCHLIST)
    result = invoke("alerts", "--db", db, "--watchlist", str(watchlist), "--since", "2018-01-01")
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(a["rules"], a["kind"], a["deal"]) for a in lines] == [
        (["turkey"], "stage", S400_TUR),
        (["turkey"], "contradiction", S400_TUR),
    ]
    assert result.stderr == "alerts: 2 of 3 changes\n"


def test_alerts_command_appends_to_output_file(db: str, tmp_path: Path) -> None:
    watchlist, out = write(tmp_path, WATCHLIST), tmp_path / "alerts.jsonl"
    for _ in range(2):
        args = ["--watchlist", str(watchlist), "--since", "2018-01-01", "--output", str(out)]
        assert invoke("alerts", "--db", db, *args).exit_code == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4


class _Recorder(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """A local server on 127.0.0.1 recording POSTs, served until the test ends."""
    received: list[tuple[str, str, bytes]] = []
    handler = type("Recorder", (_Recorder,), {"received": received})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_alerts_command_posts_to_webhook(
    db: str, tmp_path: Path, webhook: tuple[str, list[tuple[str, str, bytes]]]
) -> None:
    url, received = webhook
    watchlist = write(tmp_path, WATCHLIST)
    args = ["--watchlist", str(watchlist), "--since", "2018-01-01", "--webhook", url]
    result = invoke("alerts", "--db", db, *args)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert [(p, t) for p, t, _ in received] == [("/hook", "application/json")] * 2
    assert [json.loads(body)["kind"] for _, _, body in received] == ["stage", "contradiction"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_alerts_webhook_down_is_one_line_error(db: str, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    watchlist = write(tmp_path, WATCHLIST)
    args = ["--watchlist", str(watchlist), "--since", "2018-01-01", "--webhook", url]
    result = invoke("alerts", "--db", db, *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"armsledger: error: webhook {url}: cannot post (")
    assert len(result.stderr.splitlines()) == 1


def test_alerts_webhook_needs_http_url(filled: Register) -> None:
    with pytest.raises(ArmsLedgerError, match="webhook ftp://x: not an http"):
        post_webhook([], "ftp://x")


def test_alerts_bad_watchlist_on_command_line(db: str, tmp_path: Path) -> None:
    watchlist = write(tmp_path, "rules: []\n")
    result = invoke("alerts", "--db", db, "--watchlist", str(watchlist), "--since", "2018-01-01")
    assert result.exit_code == 1
    assert result.stderr == (
        f"armsledger: error: {watchlist}: a watchlist is a mapping with a non-empty list "
        "of 'rules'\n"
    )
