"""``batch``: partitions of the inputs read and extracted as Dask tasks, one writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLES, register_snapshot

from armsledger import parallel
from armsledger.batch import ingest_paths
from armsledger.cli import cli
from armsledger.errors import ConfigError
from armsledger.readers import ReadOptions
from armsledger.store import Register


def _inputs(shared_dir: Path) -> list[Path]:
    """The dev set's articles (named with their sidecars, as ``dev/*`` names them) and the
    samples folder: texts, metadata, and sidecars skipped."""
    return [*sorted((shared_dir / "dev").glob("a0[0-2]*")), SAMPLES]


def test_parallel_plan_partitions_is_stable_and_keeps_streams_alone(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "c.txt", "feed.xml", "dump.jsonl"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    inputs = [tmp_path, tmp_path / "a.txt", tmp_path / "feed.xml", tmp_path / "dump.jsonl"]
    planned = parallel.plan_partitions(inputs, 2)
    assert planned == parallel.plan_partitions(inputs, 2)
    files = sorted(str(p) for part in planned[:2] for p in part)
    assert files == [str(tmp_path / n) for n in ("a.txt", "b.txt", "c.txt")]
    assert sorted(planned[2:]) == [[str(tmp_path / "dump.jsonl")], [str(tmp_path / "feed.xml")]]
    with pytest.raises(ConfigError):
        parallel.plan_partitions([tmp_path], 0)


def test_parallel_local_engine_resumes_after_a_crash_by_partition(
    tmp_path: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _inputs(shared_dir)
    url = f"sqlite:///{tmp_path / 'batch.db'}"
    real = parallel.extract_partition

    def crash_on_third(partition: int, values: list[str], options: ReadOptions) -> object:
        if partition == 2:
            raise RuntimeError("worker lost")
        return real(partition, values, options)

    monkeypatch.setattr(parallel, "extract_partition", crash_on_third)
    with Register(url) as register, pytest.raises(RuntimeError):
        parallel.batch_paths(inputs, register, engine="local", partitions=4)
    monkeypatch.setattr(parallel, "extract_partition", real)
    with Register(url) as register:
        report = parallel.batch_paths(inputs, register, engine="local", partitions=4)
    assert (report.partitions, report.resumed) == (4, 2)
    assert report.summary.failed == 0
    plain = f"sqlite:///{tmp_path / 'plain.db'}"
    with Register(plain) as register:
        ingest_paths(inputs, register)
    assert register_snapshot(url) == register_snapshot(plain)


@pytest.mark.dask
def test_parallel_dask_batch_on_two_workers_equals_ingest(tmp_path: Path, shared_dir: Path) -> None:
    inputs = [str(path) for path in _inputs(shared_dir)]
    batched = tmp_path / "batch.db"
    result = CliRunner().invoke(
        cli, ["batch", *inputs, "--db", str(batched), "--partitions", "3", "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "partitions 3, resumed 0 (finished by an earlier run of the same inputs)"
    plain = tmp_path / "plain.db"
    ingested = CliRunner().invoke(cli, ["ingest", *inputs, "--db", str(plain)])
    assert ingested.exit_code == 0
    assert lines[0] == ingested.output.splitlines()[0]  # the same counts
    snapshot = register_snapshot(f"sqlite:///{batched}")
    assert snapshot["facts"] and snapshot["deals"]
    assert snapshot == register_snapshot(f"sqlite:///{plain}")
