"""Many inputs into the register: read, extract and save each file on its own.

Every input gets an :class:`Outcome`: a file, and each record of a feed, dump or web
archive (:mod:`armsledger.readers`; the sources are ``dump.jsonl:17``, ``feed.xml#3``):

``stored``
    read, extracted and saved (with however many facts, possibly none). An article whose
    language is detected as other than English is stored without extraction, and its
    outcome's ``reason`` says so.
``unchanged``
    its text is already in the register (found before extracting, so nothing is
    re-extracted); nothing is written.
``skipped``
    read over on purpose, not an error: a sidecar (``NAME.meta.json``, ``NAME.gold.json``)
    or hidden file named among the inputs, as ``armsledger ingest dev/*`` does. These are
    read with their article or by ``evaluate``, never as articles, and are not rejects.
``duplicate``
    a further copy of a stored article: a wire copy (near-duplicate text, by MinHash) or
    the same text at another URL. It is recorded as a source of that article
    (``article_sources``) and adds no facts: a copy is not an independent report.
``failed``
    the input could not be read (missing, empty, too large, binary, not UTF-8, a page
    with no article text, malformed ``.meta.json``, an unsupported type) or the register
    refused its facts. A failure is recorded in the register's rejects with its reason.

With ``on_error="skip"`` (the default) a failure is recorded and the batch goes on; with
``"raise"`` the error is raised after its reject is recorded. A page with no article text
counts as failed, not skipped: it usually means trafilatura missed the content
(a script-rendered page, a paywall), which the user should see. The extractor failing on
one article (a fault of armsledger) fails that article alone. Errors that are not about
one input (an unreachable database) always propagate.

Deals are merged as a run goes, not at every write: each article's transaction marks the
deals it touches stale, and the writer merges them (:meth:`Register.refresh_deals`) every
:data:`REFRESH_SECONDS` at most (less often when merging takes long) and when the run
ends, however it ends. Merging a deal reads all its facts; a deal reported for years has
thousands, and merging it at every article made a long run slow down as it went.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from armsledger import extract as extract_module
from armsledger.duplicates import BandKey, Match
from armsledger.errors import ArmsLedgerError, ExtractionError, InputError, StoreError
from armsledger.fetch import is_url
from armsledger.ingest import DEFAULT_MAX_BYTES, is_sidecar, iter_paths, read_article
from armsledger.language import with_language
from armsledger.model import Article, Fact
from armsledger.readers import ReadOptions, iter_records, reader_suffix
from armsledger.store import NewArticle, NewSource, Partition, Register, SavedMany

log = logging.getLogger(__name__)

#: Seconds between two merges of the stale deals during a run: what the register's readers
#: (the API, the dashboard) may lag behind the facts. A merge taking long is made at most
#: a twentieth of the time (every twenty times its duration), so it never rules a run's
#: pace, nor takes much from the workers a ``batch`` writer shares its machine with.
REFRESH_SECONDS = 10.0

Status = Literal["stored", "unchanged", "duplicate", "skipped", "failed"]

#: The language ``rules.v1`` reads; articles in others are stored without extraction.
EXTRACTED_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one input.

    Attributes:
        source: the path as given, or as found inside a given folder; for a record of a
            feed, dump or archive, ``PATH:LINE`` or ``PATH#N``.
        status: see the module docstring.
        reason: why it was skipped, failed, is a duplicate, or was stored without
            extraction (the error's message); ``None`` otherwise.
        facts: how many facts this run stored for it (0 unless ``stored``).
    """

    source: str
    status: Status
    reason: str | None = None
    facts: int = 0


@dataclass
class IngestSummary:
    """The outcomes of one batch, in input order.

    With ``keep="problems"`` (as the command line runs it, so that a dump of millions of
    articles is summed up in bounded memory) only the outcomes with a reason are kept in
    ``outcomes``; the counts always cover every input.
    """

    outcomes: list[Outcome] = field(default_factory=list)
    tally: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: Outcome, *, keep: bool = True) -> None:
        """Count ``outcome``, and keep it when ``keep`` or when it has a reason."""
        self.tally[outcome.status] += 1
        self.tally["facts"] += outcome.facts
        if keep or outcome.reason is not None:
            self.outcomes.append(outcome)

    def _count(self, key: str) -> int:
        if self.tally:
            return self.tally[key]
        if key == "facts":
            return sum(outcome.facts for outcome in self.outcomes)
        return sum(1 for outcome in self.outcomes if outcome.status == key)

    @property
    def stored(self) -> int:
        return self._count("stored")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def duplicate(self) -> int:
        return self._count("duplicate")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def facts(self) -> int:
        """Facts stored by this batch."""
        return self._count("facts")

    @property
    def ok(self) -> bool:
        """No input failed (the CLI exits 1 otherwise)."""
        return self.failed == 0


