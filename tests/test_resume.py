"""An ingest killed with SIGKILL half way leaves a consistent register, and a rerun
completes it without duplicates. The articles are generated here (random invented words
around a transfer sentence), never copied from anywhere."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ARMSLEDGER = [sys.executable, "-c", "from armsledger.cli import main; main()"]

WORDS = [
    "officials",
    "ministry",
    "said",
    "week",
    "report",
    "plans",
    "budget",
    "coast",
    "harbour",
    "convoy",
    "crews",
    "exercise",
    "range",
    "radar",
    "spare",
    "parts",
    "factory",
    "engineers",
    "border",
    "patrol",
    "season",
    "weather",
    "talks",
    "envoy",
    "parliament",
    "committee",
    "summit",
    "statement",
    "analysts",
    "experts",
    "capital",
    "region",
    "forces",
    "navy",
]

SENTENCES = [
    "Russia signed a contract to supply {n} S-400 batteries to Turkey.",
    "India received the first {n} Rafale jets from France.",
    "The United States approved the sale of {n} HIMARS launchers to Taiwan.",
]


def make_dump(path: Path, count: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            words = " ".join(rng.choice(WORDS) for _ in range(40))
            text = f"{words.capitalize()}. {rng.choice(SENTENCES).format(n=i + 2)} {i}\n"
            out.write(json.dumps({"id": f"g{i}", "text": text, "date": "2024-01-02"}) + "\n")


def check_consistent(db: Path) -> int:
    """Every stored article has its facts and deals, nothing half written; the count.

    A deal not yet merged again since its last facts (the run was killed before it merged
    them) is marked stale, for the next run to merge."""
    with sqlite3.connect(db) as conn:
        articles = conn.execute("SELECT count(*), count(DISTINCT content_hash) FROM articles")
        total, distinct = articles.fetchone()
        assert total == distinct
        bare = conn.execute(
            "SELECT count(*) FROM articles a WHERE relevant AND NOT EXISTS "
            "(SELECT 1 FROM facts f WHERE f.article_id = a.id)"
        ).fetchone()[0]
        assert bare == 0
        orphan = conn.execute(
            "SELECT count(*) FROM facts f WHERE NOT EXISTS "
            "(SELECT 1 FROM deals d WHERE d.id = f.deal_id) AND NOT EXISTS "
            "(SELECT 1 FROM stale_deals s WHERE s.deal_id = f.deal_id)"
        ).fetchone()[0]
        assert orphan == 0
        wrong = conn.execute(
            "SELECT count(*) FROM deals d WHERE n_facts != "
            "(SELECT count(*) FROM facts f WHERE f.deal_id = d.id) AND NOT EXISTS "
            "(SELECT 1 FROM stale_deals s WHERE s.deal_id = d.id)"
        ).fetchone()[0]
        assert wrong == 0
        unsigned = conn.execute(
            "SELECT count(*) FROM articles a WHERE NOT EXISTS "
            "(SELECT 1 FROM article_signatures s WHERE s.article_id = a.id)"
        ).fetchone()[0]
        assert unsigned == 0
        return int(total)


@pytest.mark.slow
def test_resume_after_kill_9_is_consistent_and_completes(tmp_path: Path) -> None:
    dump = tmp_path / "generated.jsonl"
    make_dump(dump, 2000)
    db = tmp_path / "r.db"
    process = subprocess.Popen(
        [*ARMSLEDGER, "ingest", str(dump), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        try:
            with sqlite3.connect(db, timeout=1) as conn:
                stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        except sqlite3.Error:
            continue
        if stored >= 200:
            break
    assert process.poll() is None, "the ingest ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    partial = check_consistent(db)
    assert 200 <= partial < 2000
    rejects = tmp_path / "rejects.jsonl"
    done = subprocess.run(
        [*ARMSLEDGER, "ingest", str(dump), "--db", str(db), "--rejects", str(rejects)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    first = done.stdout.splitlines()[0]
    assert first == f"stored {2000 - partial}, unchanged {partial}, skipped 0, failed 0"
    assert check_consistent(db) == 2000
    with sqlite3.connect(db) as conn:  # every deal merged at the end of the run
        assert conn.execute("SELECT count(*) FROM stale_deals").fetchone()[0] == 0
    assert rejects.read_text(encoding="utf-8") == ""


def test_resume_rejects_file_lists_failed_records(tmp_path: Path) -> None:
    dump = tmp_path / "d.jsonl"
    dump.write_text('{"text": "Short invented text."}\n{oops\n', encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    done = subprocess.run(
        [
            *ARMSLEDGER,
            "ingest",
            str(dump),
            "--db",
            str(tmp_path / "r.db"),
            "--rejects",
            str(rejects),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == "stored 1, unchanged 0, skipped 0, failed 1"
    (line,) = rejects.read_text(encoding="utf-8").splitlines()
    assert json.loads(line) == {
        "source": f"{dump}:2",
        "status": "failed",
        "reason": f"{dump}:2: malformed JSON (Expecting property name enclosed in double "
        "quotes at column 2)",
    }
