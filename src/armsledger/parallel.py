"""Batch over many processes or machines: reading and extraction as Dask tasks, one writer.

The inputs (files, folders, feed URLs, dumps, archives) are planned into partitions
(:func:`plan_partitions`): each article file goes to one partition, round robin; a feed,
dump or archive is a partition of its own (its records are streamed by one task). A task
(:func:`extract_partition`) runs on a worker what ``ingest`` runs: the readers, language
detection, the relevance gate and the extractor (``rules.v1``), and the MinHash signature
for wire copies. The catalog, cue words and language detector are loaded once per worker
process (they are cached in the process) and kept for every later task.

The client is the one writer: it saves each finished partition through the same
:class:`armsledger.batch.Writer` as ``ingest`` (so duplicates, rejects and outcomes are the
same), but in one transaction per partition (:meth:`armsledger.batch.Writer.together`):
its articles, facts, spans, signatures, further sources and rejects, each deal it touches
recomputed once, and the partition recorded as finished in the register
(``batch_partitions``), all at one commit. At
most two partitions per worker are in flight, and a partition's results are released once
written, so memory stays bounded by the partition size, on the workers and on the client.

A run is known by its partitions (a hash of the inputs and how they are split): started
again with the same inputs and ``--partitions`` after a crash, it skips the partitions
recorded as finished; a partition is written whole or not at all, so one cut off by the
crash is read and written again.
"""

from __future__ import annotations

import hashlib
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
from armsledger.errors import ConfigError, InputError
from armsledger.fetch import is_url
from armsledger.ingest import DEFAULT_MAX_BYTES, is_sidecar, iter_paths, read_article
from armsledger.model import Article
from armsledger.readers import ReadOptions, iter_records, reader_suffix
from armsledger.store import Partition, Register

Engine = Literal["local", "dask"]

#: Article files per partition when ``partitions`` is not given: small enough that a
#: partition's texts and facts are a few MB, large enough that a task's overhead (a few
#: ms on a LocalCluster) is small beside its extraction (about 1 s for 100 articles here).
FILES_PER_PARTITION = 100

#: Partitions in flight per worker: one running, one queued, so no worker waits.
IN_FLIGHT_PER_WORKER = 2


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


def plan_partitions(paths: Sequence[Path | str], partitions: int | None = None) -> list[list[str]]:
    """Split the inputs into partitions: article files round robin into ``partitions``
    (by default one per :data:`FILES_PER_PARTITION`), each feed, dump or archive alone.

    Folders are walked as ``ingest`` walks them, a file reached twice counts once, and the
    order is kept, so the same inputs always make the same partitions.

    Raises:
        ConfigError: ``partitions`` is less than 1.
    """
    if partitions is not None and partitions < 1:
        raise ConfigError(f"--partitions {partitions}: give 1 or more")
    files: list[str] = []
    streams: list[str] = []
    seen: set[Path] = set()
    for path in paths:
        if isinstance(path, str) and is_url(path):
            streams.append(path)
            continue
        try:
            found = list(iter_paths([Path(path)]))
        except InputError:
            files.append(str(path))  # fails on the worker, with its reason
            continue
        for file in found:
            key = file.resolve()
            if key in seen:
                continue
            seen.add(key)
            (streams if reader_suffix(file.name) is not None else files).append(str(file))
    if not files:
        return [[stream] for stream in streams]
    n = partitions or max(1, -(-len(files) // FILES_PER_PARTITION))
    n = min(n, len(files))
    planned = [files[i::n] for i in range(n)]
    return planned + [[stream] for stream in streams]


def run_id(planned: Sequence[Sequence[str]], options: ReadOptions) -> str:
    """The id of a run over these partitions read with these options."""
    fields = options.fields
    key = json.dumps(
        {"partitions": planned, "fields": [fields.text, fields.title, fields.date, fields.url]},
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
    partition: int, inputs: Sequence[str], options: ReadOptions
) -> PartitionResult:
    """Read and extract one partition's inputs (a Dask task; also run in-process).

    Errors about one input become items with their reason, as ``ingest`` records them.
    """
    run = _pipeline()
    items: list[Item] = []
    for value in inputs:
        if is_url(value) or reader_suffix(Path(value).name) is not None:
            source: Path | str = value if is_url(value) else Path(value)
            try:
                for record in iter_records(source, options):
                    if record.article is None:
                        reason = str(record.error or f"{record.source}: no article")
                        items.append(Item(record.source, error=reason))
                    else:
                        items.append(Item(record.source, done=run(record.article)))
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
        items.append(Item(value, done=run(article)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_bytes = peak if sys.platform == "darwin" else peak * 1024
    return PartitionResult(partition, items, _worker_name(), peak_bytes)


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
        on_error, progress, max_bytes, read_options, keep: as for ``ingest``.

    Raises:
        ConfigError: a bad partition count, or no scheduler answering at ``scheduler``.
    """
    from armsledger import extract as extract_module

    options = replace(read_options or ReadOptions(), max_bytes=max_bytes)
    planned = plan_partitions(paths, partitions)
    run = run_id(planned, options)
    finished = register.finished_partitions(run)
    todo = [i for i in range(len(planned)) if i not in finished]
    writer = Writer(
        register,
        on_error=on_error,
        progress=progress,
        extractor=extract_module.EXTRACTOR,
        keep=keep,
    )
    report = BatchReport(writer.summary, run, len(planned), len(planned) - len(todo))

    def write(result: PartitionResult) -> None:
        worker = result.worker
        report.peak_rss[worker] = max(report.peak_rss.get(worker, 0), result.peak_rss)
        done = Partition(run, result.partition, len(result.items))
        hashes = [item.done.article.content_hash for item in result.items if item.done]
        with writer.together(done, hashes=hashes):
            for item in result.items:
                if item.skipped is not None:
                    writer.record(Outcome(item.source, "skipped", item.skipped))
                elif item.done is None:
                    writer.fail(item.source, InputError(item.error or f"{item.source}: unread"))
                else:
                    writer.save(item.done.article, item.source, item.done)

    if engine == "local":
        for i in todo:
            write(extract_partition(i, planned[i], options))
        return report
    if not todo:
        return report
    with _client(scheduler, workers) as client:
        window = IN_FLIGHT_PER_WORKER * max(1, len(client.scheduler_info()["workers"]))
        waiting = iter(todo)

        def submit(i: int) -> Any:
            return client.submit(extract_partition, i, planned[i], options, pure=False)

        running = _distributed().as_completed(
            [submit(i) for _, i in zip(range(window), waiting, strict=False)]
        )
        for future in running:
            result = future.result()
            future.release()
            write(result)
            following = next(waiting, None)
            if following is not None:
                running.add(submit(following))
    return report


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