def ingest_paths(
    paths: Sequence[Path | str],
    register: Register,
    *,
    extract: Callable[[Article], list[Fact]] = extract_module.extract_facts,
    on_error: Literal["raise", "skip"] = "skip",
    progress: Callable[[Outcome], None] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    extractor: str | None = None,
    read_options: ReadOptions | None = None,
    keep: Literal["all", "problems"] = "all",
    duplicates: bool = True,
) -> IngestSummary:
    """Read every article under ``paths``, extract its facts and save each in the register.

    Each article (a file, or a record of a feed, dump or archive) is read, extracted and
    saved in its own transaction, so a failure leaves the articles before it stored and
    nothing of itself, and a run stopped at any point (even by ``kill -9``) leaves only
    whole articles: running it again stores the rest and leaves those unchanged. A file
    reached twice (named and inside a named folder) is handled once.

    Args:
        paths: files, folders (walked by :func:`armsledger.ingest.iter_paths`) and feed
            URLs. Files are read by suffix: articles (``.txt``, ``.html``), feeds
            (``.xml``, ``.rss``, ``.atom``), dumps (``.jsonl[.gz|.zst]``, ``.csv[.gz]``)
            and web archives (``.warc[.gz]``).
        register: where to save.
        extract: the extractor; a fake one in tests.
        on_error: ``"skip"`` records a failed input and goes on; ``"raise"`` records it
            and raises its error.
        progress: called with each outcome as soon as it is known.
        max_bytes: the size limit per file, and per record of a dump or archive.
        extractor: the extractor's name recorded on each article row; by default
            :data:`armsledger.extract.EXTRACTOR` when ``extract`` is the default one.
        read_options: how feeds, dumps and archives are read (field names, limits).
        keep: ``"all"`` keeps every outcome in the summary; ``"problems"`` only those
            with a reason (the counts cover all).
        duplicates: recognise wire copies (:mod:`armsledger.duplicates`).

    Raises:
        InputError: with ``on_error="raise"``, the first input that fails.
        StoreError: with ``on_error="raise"``, an article the register refused; always,
            when a reject cannot be recorded (the register itself is failing).
    """
    if extractor is None and extract is extract_module.extract_facts:
        extractor = extract_module.EXTRACTOR
    options = replace(read_options or ReadOptions(), max_bytes=max_bytes)
    writer = Writer(
        register,
        extract=extract,
        on_error=on_error,
        progress=progress,
        extractor=extractor,
        keep=keep,
        duplicates=duplicates,
    )
    summary, record, fail, save = writer.summary, writer.record, writer.fail, writer.save

    with writer:
        seen: set[str] = set()
        for path in paths:
            if isinstance(path, str) and is_url(path):
                _read_records(path, options, save, fail)
                continue
            try:
                files = list(iter_paths([Path(path)], seen))
            except InputError as error:
                fail(str(path), error)
                continue
            for file in files:
                if is_sidecar(file):
                    record(Outcome(str(file), "skipped", "sidecar file, read with its article"))
                    continue
                if reader_suffix(file.name) is not None:
                    _read_records(file, options, save, fail)
                    continue
                try:
                    article = read_article(file, max_bytes=max_bytes)
                except InputError as error:
                    fail(str(file), error)
                    continue
                save(article, str(file))
    return summary


def _read_records(
    source: Path | str,
    options: ReadOptions,
    save: Callable[[Article, str], None],
    fail: Callable[[str, ArmsLedgerError], None],
) -> None:
    """Save each record of a feed, dump or archive; a bad record fails alone, and a bad
    file fails after the records before the damage."""
    records: Iterator[Any] = iter(())
    try:
        records = iter_records(source, options)
        for item in records:
            if item.article is None:
                fail(item.source, item.error or InputError(f"{item.source}: no article"))
            else:
                save(item.article, item.source)
    except InputError as error:
        fail(str(source), error)
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True, slots=True)
class Extracted:
    """An article read, language-detected and extracted elsewhere (a Dask worker), to save.

    Attributes:
        article: the article, its ``language`` detected.
        facts: its facts (none where it is not in :data:`EXTRACTED_LANGUAGE`).
        signature: its text's MinHash signature as bytes, or ``None``.
    """

    article: Article
    facts: list[Fact]
    signature: bytes | None = None


