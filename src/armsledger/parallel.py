"""Batch over many processes or machines: reading and extraction as Dask tasks, one writer.

The inputs (files, folders, feed URLs, dumps, archives) are planned into partitions
(:func:`plan_partitions`): article files go round robin into groups, and a feed is a group
of its own; a worker reads a group's inputs itself. Dumps (JSONL, CSV) and web archives
(WARC), which may hold millions of records, are read here as they are needed and sent to
the workers :data:`RECORDS_PER_PARTITION` records at a time (for an archive, its pages as
stored: trafilatura reads them on the worker), so however large one dump is, it is spread
over the cluster and no partition holds more than that many records. A task
(:func:`extract_partition`) runs on a worker what ``ingest`` runs: the readers, language
detection, the relevance gate and the extractor (``rules.v1``), and the MinHash signature
for wire copies. The catalog, cue words and language detector are loaded once per worker
process (they are cached in the process) and kept for every later task.

The client is the one writer: it saves each finished partition through the same
:class:`armsledger.batch.Writer` as ``ingest`` (so duplicates, rejects and outcomes are the
same), but in one transaction per partition (:meth:`armsledger.batch.Writer.together`):
its articles, facts, spans, signatures, further sources and rejects, each deal it touches
recomputed once, and the partition recorded as finished in the register
(``batch_partitions``), all at one commit. At most two partitions per worker are in flight
and a partition's results are released once written, so memory stays bounded by the
partition size, on the workers and on the client, whatever the size of the inputs.

A run is known by its partitions (a hash of the inputs, how they are split, and the size
and modification time of each dump): started again with the same inputs and options after
a crash, it skips the partitions recorded as finished (a dump's finished partitions are
read again here but not sent); a partition is written whole or not at all, so one cut off
by the crash is read and written again.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import resource
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from armsledger.batch import EXTRACTED_LANGUAGE, Extracted, IngestSummary, Outcome, Writer
from armsledger.errors import ConfigError, ExtractionError, InputError
from armsledger.fetch import is_url
from armsledger.ingest import DEFAULT_MAX_BYTES, is_sidecar, iter_paths, read_article
from armsledger.model import Article
from armsledger.readers import (
    FEED_SUFFIXES,
    WARC_SUFFIXES,
    ReadOptions,
    Record,
    WarcPage,
    iter_records,
    iter_warc_pages,
    read_warc_page,
    reader_suffix,
)
from armsledger.store import Partition, Register

Engine = Literal["local", "dask"]

#: Article files per partition when ``partitions`` is not given: small enough that a
#: partition's texts and facts are a few MB, large enough that what each partition costs
#: the writer and the scheduler whatever its size (a task, a transaction, a few queries:
#: tens of ms) is small beside its extraction (about 2 s for 250 articles here).
FILES_PER_PARTITION = 250

#: Records of a dump or archive per partition: about 5 s of one worker's extraction for
#: news-length texts, and a few MB to send it, so the cost of a task (a few ms) and of a
#: transaction stay small beside it while a crash loses little.
RECORDS_PER_PARTITION = 500

#: Partitions in flight per worker: one running, one queued, so no worker waits.
IN_FLIGHT_PER_WORKER = 2

#: What a partition holds: paths and feed URLs a worker reads itself, records a dump
#: gave (read here), and archived pages (read here, their text taken out on the worker).
Input = str | Record | WarcPage


@dataclass(frozen=True, slots=True)
class Item:
    """What a task made of one input: an extracted article, a failure or a skip."""

    source: str
    done: Extracted | None = None
    error: str | None = None
    skipped: str | None = None


@dataclass(frozen=True, slots=True)
class PartitionResult:
    """One partition's items, and the peak memory of the worker process that read it."""

    partition: int
    items: list[Item]
    worker: str
    peak_rss: int


