"""The register on a real PostgreSQL server: migrations, the CLI, the API, and concurrent
writers. Marked ``postgres``; skipped, with the reason, where ``ARMSLEDGER_TEST_PG_URL``
names no server (``.ci/run`` starts one)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner, Result
from conftest import SAMPLES, register_snapshot
from fastapi.testclient import TestClient

from armsledger import migrations, store
from armsledger.api import create_app
from armsledger.cli import cli
from armsledger.store import Register

pytestmark = pytest.mark.postgres


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"))


def test_postgres_migrates_an_empty_database_to_the_declared_schema(pg_url: str) -> None:
    with Register(pg_url):
        pass
    engine = _engine(pg_url)
    try:
        with engine.connect() as conn:
            assert migrations.current_revision(conn) == migrations.head_revision()
            assert compare_metadata(MigrationContext.configure(conn), store.metadata) == []
    finally:
        engine.dispose()


def test_postgres_concurrent_openers_migrate_once(pg_url: str) -> None:
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            with Register(pg_url) as register:
                register.counts()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def _cli_run(db: str) -> dict[str, Any]:
    ingested = invoke("ingest", str(SAMPLES), "--db", db)
    assert ingested.exit_code == 0, ingested.output
    deals = invoke("deals", "--db", db, "--format", "json")
    facts = invoke("export", "--db", db, "--what", "facts", "--format", "json")
    exported = invoke("export", "--db", db, "--what", "deals", "--format", "json")
    assert deals.exit_code == facts.exit_code == exported.exit_code == 0
    return {
        "summary": ingested.output.splitlines()[0],
        "deals": json.loads(deals.output),
        "facts": json.loads(facts.output),
        "exported": json.loads(exported.output),
    }


def test_postgres_cli_ingest_deals_export_as_on_sqlite(pg_url: str, tmp_path: Path) -> None:
    on_postgres = _cli_run(pg_url)
    on_sqlite = _cli_run(str(tmp_path / "register.db"))
    assert on_postgres["deals"], "the samples hold deals"
    assert on_postgres == on_sqlite
    again = invoke("ingest", str(SAMPLES), "--db", pg_url)
    assert again.exit_code == 0
    assert again.output.startswith("stored 0, unchanged ")


def test_postgres_api_lists_deals_as_on_sqlite(pg_url: str, tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'register.db'}"
    pages = []
    for url in (pg_url, sqlite_url):
        assert invoke("ingest", str(SAMPLES), "--db", url).exit_code == 0
        with TestClient(create_app(url)) as client:
            answer = client.get("/api/deals", params={"sort": "system", "descending": "false"})
            assert answer.status_code == 200
            pages.append(answer.json())
    assert pages[0]["total"] > 0
    assert pages[0] == pages[1]


def test_postgres_two_concurrent_ingests_equal_a_serial_run(
    pg_url: str, tmp_path: Path, shared_dir: Path
) -> None:
    articles = sorted((shared_dir / "dev").glob("*.txt"))
    third = len(articles) // 3
    first, second = articles[: 2 * third], articles[third:]  # overlapping in the middle
    command = [sys.executable, "-c", "from armsledger.cli import main; main()", "ingest"]
    processes = [
        subprocess.Popen(
            [*command, *map(str, part), "--db", pg_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for part in (first, second)
    ]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, out + err
    serial = f"sqlite:///{tmp_path / 'serial.db'}"
    assert invoke("ingest", *map(str, articles), "--db", serial).exit_code == 0
    concurrent, expected = register_snapshot(pg_url), register_snapshot(serial)
    assert expected["facts"] and expected["deals"]
    assert concurrent == expected


def test_postgres_two_concurrent_batches_equal_a_serial_run(
    pg_url: str, tmp_path: Path, shared_dir: Path
) -> None:
    """Two ``batch`` writers, each a transaction per partition, over overlapping inputs."""
    articles = sorted((shared_dir / "dev").glob("*.txt"))
    third = len(articles) // 3
    first, second = articles[: 2 * third], articles[third:]  # overlapping in the middle
    command = [sys.executable, "-c", "from armsledger.cli import main; main()", "batch"]
    processes = [
        subprocess.Popen(
            [*command, *map(str, part), "--db", pg_url, "--engine", "local", "--partitions", "3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for part in (first, second)
    ]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, out + err
    serial = f"sqlite:///{tmp_path / 'serial.db'}"
    assert invoke("ingest", *map(str, articles), "--db", serial).exit_code == 0
    concurrent, expected = register_snapshot(pg_url), register_snapshot(serial)
    assert expected["facts"] and expected["deals"]
    assert concurrent == expected