#: How one deferred outcome of :meth:`Writer.together` is settled once its transaction is in.
_Settle = Callable[[SavedMany], Outcome]


@dataclass
class _Together:
    """What a :meth:`Writer.together` block has decided and not yet written."""

    new: list[NewArticle] = field(default_factory=list)
    sources: list[NewSource] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    hashes: set[str] = field(default_factory=set)
    asked: set[str] = field(default_factory=set)
    stored: set[str] = field(default_factory=set)
    settle: list[_Settle] = field(default_factory=list)
    calls: list[Callable[[], None]] = field(default_factory=list)


class Writer:
    """Saves articles into a register, as :func:`ingest_paths` does, and keeps the
    :class:`IngestSummary`: the one writer of a batch whose reading and extraction may
    happen elsewhere (:mod:`armsledger.parallel`).

    One by one (each article its own transaction), or inside :meth:`together` all at once.

    Args are those of :func:`ingest_paths`.
    """

    def __init__(
        self,
        register: Register,
        *,
        extract: Callable[[Article], list[Fact]] = extract_module.extract_facts,
        on_error: Literal["raise", "skip"] = "skip",
        progress: Callable[[Outcome], None] | None = None,
        extractor: str | None = None,
        keep: Literal["all", "problems"] = "all",
        duplicates: bool = True,
        refresh_seconds: float | None = REFRESH_SECONDS,
    ) -> None:
        self.summary = IngestSummary()
        self._refresh_seconds = refresh_seconds
        self._refreshed = time.monotonic()
        self._refresh_cost = 0.0
        self._stale = False
        self._register = register
        self._extract = extract
        self._on_error = on_error
        self._progress = progress
        self._extractor = extractor
        self._keep = keep
        self._duplicates = duplicates
        self._index = _DuplicateSearch(register) if duplicates else None
        self._together: _Together | None = None

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self.finish(quietly=exc_type is not None)

    def finish(self, *, quietly: bool = False) -> None:
        """Merge the deals this writer left stale: at the end of a run, however it ends.

        ``quietly`` (when the run ends on an error) logs a failure to merge instead of
        raising it over that error; the deals stay marked and the next run merges them.
        """
        if not self._stale:
            return
        try:
            self._refresh()
        except ArmsLedgerError as error:
            if not quietly:
                raise
            log.warning("deals left to merge by the next run: %s", error)

    def _refresh(self) -> None:
        start = time.monotonic()
        self._register.refresh_deals()
        self._refreshed = time.monotonic()
        self._refresh_cost = self._refreshed - start
        self._stale = False

    def _wrote(self, facts: int) -> None:
        """After a commit of ``facts`` facts: merge the stale deals if it is time."""
        if self._refresh_seconds is None or not facts:
            return
        self._stale = True
        wait = max(self._refresh_seconds, 20 * self._refresh_cost)
        if time.monotonic() - self._refreshed >= wait:
            self._refresh()

    @contextmanager
    def together(
        self,
        partition: Partition | None = None,
        *,
        hashes: Sequence[str] = (),
        signatures: Sequence[bytes] = (),
    ) -> Iterator[None]:
        """Save what is saved, failed and recorded inside the block in one transaction
        (:meth:`armsledger.store.Register.save_many`) when it ends, with ``partition``
        recorded as finished: the same outcomes, duplicates and rejects as one by one, at
        one commit and one recomputation of each deal touched.

        Outcomes are reported when the transaction is in. Should the register refuse the
        whole (an article whose facts it refuses, a concurrent writer's row), everything is
        saved again one by one, so the one at fault fails alone. With ``on_error="raise"``
        a failure writes what came before it, then its reject, then raises; the partition
        is not recorded. Any other exception leaves the block's work unwritten.

        ``hashes``, the content hashes of the articles to come, and ``signatures``, their
        MinHash signatures, let the register be asked which are stored, and which stored
        articles they may copy, in one query each rather than one per article.
        """
        if self._together is not None:
            raise RuntimeError("Writer.together() blocks do not nest")
        stored = self._register.stored_hashes(hashes) if hashes else set()
        if self._index is not None and signatures:
            self._index.ask(signatures)
        self._together = _Together(asked=set(hashes), stored=stored)
        try:
            yield
        except BaseException:
            self._together = None
            if self._index is not None:
                self._index.settled()
            raise
        self._commit(partition)

    def _commit(self, partition: Partition | None) -> None:
        pending, self._together = self._together, None
        if pending is None:
            return
        if self._index is not None:
            self._index.settled()
        if not (pending.new or pending.sources or pending.rejected or partition):
            saved = SavedMany()
        else:
            try:
                saved = self._register.save_many(
                    pending.new,
                    sources=pending.sources,
                    rejected=pending.rejected,
                    partition=partition,
                    defer_deals=self._refresh_seconds is not None,
                )
            except StoreError:
                # Learn which input the register refuses (or that it fails altogether):
                # the same work one by one, from the duplicate index as the register has it.
                if self._duplicates:
                    self._index = _DuplicateSearch(self._register)
                for call in pending.calls:
                    call()
                if partition is not None:
                    self._register.save_partition(
                        partition.run, partition.partition, partition.articles
                    )
                return
        for settle in pending.settle:
            self.record(settle(saved))
        self._wrote(sum(len(item.facts) for item in pending.new))

    def record(self, outcome: Outcome) -> None:
        """Count an outcome and report it to ``progress``."""
        pending = self._together
        if pending is not None:
            pending.calls.append(lambda: self.record(outcome))
            pending.settle.append(lambda _saved: outcome)
            return
        self.summary.add(outcome, keep=self._keep == "all")
        if self._progress is not None:
            self._progress(outcome)

    def fail(self, source: str, error: ArmsLedgerError) -> None:
        """Record a failed input as a reject (and raise its error with ``on_error="raise"``)."""
        reason = str(error)
        pending = self._together
        if pending is not None and self._on_error == "raise":
            self._commit(None)  # what came before the failure is kept, as one by one
            pending = None
        if pending is not None:
            pending.calls.append(lambda: self.fail(source, error))
            pending.rejected.append((source, reason))
            pending.settle.append(lambda _saved: Outcome(source, "failed", reason))
            return
        self._register.save_reject(source, reason)
        self.record(Outcome(source, "failed", reason))
        if self._on_error == "raise":
            raise error

    def _report(self, outcome: Outcome) -> None:
        """Record an outcome ``save`` settled, at once or when the transaction is in."""
        if self._together is not None:
            self._together.settle.append(lambda _saved: outcome)
        else:
            self.record(outcome)

    def _add_source(
        self, source: str, article: Article, similarity: float, reason: str, original: str
    ) -> None:
        """Record ``article`` as a further source of the one with hash ``original``:
        ``duplicate`` when it is one (with ``reason``), ``unchanged`` when already known."""
        pending = self._together
        if pending is None:
            index = self._index
            assert index is not None
            added = index.add_source(article, similarity, original=original)
            self.record(
                Outcome(source, "duplicate" if added else "unchanged", reason if added else None)
            )
            return
        position = len(pending.sources)
        pending.sources.append(NewSource(original, article, similarity))

        def settle(saved: SavedMany) -> Outcome:
            if saved.sources[position]:
                return Outcome(source, "duplicate", reason)
            return Outcome(source, "unchanged")

        pending.settle.append(settle)

    def save(self, article: Article, source: str, done: Extracted | None = None) -> None:
        """Save one article: unchanged, a duplicate, or stored with its facts.

        ``done`` gives the article as already language-detected and extracted, with its
        signature; without it, both happen here.
        """
        register, index, extractor = self._register, self._index, self._extractor
        record = self.record
        pending = self._together
        if pending is not None:
            given = article
            pending.calls.append(lambda: self.save(given, source, done))
        article = done.article if done is not None else with_language(article)
        if pending is not None and article.content_hash in pending.asked:
            known = article.content_hash in pending.hashes or article.content_hash in pending.stored
        else:
            known = register.has_article(article)
        if known:
            if index is not None and article.url:
                same = "the same text as a stored article; kept as a further source"
                self._add_source(source, article, 1.0, same, article.content_hash)
            else:
                self._report(Outcome(source, "unchanged"))
            return
        signature: bytes | None = None
        if index is not None:
            if done is not None and done.signature is not None:
                signature = done.signature
            else:
                signature = index.signature(article)
            match = index.find(signature)
            if match is not None:
                copy = (
                    f"a copy of a stored article (similarity {match.similarity:.2f}); "
                    "kept as a further source"
                )
                self._add_source(source, article, match.similarity, copy, str(match.key))
                return
        reason: str | None = None
        name: str | None = extractor
        if article.language not in (None, EXTRACTED_LANGUAGE):
            reason = (
                f"language {article.language!r}: stored without extraction "
                f"(the extractor reads {EXTRACTED_LANGUAGE!r} only)"
            )
            found: list[Fact] = []
            name = None
        elif done is not None:
            found = done.facts
        else:
            try:
                found = self._extract(article)
            except ExtractionError as error:
                if pending is not None:
                    pending.calls.pop()  # replayed one by one, the failure alone stands
                self.fail(source, error)
                return
        if pending is not None:
            pending.new.append(NewArticle(article, found, name, signature))
            pending.hashes.add(article.content_hash)
            if index is not None and signature is not None:
                index.add(article.content_hash, signature)  # until the transaction is in
            content_hash, n_facts = article.content_hash, len(found)

            def settle(saved: SavedMany) -> Outcome:
                if content_hash in saved.unchanged:
                    return Outcome(source, "unchanged")
                return Outcome(source, "stored", reason, n_facts)

            pending.settle.append(settle)
            return
        try:
            status = register.save_article(
                article,
                found,
                extractor=name,
                signature=signature,
                defer_deals=self._refresh_seconds is not None,
            )
        except StoreError as error:
            self.fail(source, error)
            return
        stored = status == "stored"
        record(Outcome(source, status, reason if stored else None, len(found) if stored else 0))
        if stored:
            self._wrote(len(found))