@dataclass
class BatchReport:
    """What a batch run did.

    Attributes:
        summary: the outcomes, as ``ingest`` reports them.
        run: the run's id (resumed when the same inputs and partitions come again).
        partitions: how many partitions the inputs make.
        resumed: how many of them an earlier run had finished (skipped this time).
        peak_rss: the peak resident memory, in bytes, of each worker process seen.
    """

    summary: IngestSummary
    run: str
    partitions: int
    resumed: int
    peak_rss: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Plan:
    """The partitions of a run's inputs.

    Attributes:
        groups: partitions a worker reads itself: article files (round robin), and each
            feed alone.
        dumps: dumps and archives, read here and split into partitions of records as
            they are read (:func:`dump_partitions`); numbered after the groups.
    """

    groups: list[list[str]]
    dumps: list[str]


def plan_partitions(paths: Sequence[Path | str], partitions: int | None = None) -> Plan:
    """Plan the inputs into partitions: article files round robin into ``partitions``
    groups (by default one per :data:`FILES_PER_PARTITION`), each feed alone, and the
    dumps and archives to split by records.

    Folders are walked as ``ingest`` walks them, a file reached twice counts once, and the
    order is kept, so the same inputs always make the same partitions.

    Raises:
        ConfigError: ``partitions`` is less than 1.
    """
    if partitions is not None and partitions < 1:
        raise ConfigError(f"--partitions {partitions}: give 1 or more")
    files: list[str] = []
    feeds: list[str] = []
    dumps: list[str] = []
    seen: set[str] = set()
    for path in paths:
        if isinstance(path, str) and is_url(path):
            feeds.append(path)
            continue
        try:
            found = list(iter_paths([Path(path)], seen))
        except InputError:
            files.append(str(path))  # fails on the worker, with its reason
            continue
        for file in found:
            suffix = reader_suffix(file.name)
            if suffix is None:
                files.append(str(file))
            elif suffix in FEED_SUFFIXES:
                feeds.append(str(file))
            else:
                dumps.append(str(file))
    groups: list[list[str]] = []
    if files:
        n = min(partitions or max(1, -(-len(files) // FILES_PER_PARTITION)), len(files))
        groups = [files[i::n] for i in range(n)]
    return Plan(groups + [[feed] for feed in feeds], dumps)


def dump_partitions(
    path: str, options: ReadOptions, size: int = RECORDS_PER_PARTITION
) -> Iterator[list[Input]]:
    """The records of a dump or archive, ``size`` at a time, as they are read.

    Records of a dump come read (reading a JSON or CSV record costs little beside its
    extraction); pages of an archive come as stored, for the worker to read. A file that
    cannot be read, or breaks off, ends its last partition with a failed record saying so.
    """
    units: Iterator[Input]
    if Path(path).name.lower().endswith(WARC_SUFFIXES):
        units = iter_warc_pages(Path(path), options)
    else:
        units = iter_records(Path(path), options)
    chunk: list[Input] = []
    try:
        for unit in units:
            chunk.append(unit)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    except InputError as error:
        chunk.append(Record(path, error=error))
    if chunk:
        yield chunk


def run_id(plan: Plan, options: ReadOptions, size: int = RECORDS_PER_PARTITION) -> str:
    """The id of a run over these partitions, read with these options: a dump changed
    since (another size or modification time) makes another run."""

    def stamp(path: str) -> list[int] | None:
        try:
            found = os.stat(path)
        except OSError:
            return None
        return [found.st_size, found.st_mtime_ns]

    fields = options.fields
    key = json.dumps(
        {
            "partitions": plan.groups,
            "dumps": [[dump, stamp(dump)] for dump in plan.dumps],
            "records": size,
            "fields": [fields.text, fields.title, fields.date, fields.url],
        },
        sort_keys=True,
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=1)
def _pipeline() -> Callable[[Article], Extracted]:
    """The worker's pipeline, built once per process: catalog, cues and language detector
    are loaded on the first call and cached in the process for every later task."""
    from armsledger.duplicates import signature, signature_bytes
    from armsledger.extract import extract_facts
    from armsledger.language import with_language

    def run(article: Article) -> Extracted:
        article = with_language(article)
        english = article.language in (None, EXTRACTED_LANGUAGE)
        found = extract_facts(article) if english else []
        return Extracted(article, found, signature_bytes(signature(article.text)))

    return run


def warm_up() -> None:
    """Load the pipeline in this process now rather than on its first task, by running it
    on one sentence (about 2 s here: catalog, cue words, sentence splitter, language
    detector, MinHash): ``client.run(warm_up)`` readies every worker of a cluster, as
    ``benchmarks/batch_scale.py`` does before it starts the clock."""
    sentence = "Russia signed a contract to supply four S-400 batteries to Turkey."
    _pipeline()(Article(id="warm-up", text=sentence))


def extract_partition(
    partition: int, inputs: Sequence[Input], options: ReadOptions
) -> PartitionResult:
    """Read and extract one partition's inputs (a Dask task; also run in-process).

    Errors about one input become items with their reason, as ``ingest`` records them.
    """
    run = _pipeline()
    items: list[Item] = []
    for value in inputs:
        if isinstance(value, WarcPage):
            value = read_warc_page(value, options)
        if isinstance(value, Record):
            items.append(_item(value, run))
            continue
        if is_url(value) or reader_suffix(Path(value).name) is not None:
            source: Path | str = value if is_url(value) else Path(value)
            try:
                items.extend(_item(record, run) for record in iter_records(source, options))
            except InputError as error:
                items.append(Item(value, error=str(error)))
            continue
        path = Path(value)
        if is_sidecar(path):
            items.append(Item(value, skipped="sidecar file, read with its article"))
            continue
        try:
            article = read_article(path, max_bytes=options.max_bytes)
        except InputError as error:
            items.append(Item(value, error=str(error)))
            continue
        items.append(_extracted(value, article, run))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_bytes = peak if sys.platform == "darwin" else peak * 1024
    return PartitionResult(partition, items, _worker_name(), peak_bytes)


def _item(record: Record, run: Callable[[Article], Extracted]) -> Item:
    if record.article is None:
        return Item(record.source, error=str(record.error or f"{record.source}: no article"))
    return _extracted(record.source, record.article, run)


def _extracted(source: str, article: Article, run: Callable[[Article], Extracted]) -> Item:
    """The article extracted, or its failure when the extractor fails on it."""
    try:
        return Item(source, done=run(article))
    except ExtractionError as error:
        return Item(source, error=str(error))


def _worker_name() -> str:
    try:
        return str(_distributed().get_worker().address)
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def batch_paths(
    paths: Sequence[Path | str],
    register: Register,
    *,
    engine: Engine = "dask",
    scheduler: str | None = None,
    workers: int = 2,
    partitions: int | None = None,
    records: int = RECORDS_PER_PARTITION,
    on_error: Literal["raise", "skip"] = "skip",
    progress: Callable[[Outcome], None] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    read_options: ReadOptions | None = None,
    keep: Literal["all", "problems"] = "all",
) -> BatchReport:
    """Ingest ``paths`` as :func:`armsledger.batch.ingest_paths` does, reading and
    extracting partitions of them as Dask tasks, and saving them here (one writer).

    Args:
        paths: as for ``ingest``.
        register: where to save.
        engine: ``"dask"`` runs the tasks on a cluster; ``"local"`` runs them here, one
            after another (no Dask), still resumable by partition.
        scheduler: the address of a running Dask scheduler (``tcp://HOST:8786``); without
            it a ``LocalCluster`` of ``workers`` processes, one thread each, is started.
        workers: the LocalCluster's worker processes.
        partitions: how many partitions the article files make (see
            :func:`plan_partitions`).
        records: records of a dump or archive per partition.
        on_error, progress, max_bytes, read_options, keep: as for ``ingest``.

    Raises:
        ConfigError: a bad partition or record count, or no scheduler answering at
            ``scheduler``.
    """
    from armsledger import extract as extract_module

    if records < 1:
        raise ConfigError(f"--partition-records {records}: give 1 or more")
    options = replace(read_options or ReadOptions(), max_bytes=max_bytes)
    plan = plan_partitions(paths, partitions)
    run = run_id(plan, options, records)
    finished = register.finished_partitions(run)
    writer = Writer(
        register,
        on_error=on_error,
        progress=progress,
        extractor=extract_module.EXTRACTOR,
        keep=keep,
    )
    report = BatchReport(writer.summary, run, 0, 0)

    def todo() -> Iterator[tuple[int, Sequence[Input]]]:
        """The partitions still to do, in order; those finished are counted and passed."""
        numbered: Iterator[Sequence[Input]] = itertools.chain(
            plan.groups,
            itertools.chain.from_iterable(
                dump_partitions(dump, options, records) for dump in plan.dumps
            ),
        )
        for number, inputs in enumerate(numbered):
            report.partitions += 1
            if number in finished:
                report.resumed += 1
            else:
                yield number, inputs

    def write(result: PartitionResult) -> None:
        worker = result.worker
        report.peak_rss[worker] = max(report.peak_rss.get(worker, 0), result.peak_rss)
        done = Partition(run, result.partition, len(result.items))
        extracted = [item.done for item in result.items if item.done is not None]
        hashes = [found.article.content_hash for found in extracted]
        signatures = [found.signature for found in extracted if found.signature is not None]
        with writer.together(done, hashes=hashes, signatures=signatures):
            for item in result.items:
                if item.skipped is not None:
                    writer.record(Outcome(item.source, "skipped", item.skipped))
                elif item.done is None:
                    writer.fail(item.source, InputError(item.error or f"{item.source}: unread"))
                else:
                    writer.save(item.done.article, item.source, item.done)

    with writer:
        _run(todo(), write, engine, scheduler, workers, options)
    return report


def _run(
    waiting: Iterator[tuple[int, Sequence[Input]]],
    write: Callable[[PartitionResult], None],
    engine: Engine,
    scheduler: str | None,
    workers: int,
    options: ReadOptions,
) -> None:
    """Extract the partitions ``waiting`` here or on a cluster, writing each as it is done."""
    if engine == "local":
        for number, inputs in waiting:
            write(extract_partition(number, inputs, options))
        return
    first = next(waiting, None)
    if first is None:
        return
    with _client(scheduler, workers) as client:
        window = IN_FLIGHT_PER_WORKER * max(1, len(client.scheduler_info()["workers"]))

        def submit(work: tuple[int, Sequence[Input]]) -> Any:
            number, inputs = work
            return client.submit(extract_partition, number, inputs, options, pure=False)

        starting = itertools.chain([first], itertools.islice(waiting, window - 1))
        running = _distributed().as_completed([submit(work) for work in starting])
        for future in running:
            result = future.result()
            future.release()
            write(result)
            following = next(waiting, None)
            if following is not None:
                running.add(submit(following))


@contextmanager
def _client(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A Dask client of the scheduler at ``scheduler``, or of a new LocalCluster."""
    dask = _distributed()
    if scheduler is not None:
        try:
            client = dask.Client(scheduler, timeout="20s")
        except OSError as error:
            raise ConfigError(
                f"--scheduler {scheduler}: no Dask scheduler answers ({error})",
                hint="start one with: dask scheduler",
            ) from None
        with client:
            yield client
        return
    cluster = dask.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    with cluster, dask.Client(cluster) as client:
        yield client


def _distributed() -> Any:
    """Dask's ``distributed`` (imported only when a cluster is used; untyped)."""
    import distributed

    return distributed
