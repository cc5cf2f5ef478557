"""``batch``: partitions of the inputs read and extracted as Dask tasks, one writer."""

from __future__ import annotations

import gzip
import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SAMPLES, register_snapshot

from armsledger import parallel
from armsledger.batch import ingest_paths
from armsledger.cli import cli
from armsledger.errors import ConfigError, StoreError
from armsledger.readers import ReadOptions
from armsledger.store import Register


def _inputs(shared_dir: Path) -> list[Path]:
    """The dev set's articles (named with their sidecars, as ``dev/*`` names them) and the
    samples folder: texts, metadata, and sidecars skipped."""
    return [*sorted((shared_dir / "dev").glob("a0[0-2]*")), SAMPLES]


def test_parallel_plan_partitions_is_stable_and_keeps_feeds_alone_and_dumps_apart(
    tmp_path: Path,
) -> None:
    for name in ("a.txt", "b.txt", "c.txt", "feed.xml", "dump.jsonl", "crawl.warc.gz"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    named = ("a.txt", "feed.xml", "dump.jsonl", "crawl.warc.gz")
    inputs = [tmp_path, *(tmp_path / name for name in named)]
    plan = parallel.plan_partitions(inputs, 2)
    assert plan == parallel.plan_partitions(inputs, 2)
    files = sorted(str(p) for part in plan.groups[:2] for p in part)
    assert files == [str(tmp_path / n) for n in ("a.txt", "b.txt", "c.txt")]
    assert plan.groups[2:] == [[str(tmp_path / "feed.xml")]]
    assert sorted(plan.dumps) == [str(tmp_path / "crawl.warc.gz"), str(tmp_path / "dump.jsonl")]
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


def _copies(folder: Path, shared_dir: Path) -> list[Path]:
    """A relevant article, the same text at another URL, a wire copy of it (one word
    changed) and the same copy again: outcomes that depend on what came before."""
    text = sorted((shared_dir / "dev").glob("a0*.txt"))[0].read_text(encoding="utf-8")
    folder.mkdir()
    (folder / "a.txt").write_text(text, encoding="utf-8")
    (folder / "b.txt").write_text(text, encoding="utf-8")
    (folder / "b.meta.json").write_text('{"url": "https://b.example/1"}', encoding="utf-8")
    words = text.split(" ")
    words[len(words) // 2] = "meanwhile"
    copy = " ".join(words)
    (folder / "c.txt").write_text(copy, encoding="utf-8")
    (folder / "d.txt").write_text(copy, encoding="utf-8")
    return [folder]


def _outcomes(summary: object) -> list[tuple[str, str, str | None, int]]:
    return sorted((o.source, o.status, o.reason, o.facts) for o in summary.outcomes)  # type: ignore[attr-defined]


def test_parallel_partition_in_one_transaction_has_ingest_outcomes(
    tmp_path: Path, shared_dir: Path
) -> None:
    inputs = [*_copies(tmp_path / "news", shared_dir), *_inputs(shared_dir)]
    url = f"sqlite:///{tmp_path / 'batch.db'}"
    with Register(url) as register:
        report = parallel.batch_paths(inputs, register, engine="local", partitions=1)
        sources = register.iter_sources()
    plain = f"sqlite:///{tmp_path / 'plain.db'}"
    with Register(plain) as register:
        summary = ingest_paths(inputs, register)
        assert sources == register.iter_sources()
    assert {o.status for o in summary.outcomes} >= {"stored", "duplicate", "unchanged"}
    assert _outcomes(report.summary) == _outcomes(summary)
    assert register_snapshot(url) == register_snapshot(plain)


def test_parallel_partition_refused_whole_is_saved_one_by_one(
    tmp_path: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _inputs(shared_dir)

    def refuse(self: Register, *args: object, **kwargs: object) -> object:
        raise StoreError("refused")

    monkeypatch.setattr(Register, "save_many", refuse)
    url = f"sqlite:///{tmp_path / 'batch.db'}"
    with Register(url) as register:
        report = parallel.batch_paths(inputs, register, engine="local", partitions=2)
        assert register.finished_partitions(report.run) == {0, 1}
    plain = f"sqlite:///{tmp_path / 'plain.db'}"
    with Register(plain) as register:
        summary = ingest_paths(inputs, register)
    assert report.summary.tally == summary.tally  # which copy comes first may differ
    assert register_snapshot(url) == register_snapshot(plain)


def test_parallel_partition_cut_off_while_written_keeps_nothing_of_it(
    tmp_path: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from armsledger import store

    inputs = _inputs(shared_dir)
    url = f"sqlite:///{tmp_path / 'batch.db'}"
    real = store._mark_stale

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # not an error of the register: no retry one by one

    monkeypatch.setattr(store, "_mark_stale", crash)
    with Register(url) as register, pytest.raises(KeyboardInterrupt):
        parallel.batch_paths(inputs, register, engine="local", partitions=2)
    with Register(url) as register:
        assert register.counts()["articles"] == 0
    monkeypatch.setattr(store, "_mark_stale", real)
    with Register(url) as register:
        report = parallel.batch_paths(inputs, register, engine="local", partitions=2)
    plain = f"sqlite:///{tmp_path / 'plain.db'}"
    with Register(plain) as register:
        summary = ingest_paths(inputs, register)
    assert report.resumed == 0
    assert report.summary.tally == summary.tally  # nothing was left half written
    assert register_snapshot(url) == register_snapshot(plain)


def _dump(path: Path, shared_dir: Path, n: int) -> Path:
    """A JSON Lines dump of ``n`` development articles, one a line."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((shared_dir / "dev").glob("a*.txt"))]
    lines = [
        json.dumps({"id": f"r{i}", "text": texts[i % len(texts)] + f"\n\n({i})"}) for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_parallel_one_large_dump_is_read_as_it_goes_in_partitions_of_records(
    tmp_path: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = _dump(tmp_path / "news.jsonl", shared_dir, 23)
    pulled: list[int] = []
    real_records, real_extract = parallel.iter_records, parallel.extract_partition

    def counting(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for record in real_records(*args, **kwargs):
            pulled.append(1)
            yield record

    sizes: list[tuple[int, int, int]] = []

    def extract(partition: int, inputs: list[Any], options: ReadOptions) -> Any:
        sizes.append((partition, len(inputs), len(pulled)))
        return real_extract(partition, inputs, options)

    monkeypatch.setattr(parallel, "iter_records", counting)
    monkeypatch.setattr(parallel, "extract_partition", extract)
    url = f"sqlite:///{tmp_path / 'batch.db'}"
    with Register(url) as register:
        report = parallel.batch_paths([dump], register, engine="local", records=5)
    assert report.partitions == 5
    assert [(number, size) for number, size, _ in sizes] == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 3)]
    assert [read for _, _, read in sizes] == [5, 10, 15, 20, 23]  # never read ahead
    plain = f"sqlite:///{tmp_path / 'plain.db'}"
    with Register(plain) as register:
        summary = ingest_paths([dump], register)
    assert report.summary.tally == summary.tally
    assert register_snapshot(url)["facts"]
    assert register_snapshot(url) == register_snapshot(plain)


def test_parallel_dump_resumes_after_a_crash_from_its_first_unfinished_partition(
    tmp_path: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = _dump(tmp_path / "news.jsonl", shared_dir, 12)
    real = parallel.extract_partition
    seen: list[int] = []

    def crash_on_third(partition: int, inputs: list[Any], options: ReadOptions) -> Any:
        seen.append(partition)
        if partition == 2:
            raise RuntimeError("worker lost")
        return real(partition, inputs, options)

    monkeypatch.setattr(parallel, "extract_partition", crash_on_third)
    url = f"sqlite:///{tmp_path / 'batch.db'}"
    with Register(url) as register, pytest.raises(RuntimeError):
        parallel.batch_paths([dump], register, engine="local", records=3)
    monkeypatch.setattr(parallel, "extract_partition", real)
    with Register(url) as register:
        report = parallel.batch_paths([dump], register, engine="local", records=3)
        assert register.finished_partitions(report.run) == {0, 1, 2, 3}
    assert (report.partitions, report.resumed) == (4, 2)
    assert report.summary.stored == 6  # partitions 2 and 3, not again 0 and 1
    plain = f"sqlite:///{tmp_path / 'plain.db'}"
    with Register(plain) as register:
        ingest_paths([dump], register)
    assert register_snapshot(url) == register_snapshot(plain)


def test_parallel_changed_dump_is_another_run(tmp_path: Path, shared_dir: Path) -> None:
    dump = _dump(tmp_path / "news.jsonl", shared_dir, 4)
    plan = parallel.plan_partitions([dump])
    before = parallel.run_id(plan, ReadOptions())
    assert parallel.run_id(plan, ReadOptions(), 2) != before
    _dump(dump, shared_dir, 5)
    assert parallel.run_id(plan, ReadOptions()) != before


@pytest.mark.dask
def test_parallel_dask_splits_archives_and_broken_dumps_as_ingest_reads_them(
    tmp_path: Path, shared_dir: Path
) -> None:
    from test_readers import write_warc

    texts = [p.read_text(encoding="utf-8") for p in sorted((shared_dir / "dev").glob("a*.txt"))]
    pages = [
        (
            f"https://news.example/{i}",
            "text/html; charset=utf-8",
            "<html><body><article>{}</article></body></html>".format(
                "".join(f"<p>{html.escape(par)}</p>" for par in text.split("\n\n"))
            ).encode("utf-8"),
        )
        for i, text in enumerate(texts[:7])
    ]
    pages.insert(3, ("https://news.example/logo.png", "image/png", b"\x89PNG\r\n"))
    write_warc(tmp_path / "crawl.warc.gz", pages)
    broken = tmp_path / "cut.jsonl.gz"
    full = _dump(tmp_path / "whole.jsonl", shared_dir, 9).read_bytes()
    data = gzip.compress(full)
    broken.write_bytes(data[: len(data) * 2 // 3])
    inputs = [str(tmp_path / "crawl.warc.gz"), str(broken)]
    batched = tmp_path / "batch.db"
    result = CliRunner().invoke(
        cli, ["batch", *inputs, "--db", str(batched), "--partition-records", "2"]
    )
    assert result.exit_code == 1, result.output  # the broken dump is a failure
    assert "cut.jsonl.gz: truncated or corrupt" in result.output
    plain = tmp_path / "plain.db"
    ingested = CliRunner().invoke(cli, ["ingest", *inputs, "--db", str(plain)])
    assert result.output.splitlines()[0] == ingested.output.splitlines()[0]  # the same counts
    snapshot = register_snapshot(f"sqlite:///{batched}")
    assert snapshot["facts"]
    assert snapshot == register_snapshot(f"sqlite:///{plain}")


def test_parallel_an_extractor_fault_fails_its_article_and_the_partition_goes_on(
    tmp_path: Path, shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from armsledger import extract

    dump = _dump(tmp_path / "news.jsonl", shared_dir, 4)
    real = extract._extract

    def broken_on_second(article: Any, catalog: Any) -> Any:
        if article.id == "r1":
            raise KeyError("lot")
        return real(article, catalog)

    monkeypatch.setattr(extract, "_extract", broken_on_second)
    with Register(f"sqlite:///{tmp_path / 'batch.db'}") as register:
        report = parallel.batch_paths([dump], register, engine="local", records=2, keep="problems")
        assert register.finished_partitions(report.run) == {0, 1}
        assert register.counts()["articles"] == 3
    assert (report.summary.stored, report.summary.failed) == (3, 1)
    (failure,) = report.summary.outcomes
    assert failure.source == f"{dump}:2"
    assert "the extractor failed on this article (KeyError: 'lot')" in (failure.reason or "")