class _DuplicateSearch:
    """Finds the stored article a new text copies: among the register's, by their band
    keys (one indexed query per article, or one per partition asked for ahead), and among
    those the writer has decided on in the transaction not yet in. Nothing of the
    register is held in memory, however many articles it has."""

    def __init__(self, register: Register) -> None:
        from armsledger.duplicates import DuplicateIndex

        self._register = register
        self._pending = DuplicateIndex()
        self._asked: dict[BandKey, list[tuple[str, bytes]]] | None = None
        self._filled = False

    def _fill(self) -> None:
        """Once: band keys for the articles an older armsledger stored without them."""
        if self._filled:
            return
        from armsledger.duplicates import signature, signature_bytes

        for content_hash, stored, text in self._register.iter_unbanded():
            data = stored if stored is not None else signature_bytes(signature(text))
            self._register.save_signature(content_hash, data)
        self._filled = True

    def signature(self, article: Article) -> bytes:
        from armsledger.duplicates import signature, signature_bytes

        return signature_bytes(signature(article.text))

    def ask(self, signatures: Sequence[bytes]) -> None:
        """Read at once the stored candidates of the copies of these texts, to come."""
        from armsledger.duplicates import band_keys

        self._fill()
        keys = {key for data in signatures for key in band_keys(data)}
        asked: dict[BandKey, list[tuple[str, bytes]]] = {}
        for content_hash, data in self._register.copy_candidates(keys):
            for key in band_keys(data):
                if key in keys:
                    asked.setdefault(key, []).append((content_hash, data))
        self._asked = asked

    def settled(self) -> None:
        """The transaction is in (or given up): what it decided is the register's now."""
        from armsledger.duplicates import DuplicateIndex

        self._pending = DuplicateIndex()
        self._asked = None

    def find(self, data: bytes) -> Match | None:
        from armsledger.duplicates import band_keys, best_match

        self._fill()
        keys = band_keys(data)
        if self._asked is not None:
            stored = [found for key in keys for found in self._asked.get(key, ())]
        else:
            stored = self._register.copy_candidates(keys)
        candidates = dict(self._pending.candidates(keys))
        candidates.update(stored)
        return best_match(data, candidates.items())

    def add(self, content_hash: str, data: bytes) -> None:
        """A text decided on in the open transaction, found as a copy's original too."""
        self._pending.add(content_hash, data)

    def add_source(self, article: Article, similarity: float, original: str | None = None) -> bool:
        return self._register.save_source(original or article.content_hash, article, similarity)
