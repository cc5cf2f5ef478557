"""The register: articles, their facts and the deals merged from them, in SQL.

SQLAlchemy Core over SQLite by default; the schema and queries are portable to
PostgreSQL (no SQLite-only SQL). Column names are FORMAT.md's field names. Tables:

``articles``
    one row per distinct text (``content_hash`` is unique); ``name`` is the article id
    (its file name), which need not be unique: two folders may each hold ``a001.txt``.
``facts``
    one row per fact, with its first evidence span (``evidence``, ``evidence_start``,
    ``evidence_end``) and its ``deal_id``; ``fact_spans`` holds any further spans, in order.
``deals``
    one row per deal key (supplier, recipient, system, lot), a summary recomputed by
    :func:`armsledger.merge.merge_deals` from every fact with that key whenever an article
    adds to it. Timelines are not stored: they are rebuilt from the facts on reading, by
    the same function, so a deal read back equals the deal merged in memory.
``rejects``
    inputs that could not be read, and why.
``article_sources``
    further sources of a stored article: wire copies and the same text at other URLs.
``article_signatures``
    the MinHash signature of each article's text, for near-duplicate search.
``article_bands``
    the band keys of each signature (:func:`armsledger.duplicates.band_keys`), indexed,
    so that a writer finds a new text's copies among millions with one query.
``stale_deals``
    the deals whose facts changed since their row was last merged.
``feed_state``
    what ``watch`` last heard from each feed URL: the validators (``ETag``,
    ``Last-Modified``) to send back, when it looked and how that went.
``reviews``
    the analyst's reviews of facts (confirm, reject, edit, merge or split deals), with who,
    when and why: the audit trail, and what every later read and rebuild applies.
``batch_partitions``
    the partitions of the inputs each ``batch`` run has finished (:mod:`armsledger.batch`).
``register_info``
    the schema version, checked on opening.

Opening a register brings its tables to the newest schema by the migrations of
:mod:`armsledger.migrations` (Alembic), the same on SQLite and PostgreSQL.

Every write of an article is one transaction: the article, its facts and the deals they
touch are written together or not at all; :meth:`Register.save_many` writes many articles
(a ``batch`` partition) so, in one transaction, inserting them in order of text hash on
PostgreSQL so that two such writers never wait on each other's new rows in a circle.
Several processes may write one PostgreSQL register at once: a transaction that recomputes
deals first takes an advisory lock per deal id (in sorted order, so two writers never wait
on each other in a circle), so the writer that recomputes a deal second sees the first
one's facts, and no fact is lost from a deal. Readers take no locks and are never blocked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from armsledger import migrations
from armsledger.duplicates import BandKey, band_keys
from armsledger.errors import ArmsLedgerError, InputError, StoreError
from armsledger.merge import apply_review, fact_deal_id, merge_deals
from armsledger.model import (
    STAGE_ORDER,
    Article,
    Deal,
    Fact,
    Modality,
    Quantity,
    Span,
    Stage,
    Value,
)
from armsledger.model import deal_id as deal_id_of

#: Bumped whenever the tables change; a register of another version is refused on opening.
SCHEMA_VERSION = 1

#: Rows fetched per query when streaming articles (their texts can be large).
_PAGE = 200

metadata = sa.MetaData()

_stages = ", ".join(f"'{s.value}'" for s in Stage)
_modalities = ", ".join(f"'{m.value}'" for m in Modality)

register_info = sa.Table(
    "register_info",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, index=True),
    sa.Column("content_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("title", sa.Text),
    sa.Column("outlet", sa.Text),
    sa.Column("date", sa.Date, index=True),
    sa.Column("url", sa.Text),
    sa.Column("language", sa.Text),
    sa.Column("source", sa.Text),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("relevant", sa.Boolean, nullable=False),
    sa.Column("extractor", sa.Text),
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
)

facts = sa.Table(
    "facts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "article_id",
        sa.Integer,
        sa.ForeignKey("articles.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("deal_id", sa.String(64), nullable=False, index=True),
    sa.Column("supplier", sa.Text),
    sa.Column("recipient", sa.Text),
    sa.Column("system", sa.Text),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("modality", sa.Text, nullable=False),
    sa.Column("lot", sa.Integer),
    sa.Column("quantity_count", sa.BigInteger),
    sa.Column("quantity_unit", sa.Text),
    sa.Column("value_amount", sa.Double),
    sa.Column("value_currency", sa.Text),
    sa.Column("value_approximate", sa.Boolean),
    sa.Column("speaker", sa.Text),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("evidence_start", sa.Integer, nullable=False),
    sa.Column("evidence_end", sa.Integer, nullable=False),
    sa.Column("optional", sa.Boolean, nullable=False),
    sa.Column("extractor", sa.Text, nullable=False),
    sa.CheckConstraint(f"stage IN ({_stages})", name="ck_facts_stage"),
    sa.CheckConstraint(f"modality IN ({_modalities})", name="ck_facts_modality"),
    sa.CheckConstraint("0 <= evidence_start AND evidence_start <= evidence_end"),
    sa.CheckConstraint(
        "(quantity_count IS NULL) = (quantity_unit IS NULL)", name="ck_facts_quantity"
    ),
    sa.CheckConstraint("(value_amount IS NULL) = (value_currency IS NULL)", name="ck_facts_value"),
    sa.Index("ix_facts_key", "supplier", "recipient", "system", "stage"),
)

fact_spans = sa.Table(
    "fact_spans",
    metadata,
    sa.Column(
        "fact_id",
        sa.Integer,
        sa.ForeignKey("facts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("evidence_start", sa.Integer, nullable=False),
    sa.Column("evidence_end", sa.Integer, nullable=False),
    sa.CheckConstraint("0 <= evidence_start AND evidence_start <= evidence_end"),
)

deals = sa.Table(
    "deals",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("supplier", sa.Text),
    sa.Column("recipient", sa.Text),
    sa.Column("system", sa.Text),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("stage", sa.Text),
    sa.Column("first_seen", sa.Date),
    sa.Column("last_seen", sa.Date, index=True),
    sa.Column("quantity_count", sa.BigInteger),
    sa.Column("quantity_unit", sa.Text),
    sa.Column("value_amount", sa.Double),
    sa.Column("value_currency", sa.Text),
    sa.Column("value_approximate", sa.Boolean),
    sa.Column("n_facts", sa.Integer, nullable=False),
    sa.Column("n_articles", sa.Integer, nullable=False),
    # The merged deal's confidence and number of contradictions, for lists to show and
    # sort by (revision 0003); NULL in rows written before it, until their deal is rebuilt.
    sa.Column("confidence", sa.Double),
    sa.Column("n_contradictions", sa.Integer),
    sa.Index("ix_deals_key", "supplier", "recipient", "system"),
)

rejects = sa.Table(
    "rejects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

#: Further sources of a stored article: wire copies (near-duplicates, by MinHash) and the
#: same text at another URL. A copy's facts are its original's, so it adds no facts and
#: does not count as an independent report; every URL it was seen at is kept here.
article_sources = sa.Table(
    "article_sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "article_id",
        sa.Integer,
        sa.ForeignKey("articles.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("locator", sa.Text, nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("outlet", sa.Text),
    sa.Column("date", sa.Date),
    sa.Column("url", sa.Text),
    sa.Column("source", sa.Text),
    sa.Column("similarity", sa.Double, nullable=False),
    sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("content_hash", "locator", name="uq_article_sources_copy"),
)

#: The MinHash signature of each article's text (:mod:`armsledger.duplicates`), written
#: with the article, so that near-duplicate search needs no re-reading of old texts.
article_signatures = sa.Table(
    "article_signatures",
    metadata,
    sa.Column(
        "article_id",
        sa.Integer,
        sa.ForeignKey("articles.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("minhash", sa.LargeBinary, nullable=False),
)

#: The band keys of each article's signature (:func:`armsledger.duplicates.band_keys`):
#: the locality-sensitive hash, kept in the register rather than in a writer's memory
#: (about 3 KB an article there), so that a register of millions of texts is searched for
#: copies by an indexed lookup, by every writer alike.
article_bands = sa.Table(
    "article_bands",
    metadata,
    # the key first: a lookup by keys is a search of the primary key, not a scan
    sa.Column("key", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("band", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column(
        "article_id",
        sa.Integer,
        sa.ForeignKey("articles.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

#: What ``watch`` last heard from each feed URL (:mod:`armsledger.watch`): the validators
#: of the last answer read in full, sent back so that a new run (a cron job with ``--once``)
#: makes conditional requests too, and when and how the last poll went. Added after
#: version 1 without a version bump: like the tables above, it is created on opening
#: where it is missing, and no older table changes.
feed_state = sa.Table(
    "feed_state",
    metadata,
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_status", sa.Text, nullable=False),
)


#: The analyst's reviews (``armsledger review``), in the order made: the audit trail. A
#: review names its fact by what identifies it across re-extraction (its article's name and
#: the key extracted from it), not by row id, so a fact read again from the same or a changed
#: article gets the same review: re-extraction never overrides an analyst. Added after
#: version 1 without a version bump, created on opening where it is missing.
reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("why", sa.Text),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("article", sa.Text, nullable=False, index=True),
    sa.Column("supplier", sa.Text),
    sa.Column("recipient", sa.Text),
    sa.Column("system", sa.Text),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("lot", sa.Integer, nullable=False),
    sa.Column("changes", sa.Text),
    sa.Column("fact_id", sa.Integer),
    sa.Column("deal_id", sa.String(64)),
)

#: The partitions of its inputs that a ``batch`` run has finished (revision 0002): ``run``
#: names the run's inputs and partitioning, so a run started again skips these.
batch_partitions = sa.Table(
    "batch_partitions",
    metadata,
    sa.Column("run", sa.String(64), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("articles", sa.Integer, nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
)

#: Deals whose facts changed since their row was last merged. ``ingest`` and ``batch``
#: mark the deals they touch here, in the transaction of the facts, and merge them
#: (:meth:`Register.refresh_deals`) every few seconds and at the end of a run: merging a
#: deal reads all its facts, and a deal reported for years has thousands.
stale_deals = sa.Table(
    "stale_deals",
    metadata,
    sa.Column("deal_id", sa.String(64), primary_key=True),
)


@dataclass(frozen=True, slots=True)
class Review:
    """One analyst review: what was done to which fact, by whom, when and why.

    Attributes:
        id: its row id, in the order reviews were made.
        action: ``confirm``, ``reject``, ``edit``, ``merge`` or ``split``.
        by: who reviewed.
        why: the reason given, or ``None``.
        at: when (UTC).
        article: the name of the reviewed fact's article.
        fact_id: the reviewed fact's row id when reviewed.
        deal_id: the deal the fact was in when reviewed.
        changes: the fields set (edit, merge, split), by FORMAT.md name.
    """

    id: int
    action: str
    by: str
    why: str | None
    at: dt.datetime
    article: str
    fact_id: int | None
    deal_id: str | None
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ArticleSource:
    """A further source of a stored article: a wire copy or the same text elsewhere."""

    article: str
    name: str
    url: str | None
    outlet: str | None
    date: dt.date | None
    source: str | None
    similarity: float


@dataclass(frozen=True, slots=True)
class FeedState:
    """What ``watch`` last heard from a feed URL.

    Attributes:
        url: the feed's URL, as given to ``watch``.
        etag: the ``ETag`` to send back as ``If-None-Match``, or ``None``.
        last_modified: the ``Last-Modified`` to send back as ``If-Modified-Since``, or ``None``.
        checked_at: when the feed was last polled (UTC).
        last_status: how that poll went (a :class:`armsledger.watch.Poll` status: ``read``,
            ``not modified`` or ``failed``).
    """

    url: str
    etag: str | None
    last_modified: str | None
    checked_at: dt.datetime
    last_status: str


@dataclass(frozen=True, slots=True)
class Reject:
    """An input that could not be read, and why."""

    id: int
    source: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article to store with :meth:`Register.save_many`: the arguments of
    :meth:`Register.save_article`."""

    article: Article
    facts: Sequence[Fact]
    extractor: str | None = None
    signature: bytes | None = None


@dataclass(frozen=True, slots=True)
class NewSource:
    """A further source to record with :meth:`Register.save_many`: the arguments of
    :meth:`Register.save_source` (``original`` is the stored article's content hash)."""

    original: str
    copy: Article
    similarity: float


@dataclass(frozen=True, slots=True)
class Partition:
    """A partition of ``batch`` run ``run`` whose inputs are all saved."""

    run: str
    partition: int
    articles: int


@dataclass
class SavedMany:
    """What :meth:`Register.save_many` did: the content hashes of the articles found
    stored already (left unchanged), and whether each source was added, in order."""

    unchanged: set[str] = dataclasses.field(default_factory=set)
    sources: list[bool] = dataclasses.field(default_factory=list)


class Register:
    """The register of articles, facts and deals at one database URL.

    Opening creates the tables if they are absent, or migrates them to the newest schema
    (:mod:`armsledger.migrations`). A ``postgresql://`` URL is served by psycopg (version
    3). Use it as a context manager, or call :meth:`close`.

    Raises:
        StoreError: the database cannot be opened, or holds a register of another schema
            version. The message names the URL (password hidden) and the reason.
    """

    def __init__(self, url: str) -> None:
        try:
            parsed = sa.make_url(url)
            self._shown = parsed.render_as_string(hide_password=True)
            self._engine = _create_engine(parsed)
        except (SQLAlchemyError, ValueError, ImportError) as error:
            raise StoreError(f"{_hide_password(url)}: cannot open the register ({error})") from None
        try:
            with self._engine.begin() as conn:
                migrations.upgrade(conn)
                version = conn.scalar(
                    sa.select(register_info.c.value).where(register_info.c.key == "schema_version")
                )
                if version is None:
                    conn.execute(
                        sa.insert(register_info).values(
                            key="schema_version", value=str(SCHEMA_VERSION)
                        )
                    )
        except SQLAlchemyError as error:
            self._engine.dispose()
            raise StoreError(
                f"{self._shown}: cannot open the register ({_reason(error)})"
            ) from None
        if version is not None and version != str(SCHEMA_VERSION):
            self._engine.dispose()
            raise StoreError(
                f"{self._shown}: the register has schema version {version}; "
                f"this armsledger reads version {SCHEMA_VERSION}"
            )

    def __repr__(self) -> str:
        return f"Register({self._shown!r})"

    def __enter__(self) -> Register:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    # -- writing ---------------------------------------------------------------------------

    def save_article(
        self,
        article: Article,
        facts: Sequence[Fact],
        *,
        extractor: str | None = None,
        signature: bytes | None = None,
        defer_deals: bool = False,
    ) -> Literal["stored", "unchanged"]:
        """Store an article, its facts, and the deals they touch, in one transaction.

        Each deal key the facts touch is recomputed from all the facts in the register
        with that key, dated by their articles; with ``defer_deals`` it is marked stale
        instead, to be merged by :meth:`refresh_deals`.

        Args:
            article: the article; its text must not be stored already.
            facts: its facts, each with ``article_id == article.id`` and spans that are
                exact spans of ``article.text``.
            extractor: what judged the article (``rules.v1``), recorded on its row; by
                default the first fact's extractor, or nothing when there are no facts.
            signature: the text's MinHash signature (:mod:`armsledger.duplicates`), kept
                in ``article_signatures`` in the same transaction.

        Returns:
            ``"stored"``, or ``"unchanged"`` when an article with the same text is
            already in the register (nothing is written).

        Raises:
            StoreError: a fact does not belong to the article, or the write failed; the
                transaction is rolled back and nothing of the article is kept.
        """
        _check_facts(article, facts)
        content_hash = article.content_hash
        try:
            with self._engine.begin() as conn:
                if _find_hash(conn, content_hash) is not None:
                    return "unchanged"
                fresh = [NewArticle(article, facts, extractor, signature)]
                touched = _insert_many(conn, fresh, _load_reviews(conn, {article.id}))
                (_mark_stale if defer_deals else _recompute_deals)(conn, touched)
        except IntegrityError as error:
            # Another writer may have stored the same text since we looked.
            if self._has_hash(content_hash):
                return "unchanged"
            raise self._error(f"cannot store {article.id}", error) from None
        except ArmsLedgerError:
            raise
        except Exception as error:  # anything at all: the transaction is rolled back
            raise self._error(f"cannot store {article.id}", error) from None
        return "stored"

    def save_source(self, content_hash: str, copy: Article, similarity: float) -> bool:
        """Record ``copy`` as a further source of the stored article with ``content_hash``.

        A copy is known by its text and where it was seen (its URL, else its source); the
        same copy recorded twice, or the stored article itself, adds nothing.

        Returns:
            Whether a source was added.

        Raises:
            StoreError: no article has that hash, or the write failed.
        """
        try:
            with self._engine.begin() as conn:
                return self._insert_source(conn, content_hash, copy, similarity)
        except IntegrityError:
            return False  # another writer recorded the same copy since we looked
        except SQLAlchemyError as error:
            raise self._error(f"cannot record a source of {copy.id}", error) from None

    def _insert_source(
        self, conn: Connection, content_hash: str, copy: Article, similarity: float
    ) -> bool:
        locator = copy.url or copy.source or copy.id
        row = conn.execute(
            sa.select(articles.c.id, articles.c.url, articles.c.source).where(
                articles.c.content_hash == content_hash
            )
        ).first()
        if row is None:
            raise StoreError(f"{self._shown}: no article with hash {content_hash[:12]}")
        if locator in (row.url, row.source):
            return False
        seen = conn.scalar(
            sa.select(article_sources.c.id).where(
                article_sources.c.content_hash == copy.content_hash,
                article_sources.c.locator == locator,
            )
        )
        if seen is not None:
            return False
        conn.execute(
            sa.insert(article_sources).values(
                article_id=row.id,
                name=copy.id,
                content_hash=copy.content_hash,
                locator=locator,
                title=copy.title,
                outlet=copy.outlet,
                date=copy.date,
                url=copy.url,
                source=copy.source,
                similarity=similarity,
                ingested_at=_now(),
            )
        )
        return True

    def save_many(
        self,
        new: Sequence[NewArticle],
        *,
        sources: Sequence[NewSource] = (),
        rejected: Sequence[tuple[str, str]] = (),
        partition: Partition | None = None,
        defer_deals: bool = False,
    ) -> SavedMany:
        """Store many articles with their facts, signatures, further sources and rejects,
        and record a ``batch`` partition as finished, all in one transaction; each deal key
        the facts touch is recomputed once, at the end (or, with ``defer_deals``, marked
        stale for :meth:`refresh_deals`).

        ``rejected`` holds ``(source, reason)`` pairs. What :meth:`save_article`,
        :meth:`save_source`, :meth:`save_reject` and
        :meth:`save_partition` do one by one, at one commit: the batch writer's way
        (:mod:`armsledger.parallel`). An article whose text is stored already (by another
        writer since the caller looked) is left out and named in the result. Sources are
        recorded after the articles, in order, so a source may name an article of ``new``.

        Raises:
            StoreError: a fact does not belong to its article, or the write failed (a
                concurrent writer's row included); nothing of the call is kept, and the
                caller may save the same things one by one to learn which one failed.
        """
        for item in new:
            _check_facts(item.article, item.facts)
        saved = SavedMany()
        try:
            with self._engine.begin() as conn:
                order = list(new)
                if conn.dialect.name == "postgresql":
                    # Concurrent writers insert in one order (the unique content hash), so
                    # none waits on another's uncommitted row while holding one it needs.
                    order.sort(key=lambda item: item.article.content_hash)
                hashes = [item.article.content_hash for item in order]
                stored: set[str] = set()
                for start in range(0, len(hashes), _PAGE):
                    stored |= _stored_hashes(conn, hashes[start : start + _PAGE])
                reviewed = _load_reviews(conn, {item.article.id for item in order})
                fresh: list[NewArticle] = []
                for item in order:
                    content_hash = item.article.content_hash
                    if content_hash in stored:
                        saved.unchanged.add(content_hash)
                        continue
                    stored.add(content_hash)
                    fresh.append(item)
                touched = _insert_many(conn, fresh, reviewed)
                (_mark_stale if defer_deals else _recompute_deals)(conn, touched)
                saved.sources.extend(
                    self._insert_source(conn, source.original, source.copy, source.similarity)
                    for source in sources
                )
                if rejected:
                    at = _now()
                    conn.execute(
                        sa.insert(rejects),
                        [{"source": src, "reason": why, "at": at} for src, why in rejected],
                    )
                if partition is not None:
                    _insert_partition(conn, partition)
        except ArmsLedgerError:
            raise
        except Exception as error:  # anything at all: the transaction is rolled back
            raise self._error(f"cannot store {len(new)} articles at once", error) from None
        return saved

    def save_signature(self, content_hash: str, signature: bytes) -> None:
        """Keep the MinHash signature and band keys of a stored article that has none (one
        stored by an older armsledger)."""
        try:
            with self._engine.begin() as conn:
                row_id = _find_hash(conn, content_hash)
                if row_id is None:
                    return
                conn.execute(sa.delete(article_bands).where(article_bands.c.article_id == row_id))
                conn.execute(
                    sa.delete(article_signatures).where(article_signatures.c.article_id == row_id)
                )
                _insert_signatures(conn, [(row_id, signature)])
        except SQLAlchemyError as error:
            raise self._error("cannot record a signature", error) from None

    def iter_unbanded(self) -> Iterator[tuple[str, bytes | None, str]]:
        """``(content_hash, signature, text)`` of each article without band keys (stored by
        an older armsledger), a page at a time; the text only where the signature is
        missing too (``""`` otherwise). Nothing, once every article has its keys."""
        last = 0
        joined = articles.outerjoin(
            article_signatures, article_signatures.c.article_id == articles.c.id
        )
        banded = sa.exists().where(article_bands.c.article_id == articles.c.id)
        while True:
            text = sa.case((article_signatures.c.minhash.is_(None), articles.c.text), else_="")
            query = (
                sa.select(
                    articles.c.id, articles.c.content_hash, article_signatures.c.minhash, text
                )
                .select_from(joined)
                .where(articles.c.id > last, ~banded)
                .order_by(articles.c.id)
                .limit(_PAGE * 10)
            )
            try:
                with self._engine.connect() as conn:
                    rows = conn.execute(query).all()
            except SQLAlchemyError as error:
                raise self._error("cannot read signatures", error) from None
            yield from ((row[1], row[2], row[3]) for row in rows)
            if len(rows) < _PAGE * 10:
                return
            last = rows[-1][0]

    def copy_candidates(self, keys: Iterable[BandKey]) -> list[tuple[str, bytes]]:
        """``(content_hash, signature)`` of each stored article whose signature shares one
        of the band ``keys``: the candidates for a copy of the text with those keys."""
        wanted = set(keys)
        hashes = sorted({key for _, key in wanted})
        found: dict[str, bytes] = {}
        try:
            with self._engine.connect() as conn:
                for start in range(0, len(hashes), _PAGE):
                    page = hashes[start : start + _PAGE]
                    query = (
                        sa.select(
                            article_bands.c.band,
                            article_bands.c.key,
                            articles.c.content_hash,
                            article_signatures.c.minhash,
                        )
                        .select_from(
                            article_bands.join(
                                articles, articles.c.id == article_bands.c.article_id
                            ).join(
                                article_signatures,
                                article_signatures.c.article_id == article_bands.c.article_id,
                            )
                        )
                        .where(article_bands.c.key.in_(page))
                    )
                    found.update(
                        (row[2], bytes(row[3]))
                        for row in conn.execute(query)
                        if (row[0], row[1]) in wanted
                    )
        except SQLAlchemyError as error:
            raise self._error("cannot search for copies", error) from None
        return list(found.items())

    def iter_sources(self, article_id: str | None = None) -> list[ArticleSource]:
        """The further sources of stored articles (of the article of this name, if given),
        in the order recorded."""
        query = (
            sa.select(article_sources, articles.c.name.label("article_name"))
            .select_from(article_sources.join(articles))
            .order_by(article_sources.c.id)
        )
        if article_id is not None:
            query = query.where(articles.c.name == article_id)
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except SQLAlchemyError as error:
            raise self._error("cannot read sources", error) from None
        return [
            ArticleSource(
                article=row["article_name"],
                name=row["name"],
                url=row["url"],
                outlet=row["outlet"],
                date=row["date"],
                source=row["source"],
                similarity=row["similarity"],
            )
            for row in rows
        ]

    def save_reject(self, source: str, reason: str) -> None:
        """Record an input that could not be read, and why."""
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.insert(rejects).values(source=source, reason=reason, at=_now()))
        except SQLAlchemyError as error:
            raise self._error(f"cannot record the reject of {source}", error) from None

    def save_feed_state(
        self,
        url: str,
        *,
        etag: str | None,
        last_modified: str | None,
        last_status: str,
    ) -> None:
        """Keep what a poll of the feed at ``url`` heard, in a transaction of its own.

        Replaces the feed's earlier state; ``checked_at`` is now.

        Raises:
            StoreError: the write failed.
        """
        values = {
            "etag": etag,
            "last_modified": last_modified,
            "checked_at": _now(),
            "last_status": last_status,
        }
        update = sa.update(feed_state).where(feed_state.c.url == url).values(**values)
        try:
            try:
                with self._engine.begin() as conn:
                    # Portable upsert: update, else insert (no dialect's ON CONFLICT).
                    if conn.execute(update).rowcount == 0:
                        conn.execute(sa.insert(feed_state).values(url=url, **values))
            except IntegrityError:
                # Another writer inserted the feed since we looked: ours is the later word.
                with self._engine.begin() as conn:
                    conn.execute(update)
        except SQLAlchemyError as error:
            raise self._error(f"cannot record the state of feed {url}", error) from None

    def save_partition(self, run: str, partition: int, n_articles: int) -> None:
        """Record that ``batch`` run ``run`` has saved every input of ``partition``.

        Raises:
            StoreError: the write failed.
        """
        try:
            with self._engine.begin() as conn:
                _insert_partition(conn, Partition(run, partition, n_articles))
        except SQLAlchemyError as error:
            raise self._error(f"cannot record partition {partition} of run {run}", error) from None

    def finished_partitions(self, run: str) -> set[int]:
        """The partitions ``batch`` run ``run`` has finished (:meth:`save_partition`)."""
        query = sa.select(batch_partitions.c.partition).where(batch_partitions.c.run == run)
        try:
            with self._engine.connect() as conn:
                return set(conn.scalars(query))
        except SQLAlchemyError as error:
            raise self._error(f"cannot read the partitions of run {run}", error) from None

    def refresh_deals(self, per_transaction: int = 200) -> int:
        """Merge again the deals marked stale (``defer_deals``), ``per_transaction`` at a
        time, each lot in its transaction with the deals locked as a write locks them;
        returns how many. Safe beside writers: a deal touched while it is merged is marked
        stale again when that writer commits."""
        done = 0
        query = sa.select(stale_deals.c.deal_id).order_by(stale_deals.c.deal_id)
        try:
            while True:
                with self._engine.begin() as conn:
                    keys = set(conn.scalars(query.limit(per_transaction)))
                    if not keys:
                        return done
                    _recompute_deals(conn, keys)
                    conn.execute(sa.delete(stale_deals).where(stale_deals.c.deal_id.in_(keys)))
                done += len(keys)
        except SQLAlchemyError as error:
            raise self._error("cannot merge the deals marked stale", error) from None

    def stale_deals(self) -> int:
        """How many deals wait for :meth:`refresh_deals`."""
        try:
            with self._engine.connect() as conn:
                return int(conn.scalar(sa.select(sa.func.count()).select_from(stale_deals)) or 0)
        except SQLAlchemyError as error:
            raise self._error("cannot count the deals marked stale", error) from None

    def rebuild_deals(self) -> int:
        """Recompute every deal from the facts, in one transaction; returns how many.

        For use after the merge rules change. On PostgreSQL the deals table is locked
        against other writers (not readers) until it is done.
        """
        try:
            with self._engine.begin() as conn:
                _lock_deals(conn, (), everything=True)
                conn.execute(sa.delete(deals))
                _rekey_facts(conn)
                keys = set(conn.scalars(sa.select(facts.c.deal_id).distinct()))
                _recompute_deals(conn, keys, locked=True)
                conn.execute(sa.delete(stale_deals))
        except SQLAlchemyError as error:
            raise self._error("cannot rebuild the deals", error) from None
        return len(keys)

    # -- analyst review --------------------------------------------------------------------

    def review_fact(
        self,
        fact_id: int,
        action: str,
        *,
        by: str,
        why: str | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> Review:
        """Record an analyst's review of the fact with this row id, and apply it.

        ``confirm`` makes the fact certain (confidence 1); ``reject`` drops it from its deal;
        ``edit`` sets the fields in ``changes`` (:data:`armsledger.merge.EDITABLE_FIELDS`),
        which may move it to another deal. The review, the fact's new deal id and the deals
        it leaves and joins are written in one transaction. Later ingests of the same or a
        changed article, and :meth:`rebuild_deals`, apply the review again.

        Raises:
            InputError: no such fact, no reviewer, or an action or change not allowed.
            StoreError: the write failed.
        """
        try:
            with self._engine.begin() as conn:
                review = self._review(conn, fact_id, action, by, why, changes or {})
                _recompute_deals(conn, _rekey_facts(conn, _same_fact(conn, fact_id)))
        except ArmsLedgerError:
            raise
        except SQLAlchemyError as error:
            raise self._error(f"cannot review fact {fact_id}", error) from None
        return review

    def merge_deal(self, deal_id: str, into: str, *, by: str, why: str | None = None) -> int:
        """Merge deal ``deal_id`` into deal ``into``: each of its facts is edited to the
        other's supplier, recipient, system and lot (one ``merge`` review per fact).

        Returns:
            How many facts moved.

        Raises:
            InputError: either deal is unknown, or they are the same.
        """
        if deal_id == into:
            raise InputError(f"cannot merge deal {deal_id} into itself")
        target = self.get_deal(into)
        if target is None:
            raise InputError(f"no deal {into!r} in the register")
        changes = {
            "supplier": target.supplier,
            "recipient": target.recipient,
            "system": target.system,
            "lot": target.lot,
        }
        return self._move(deal_id, None, "merge", changes, by, why)

    def split_deal(
        self, deal_id: str, fact_ids: Sequence[int], *, lot: int, by: str, why: str | None = None
    ) -> str:
        """Split facts off deal ``deal_id`` into lot ``lot`` of the same key (``split``
        reviews); returns the id of the deal they now make.

        Raises:
            InputError: the deal is unknown, a fact is not in it, or the lot is its own.
        """
        source = self.get_deal(deal_id)
        if source is None:
            raise InputError(f"no deal {deal_id!r} in the register")
        if lot == source.lot:
            raise InputError(f"deal {deal_id} is lot {lot} already; give another --lot")
        self._move(deal_id, fact_ids, "split", {"lot": lot}, by, why)
        return deal_id_of(source.supplier, source.recipient, source.system, lot)

    def _move(
        self,
        deal_id: str,
        fact_ids: Sequence[int] | None,
        action: str,
        changes: dict[str, Any],
        by: str,
        why: str | None,
    ) -> int:
        try:
            with self._engine.begin() as conn:
                members = set(conn.scalars(sa.select(facts.c.id).where(facts.c.deal_id == deal_id)))
                if not members:
                    raise InputError(f"no deal {deal_id!r} in the register")
                chosen = sorted(members) if fact_ids is None else list(fact_ids)
                strays = sorted(set(chosen) - members)
                if strays:
                    raise InputError(
                        f"fact {strays[0]} is not in deal {deal_id}",
                        hint=f"list them: armsledger deal {deal_id} --format json",
                    )
                for fact_id in chosen:
                    self._review(conn, fact_id, action, by, why, changes)
                _recompute_deals(conn, _rekey_facts(conn, facts.c.id.in_(chosen)) | {deal_id})
        except ArmsLedgerError:
            raise
        except SQLAlchemyError as error:
            raise self._error(f"cannot {action} deal {deal_id}", error) from None
        return len(chosen)

    def _review(
        self,
        conn: Connection,
        fact_id: int,
        action: str,
        by: str,
        why: str | None,
        changes: Mapping[str, Any],
    ) -> Review:
        if not by.strip():
            raise InputError("a review needs a reviewer", hint="give --by NAME")
        query = (
            sa.select(facts, articles.c.name.label("article_name"))
            .select_from(facts.join(articles, facts.c.article_id == articles.c.id))
            .where(facts.c.id == fact_id)
        )
        row = conn.execute(query).mappings().first()
        if row is None:
            raise InputError(f"no fact {fact_id} in the register")
        fact = _fact(row, row["article_name"])
        if action in ("confirm", "reject") and changes:
            raise InputError(f"a {action} review takes no changes")
        try:
            apply_review(fact, action, changes)
        except ValueError as error:
            raise InputError(f"fact {fact_id}: {error}") from None
        at = _now()
        review_id = _new_id(
            conn,
            sa.insert(reviews).values(
                action=action,
                by=by,
                why=why,
                at=at,
                article=row["article_name"],
                supplier=fact.supplier,
                recipient=fact.recipient,
                system=fact.system,
                stage=str(fact.stage),
                lot=fact.lot or 1,
                changes=json.dumps(dict(changes), sort_keys=True) if changes else None,
                fact_id=fact_id,
                deal_id=row["deal_id"],
            ),
        )
        return Review(
            review_id,
            action,
            by,
            why,
            at,
            row["article_name"],
            fact_id,
            row["deal_id"],
            dict(changes),
        )

    def iter_reviews(self, *, deal_id: str | None = None) -> list[Review]:
        """The reviews made, oldest first (of facts reviewed while in ``deal_id``, if given)."""
        query = sa.select(reviews).order_by(reviews.c.id)
        if deal_id is not None:
            query = query.where(reviews.c.deal_id == deal_id)
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except SQLAlchemyError as error:
            raise self._error("cannot read reviews", error) from None
        return [
            Review(
                row["id"],
                row["action"],
                row["by"],
                row["why"],
                row["at"],
                row["article"],
                row["fact_id"],
                row["deal_id"],
                json.loads(row["changes"] or "{}"),
            )
            for row in rows
        ]

    # -- reading ---------------------------------------------------------------------------

    def stored_hashes(self, hashes: Iterable[str]) -> set[str]:
        """Which of these content hashes are stored (one query per few hundred)."""
        wanted = sorted(set(hashes))
        found: set[str] = set()
        try:
            with self._engine.connect() as conn:
                for start in range(0, len(wanted), _PAGE):
                    found |= _stored_hashes(conn, wanted[start : start + _PAGE])
        except SQLAlchemyError as error:
            raise self._error("cannot read articles", error) from None
        return found

    def has_article(self, article: Article) -> bool:
        """Whether an article with the same text is stored (saving it would be a no-op)."""
        return self._has_hash(article.content_hash)

    def iter_facts(
        self,
        *,
        supplier: str | None = None,
        recipient: str | None = None,
        system: str | None = None,
        stage: Stage | str | None = None,
        since: dt.date | None = None,
        deal_id: str | None = None,
    ) -> Iterator[Fact]:
        """The stored facts, in the order they were stored, that match every filter given.

        The facts are read when this is called (not lazily), so errors surface here.

        ``since`` keeps facts from articles dated on or after it (undated ones are left
        out); ``system`` compares the stored canonical designation exactly. A fact's
        ``article_id`` is its article's name, as when it was extracted.

        Raises:
            InputError: ``stage`` is not one of FORMAT.md's stages.
        """
        conditions: list[sa.ColumnElement[bool]] = []
        for column, value in (
            (facts.c.supplier, supplier),
            (facts.c.recipient, recipient),
            (facts.c.system, system),
            (facts.c.stage, _stage(stage)),
            (facts.c.deal_id, deal_id),
        ):
            if value is not None:
                conditions.append(column == value)
        if since is not None:
            conditions.append(articles.c.date >= since)
        joined = facts.join(articles, facts.c.article_id == articles.c.id)
        query = (
            sa.select(facts, articles.c.name.label("article_name"))
            .select_from(joined)
            .where(*conditions)
            .order_by(facts.c.id)
        )
        spans_query = (
            sa.select(fact_spans)
            .select_from(fact_spans.join(joined, fact_spans.c.fact_id == facts.c.id))
            .where(*conditions)
            .order_by(fact_spans.c.fact_id, fact_spans.c.position)
        )
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
                more: dict[int, list[Span]] = {}
                for span in conn.execute(spans_query).mappings():
                    more.setdefault(span["fact_id"], []).append(_span(span))
        except SQLAlchemyError as error:
            raise self._error("cannot read facts", error) from None
        return iter([_fact(row, row["article_name"], more.get(row["id"], ())) for row in rows])

    def iter_deals(
        self,
        *,
        supplier: str | None = None,
        recipient: str | None = None,
        system: str | None = None,
        stage: Stage | str | None = None,
        since: dt.date | None = None,
    ) -> list[Deal]:
        """The deals that match every filter given, with their timelines.

        ``stage`` is the deal's current stage (:attr:`armsledger.model.Deal.stage`);
        ``since`` keeps deals last seen on or after that date. Deals come sorted by
        supplier, recipient, system and lot.

        Raises:
            InputError: ``stage`` is not one of FORMAT.md's stages.
        """
        conditions: list[sa.ColumnElement[bool]] = []
        for column, value in (
            (deals.c.supplier, supplier),
            (deals.c.recipient, recipient),
            (deals.c.system, system),
            (deals.c.stage, _stage(stage)),
        ):
            if value is not None:
                conditions.append(column == value)
        if since is not None:
            conditions.append(deals.c.last_seen >= since)
        selected = sa.select(deals.c.id).where(*conditions)
        try:
            with self._engine.connect() as conn:
                found = _load_deals(conn, facts.c.deal_id.in_(selected))
        except SQLAlchemyError as error:
            raise self._error("cannot read deals", error) from None
        return sorted(found, key=_deal_order)

    def get_deal(self, deal_id: str) -> Deal | None:
        """The deal with this id (:func:`armsledger.model.deal_id`), with its timeline."""
        try:
            with self._engine.connect() as conn:
                found = _load_deals(conn, facts.c.deal_id == deal_id)
        except SQLAlchemyError as error:
            raise self._error(f"cannot read deal {deal_id}", error) from None
        return found[0] if found else None

    def get_article(self, article_id: int | str) -> Article | None:
        """An article by its row id (``int``) or by its name (``str``).

        Names need not be unique (two folders may hold the same file name with different
        texts); by name, the most recently stored one is returned.
        """
        if isinstance(article_id, int):
            condition = articles.c.id == article_id
        else:
            condition = articles.c.name == article_id
        query = sa.select(articles).where(condition).order_by(articles.c.id.desc()).limit(1)
        try:
            with self._engine.connect() as conn:
                row = conn.execute(query).mappings().first()
        except SQLAlchemyError as error:
            raise self._error(f"cannot read article {article_id}", error) from None
        return _article(row) if row is not None else None

    def iter_articles(self) -> Iterator[Article]:
        """Every stored article, in the order stored, read a page at a time."""
        last = 0
        while True:
            query = (
                sa.select(articles).where(articles.c.id > last).order_by(articles.c.id).limit(_PAGE)
            )
            try:
                with self._engine.connect() as conn:
                    rows = conn.execute(query).mappings().all()
            except SQLAlchemyError as error:
                raise self._error("cannot read articles", error) from None
            yield from (_article(row) for row in rows)
            if len(rows) < _PAGE:
                return
            last = rows[-1]["id"]

    def get_feed_state(self, url: str) -> FeedState | None:
        """What the last poll of the feed at ``url`` heard, or ``None`` if it was never polled.

        Raises:
            StoreError: the register cannot be read.
        """
        try:
            with self._engine.connect() as conn:
                row = (
                    conn.execute(sa.select(feed_state).where(feed_state.c.url == url))
                    .mappings()
                    .first()
                )
        except SQLAlchemyError as error:
            raise self._error(f"cannot read the state of feed {url}", error) from None
        if row is None:
            return None
        checked_at: dt.datetime = row["checked_at"]
        if checked_at.tzinfo is None:  # SQLite keeps no time zone; it was written in UTC
            checked_at = checked_at.replace(tzinfo=dt.UTC)
        return FeedState(
            url=row["url"],
            etag=row["etag"],
            last_modified=row["last_modified"],
            checked_at=checked_at,
            last_status=row["last_status"],
        )

    def iter_rejects(self) -> list[Reject]:
        """Every recorded reject, oldest first."""
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(sa.select(rejects).order_by(rejects.c.id)).mappings().all()
        except SQLAlchemyError as error:
            raise self._error("cannot read rejects", error) from None
        return [Reject(row["id"], row["source"], row["reason"], row["at"]) for row in rows]

    def counts(self) -> dict[str, int]:
        """How many articles, facts, deals and rejects the register holds."""
        try:
            with self._engine.connect() as conn:
                return {
                    table.name: conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0
                    for table in (articles, facts, deals, rejects)
                }
        except SQLAlchemyError as error:
            raise self._error("cannot count", error) from None

    def query_deals(
        self,
        filters: Filters | None = None,
        *,
        sort: str = "last_seen",
        descending: bool = True,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[DealSummary]:
        """One page of deal summaries matching ``filters``, sorted by one of :data:`DEAL_SORTS`.

        Rows with nothing in the sort column come last either way; ties go by deal id. Each
        summary's confidence and contradictions are those :meth:`get_deal` gives: stored with
        the deal's row when it is merged, or (rows written before they were stored) merged
        from the facts of those of the page's deals, in one query for the page.

        Raises:
            InputError: ``sort`` is not one of :data:`DEAL_SORTS`, or the page is out of range.
            StoreError: the register cannot be read.
        """
        if sort not in DEAL_SORTS:
            raise InputError(f"sort {sort!r} is not one of: {', '.join(DEAL_SORTS)}")
        _check_page(limit, offset)
        column = deals.c[sort]
        key = _stage_rank(column) if sort == "stage" else column
        conditions = _deal_conditions(filters or Filters())
        query = (
            sa.select(deals)
            .where(*conditions)
            .order_by(column.is_(None), key.desc() if descending else key.asc(), deals.c.id)
            .limit(limit)
            .offset(offset)
        )
        counting = sa.select(sa.func.count()).select_from(deals).where(*conditions)
        try:
            with self._engine.connect() as conn:
                total = conn.scalar(counting) or 0
                rows = conn.execute(query).mappings().all()
                unknown = [row["id"] for row in rows if row["n_contradictions"] is None]
                merged = _merged_deals(conn, unknown)
        except SQLAlchemyError as error:
            raise self._error("cannot read deals", error) from None
        summaries = tuple(_deal_summary(row, merged.get(row["id"])) for row in rows)
        return Page(summaries, total, limit, offset)

    def query_facts(
        self,
        filters: Filters | None = None,
        *,
        deal_id: str | None = None,
        article: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[StoredFact]:
        """One page of stored facts matching ``filters`` (and a deal or an article row), in the
        order stored, each with every evidence span.

        Raises:
            InputError: the page is out of range.
            StoreError: the register cannot be read.
        """
        _check_page(limit, offset)
        conditions = _fact_conditions(filters or Filters())
        if deal_id is not None:
            conditions.append(facts.c.deal_id == deal_id)
        if article is not None:
            conditions.append(facts.c.article_id == article)
        joined = facts.join(articles, facts.c.article_id == articles.c.id)
        query = (
            sa.select(
                facts,
                articles.c.name.label("article_name"),
                articles.c.title.label("article_title"),
                articles.c.date.label("article_date"),
            )
            .select_from(joined)
            .where(*conditions)
            .order_by(facts.c.id)
            .limit(limit)
            .offset(offset)
        )
        counting = sa.select(sa.func.count()).select_from(joined).where(*conditions)
        try:
            with self._engine.connect() as conn:
                total = conn.scalar(counting) or 0
                rows = conn.execute(query).mappings().all()
                more: dict[int, list[Span]] = {}
                ids = [row["id"] for row in rows]
                if ids:
                    spans_query = (
                        sa.select(fact_spans)
                        .where(fact_spans.c.fact_id.in_(ids))
                        .order_by(fact_spans.c.fact_id, fact_spans.c.position)
                    )
                    for span in conn.execute(spans_query).mappings():
                        more.setdefault(span["fact_id"], []).append(_span(span))
        except SQLAlchemyError as error:
            raise self._error("cannot read facts", error) from None
        found = tuple(
            StoredFact(
                id=row["id"],
                article=row["article_id"],
                article_name=row["article_name"],
                article_title=row["article_title"],
                date=row["article_date"],
                deal_id=row["deal_id"],
                fact=_fact(row, row["article_name"], more.get(row["id"], ())),
            )
            for row in rows
        )
        return Page(found, total, limit, offset)

    def query_articles(
        self, filters: Filters | None = None, *, limit: int = 50, offset: int = 0
    ) -> Page[ArticleSummary]:
        """One page of articles, newest first (undated last), without their texts.

        Of ``filters`` only ``since``, ``until`` and ``text`` (title or text) apply to articles.

        Raises:
            InputError: the page is out of range.
            StoreError: the register cannot be read.
        """
        _check_page(limit, offset)
        filters = filters or Filters()
        conditions: list[sa.ColumnElement[bool]] = []
        if filters.since is not None:
            conditions.append(articles.c.date >= filters.since)
        if filters.until is not None:
            conditions.append(articles.c.date <= filters.until)
        if filters.text:
            conditions.append(
                sa.or_(
                    _contains(articles.c.title, filters.text),
                    _contains(articles.c.text, filters.text),
                )
            )
        n_facts = (
            sa.select(sa.func.count())
            .where(facts.c.article_id == articles.c.id)
            .correlate(articles)
            .scalar_subquery()
        )
        query = (
            sa.select(
                articles.c.id,
                articles.c.name,
                articles.c.title,
                articles.c.outlet,
                articles.c.date,
                articles.c.url,
                articles.c.relevant,
                n_facts.label("n_facts"),
            )
            .where(*conditions)
            .order_by(articles.c.date.is_(None), articles.c.date.desc(), articles.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        counting = sa.select(sa.func.count()).select_from(articles).where(*conditions)
        try:
            with self._engine.connect() as conn:
                total = conn.scalar(counting) or 0
                rows = conn.execute(query).mappings().all()
        except SQLAlchemyError as error:
            raise self._error("cannot read articles", error) from None
        found = tuple(
            ArticleSummary(
                id=row["id"],
                name=row["name"],
                title=row["title"],
                outlet=row["outlet"],
                date=row["date"],
                url=row["url"],
                relevant=bool(row["relevant"]),
                n_facts=row["n_facts"],
            )
            for row in rows
        )
        return Page(found, total, limit, offset)

    def query_flows(self, filters: Filters | None = None) -> list[Flow]:
        """Deals and facts per supplier and recipient, for the deals matching ``filters``;
        the largest flows first.

        Raises:
            StoreError: the register cannot be read.
        """
        n_deals = sa.func.count(deals.c.id)
        query = (
            sa.select(
                deals.c.supplier,
                deals.c.recipient,
                n_deals.label("deals"),
                sa.func.sum(deals.c.n_facts).label("facts"),
            )
            .where(*_deal_conditions(filters or Filters()))
            .group_by(deals.c.supplier, deals.c.recipient)
            .order_by(n_deals.desc(), deals.c.supplier, deals.c.recipient)
        )
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except SQLAlchemyError as error:
            raise self._error("cannot read flows", error) from None
        return [Flow(r["supplier"], r["recipient"], r["deals"], int(r["facts"] or 0)) for r in rows]

    def count_by_year_and_stage(self, filters: Filters | None = None) -> list[YearStageCount]:
        """How many facts matching ``filters`` each year (of their articles) and stage holds,
        by year (undated last), then stage order.

        Raises:
            StoreError: the register cannot be read.
        """
        year = sa.extract("year", articles.c.date)
        query = (
            sa.select(year.label("year"), facts.c.stage, sa.func.count().label("facts"))
            .select_from(facts.join(articles, facts.c.article_id == articles.c.id))
            .where(*_fact_conditions(filters or Filters()))
            .group_by(year, facts.c.stage)
        )
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except SQLAlchemyError as error:
            raise self._error("cannot count facts", error) from None
        found = [
            YearStageCount(
                int(r["year"]) if r["year"] is not None else None, Stage(r["stage"]), r["facts"]
            )
            for r in rows
        ]
        return sorted(found, key=lambda c: (c.year is None, c.year or 0, STAGE_ORDER[c.stage]))

    # -- helpers ---------------------------------------------------------------------------

    def _has_hash(self, content_hash: str) -> bool:
        try:
            with self._engine.connect() as conn:
                return _find_hash(conn, content_hash) is not None
        except SQLAlchemyError as error:
            raise self._error("cannot read articles", error) from None

    def _error(self, doing: str, error: BaseException) -> StoreError:
        return StoreError(f"{self._shown}: {doing} ({_reason(error)})")


def _create_engine(url: sa.URL) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3, not SQLAlchemy's psycopg2
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    options: dict[str, Any] = {"connect_args": {"timeout": 30}}
    if url.database in (None, "", ":memory:"):
        # One in-memory database shared by every use of the engine, from any thread.
        options = {
            "poolclass": StaticPool,
            "connect_args": {"check_same_thread": False},
        }
    engine = sa.create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _enable_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return engine


def _hide_password(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@", 1)[-1] if "@" in url else url


def _reason(error: BaseException) -> str:
    if isinstance(error, DBAPIError) and error.orig is not None:
        return f"{type(error.orig).__name__}: {error.orig}"
    return f"{type(error).__name__}: {error}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stage(stage: Stage | str | None) -> str | None:
    if stage is None:
        return None
    try:
        return Stage(stage).value
    except ValueError:
        allowed = ", ".join(s.value for s in Stage)
        raise InputError(f"stage {stage!r} is not one of: {allowed}") from None


def _insert_partition(conn: Connection, done: Partition) -> None:
    conn.execute(
        sa.delete(batch_partitions).where(
            batch_partitions.c.run == done.run, batch_partitions.c.partition == done.partition
        )
    )
    conn.execute(
        sa.insert(batch_partitions).values(
            run=done.run, partition=done.partition, articles=done.articles, finished_at=_now()
        )
    )


def _check_facts(article: Article, facts: Sequence[Fact]) -> None:
    for fact in facts:
        if fact.article_id != article.id:
            raise StoreError(
                f"{article.id}: a fact of article {fact.article_id!r} cannot be stored with it"
            )
        for span in fact.spans:
            if article.text[span.start : span.end] != span.text:
                raise StoreError(
                    f"{article.id}: evidence {span.text[:60]!r} is not the text at "
                    f"[{span.start}, {span.end}) of the article"
                )


def _new_id(conn: Connection, statement: sa.Insert, row: dict[str, Any] | None = None) -> int:
    """The primary key of the row ``statement`` inserts, with the values ``row`` if given
    (portable: no RETURNING needed)."""
    key = conn.execute(statement, row).inserted_primary_key
    if key is None or key[0] is None:
        raise StoreError(f"the database gave no id for the new {statement.table.name} row")
    return int(key[0])


def _insert_many(
    conn: Connection, new: Sequence[NewArticle], reviewed: dict[_ReviewKey, list[Any]]
) -> set[str]:
    """Insert articles, their signatures, facts and further spans, one statement per table
    for all of them (several rows per statement, ids given back in order); the deal keys
    touched, to recompute. For one article (``save_article``) or a partition (``save_many``):
    row by row, the inserts took most of a batch writer's time, profiled on 2,000 articles."""
    if not new:
        return set()
    at = _now()
    rows = [
        {
            "name": item.article.id,
            "content_hash": item.article.content_hash,
            "title": item.article.title,
            "outlet": item.article.outlet,
            "date": item.article.date,
            "url": item.article.url,
            "language": item.article.language,
            "source": item.article.source,
            "text": item.article.text,
            "relevant": bool(item.facts),
            "extractor": item.extractor or (item.facts[0].extractor if item.facts else None),
            "ingested_at": at,
        }
        for item in new
    ]
    ids = _new_ids(conn, articles, rows)
    _insert_signatures(
        conn,
        [
            (row_id, item.signature)
            for row_id, item in zip(ids, new, strict=True)
            if item.signature is not None
        ],
    )
    touched: set[str] = set()
    fact_rows: list[dict[str, Any]] = []
    more_spans: list[Sequence[Span]] = []
    for row_id, item in zip(ids, new, strict=True):
        for fact in item.facts:
            key = fact_deal_id(_reviewed(fact, item.article.id, reviewed)[0] or fact)
            touched.add(key)
            fact_rows.append({"article_id": row_id, "deal_id": key, **_fact_row(fact)})
            more_spans.append(fact.spans[1:])
    if not fact_rows:
        return touched
    fact_ids = _new_ids(conn, facts, fact_rows)
    span_rows = [
        {
            "fact_id": fact_id,
            "position": position,
            "evidence": span.text,
            "evidence_start": span.start,
            "evidence_end": span.end,
        }
        for fact_id, spans in zip(fact_ids, more_spans, strict=True)
        for position, span in enumerate(spans, start=1)
    ]
    if span_rows:
        conn.execute(sa.insert(fact_spans), span_rows)
    return touched


def _new_ids(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """The primary keys of ``rows`` inserted into ``table``, in the order of ``rows``
    (SQLAlchemy batches them into multi-row INSERT ... RETURNING statements)."""
    statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = [int(row_id) for row_id in conn.scalars(statement, list(rows))]
    if len(ids) != len(rows):
        raise StoreError(f"the database gave {len(ids)} ids for {len(rows)} new {table.name} rows")
    return ids


def _insert_signatures(conn: Connection, signed: Sequence[tuple[int, bytes]]) -> None:
    """Insert the signatures of new article rows ``(id, signature)`` and their band keys."""
    if not signed:
        return
    conn.execute(
        sa.insert(article_signatures),
        [{"article_id": row_id, "minhash": signature} for row_id, signature in signed],
    )
    # Nine rows an article, the most rows a writer inserts: straight to the driver's
    # executemany, without SQLAlchemy's processing of each row's parameters.
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO article_bands (key, band, article_id) VALUES ({mark}, {mark}, {mark})",
        [(key, band, row_id) for row_id, signature in signed for band, key in band_keys(signature)],
    )


def _stored_hashes(conn: Connection, hashes: Sequence[str]) -> set[str]:
    query = sa.select(articles.c.content_hash).where(articles.c.content_hash.in_(hashes))
    return set(conn.scalars(query))


def _find_hash(conn: Connection, content_hash: str) -> int | None:
    query = sa.select(articles.c.id).where(articles.c.content_hash == content_hash)
    found: int | None = conn.scalar(query)
    return found


def _fact_row(fact: Fact) -> dict[str, Any]:
    first = fact.spans[0]
    return {
        "supplier": fact.supplier,
        "recipient": fact.recipient,
        "system": fact.system,
        "stage": str(fact.stage),
        "modality": str(fact.modality),
        "lot": fact.lot,
        "quantity_count": fact.quantity.count if fact.quantity else None,
        "quantity_unit": fact.quantity.unit if fact.quantity else None,
        "value_amount": fact.value.amount if fact.value else None,
        "value_currency": fact.value.currency if fact.value else None,
        "value_approximate": fact.value.approximate if fact.value else None,
        "speaker": fact.speaker,
        "evidence": first.text,
        "evidence_start": first.start,
        "evidence_end": first.end,
        "optional": fact.optional,
        "extractor": fact.extractor,
    }


def _span(row: Any) -> Span:
    return Span(row["evidence_start"], row["evidence_end"], row["evidence"])


def _fact(row: Any, article_id: str, more: Iterable[Span] = ()) -> Fact:
    quantity = (
        Quantity(row["quantity_count"], row["quantity_unit"])
        if row["quantity_count"] is not None
        else None
    )
    value = (
        Value(row["value_amount"], row["value_currency"], bool(row["value_approximate"]))
        if row["value_amount"] is not None
        else None
    )
    return Fact(
        article_id=article_id,
        supplier=row["supplier"],
        recipient=row["recipient"],
        system=row["system"],
        stage=Stage(row["stage"]),
        modality=Modality(row["modality"]),
        spans=(_span(row), *more),
        lot=row["lot"],
        quantity=quantity,
        value=value,
        speaker=row["speaker"],
        optional=row["optional"],
        extractor=row["extractor"],
    )


def _article(row: Any) -> Article:
    return Article(
        id=row["name"],
        text=row["text"],
        title=row["title"],
        outlet=row["outlet"],
        date=row["date"],
        url=row["url"],
        language=row["language"],
        source=row["source"],
    )


def _load_deals(conn: Connection, condition: sa.ColumnElement[bool]) -> list[Deal]:
    """The deals of the facts matching ``condition``, merged as in memory.

    Facts are merged under their article's name and row id, which is unique where names
    may not be; each timeline event then gets its article's name back. The name comes first
    so that ties in the timeline's order (and so the deal's latest quantity and value) go
    by name, never by the order the articles were stored in: a register written by two
    processes at once holds the same deals as one written serially.
    """
    query = (
        sa.select(
            facts,
            articles.c.name.label("article_name"),
            articles.c.date.label("article_date"),
            articles.c.url.label("article_url"),
            articles.c.source.label("article_source"),
        )
        .select_from(facts.join(articles, facts.c.article_id == articles.c.id))
        .where(condition)
        .order_by(facts.c.id)
    )
    found: list[Fact] = []
    dated: dict[str, Article] = {}
    names: dict[str, str] = {}
    confirmed: set[Fact] = set()
    rows = conn.execute(query).mappings().all()
    reviewed = _load_reviews(conn, {row["article_name"] for row in rows})
    for row in rows:
        key = f"{row['article_name']}\x00{row['article_id']}"
        fact, sure = _reviewed(_fact(row, key), row["article_name"], reviewed)
        if fact is None:
            continue
        found.append(fact)
        if sure:
            confirmed.add(fact)
        if key not in dated:
            names[key] = row["article_name"]
            dated[key] = Article(
                id=key,
                text="",
                date=row["article_date"],
                url=row["article_url"],
                source=row["article_source"],
            )
    merged = merge_deals(found, dated, confirmed=confirmed.__contains__)
    return [_rename_articles(deal, names) for deal in merged]


def _rename_articles(deal: Deal, names: dict[str, str]) -> Deal:
    """``deal`` with every article named by its name instead of its row id."""
    return dataclasses.replace(
        deal,
        timeline=tuple(
            dataclasses.replace(event, article_id=names[event.article_id])
            for event in deal.timeline
        ),
        corroboration=tuple(
            dataclasses.replace(c, articles=tuple(sorted(names[a] for a in c.articles)))
            for c in deal.corroboration
        ),
        contradictions=tuple(
            dataclasses.replace(
                c, asserted_in=names[c.asserted_in], contradicted_in=names[c.contradicted_in]
            )
            for c in deal.contradictions
        ),
    )


def _same_fact(conn: Connection, fact_id: int) -> sa.ColumnElement[bool]:
    """Facts with the key of fact ``fact_id`` in articles of its article's name: the facts
    its reviews apply to (re-extractions of the same statement)."""
    row = (
        conn.execute(
            sa.select(facts, articles.c.name.label("article_name"))
            .select_from(facts.join(articles, facts.c.article_id == articles.c.id))
            .where(facts.c.id == fact_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return facts.c.id == fact_id
    names = sa.select(articles.c.id).where(articles.c.name == row["article_name"])
    same = [facts.c.article_id.in_(names), facts.c.stage == row["stage"]]
    for column in (facts.c.supplier, facts.c.recipient, facts.c.system):
        value = row[column.name]
        same.append(column.is_(None) if value is None else column == value)
    return sa.and_(*same)


def _rekey_facts(conn: Connection, condition: sa.ColumnElement[bool] | None = None) -> set[str]:
    """Give facts (those matching ``condition``, or all) the deal id the merge rules and the
    analyst's reviews give them now; returns every deal id touched, before and after."""
    query = sa.select(facts, articles.c.name.label("article_name")).select_from(
        facts.join(articles, facts.c.article_id == articles.c.id)
    )
    if condition is not None:
        query = query.where(condition)
    rows = conn.execute(query).mappings().all()
    reviewed = _load_reviews(conn, {row["article_name"] for row in rows})
    moved = []
    touched: set[str] = set()
    for row in rows:
        fact = _fact(row, row["article_name"])
        key = fact_deal_id(_reviewed(fact, row["article_name"], reviewed)[0] or fact)
        touched.update((key, row["deal_id"]))
        if key != row["deal_id"]:
            moved.append({"fact_id": row["id"], "new_deal_id": key})
    if moved:
        conn.execute(
            sa.update(facts)
            .where(facts.c.id == sa.bindparam("fact_id"))
            .values(deal_id=sa.bindparam("new_deal_id")),
            moved,
        )
    return touched


_ReviewKey = tuple[str, str | None, str | None, str | None, str, int]


def _review_key(article: str, fact: Fact) -> _ReviewKey:
    return (article, fact.supplier, fact.recipient, fact.system, str(fact.stage), fact.lot or 1)


def _load_reviews(conn: Connection, names: set[str]) -> dict[_ReviewKey, list[Any]]:
    """The reviews of facts of articles with these names, by fact key, in order made."""
    found: dict[_ReviewKey, list[Any]] = {}
    if not names:
        return found
    query = sa.select(reviews).where(reviews.c.article.in_(sorted(names))).order_by(reviews.c.id)
    for row in conn.execute(query).mappings():
        key = (
            row["article"],
            row["supplier"],
            row["recipient"],
            row["system"],
            row["stage"],
            row["lot"],
        )
        found.setdefault(key, []).append(row)
    return found


def _reviewed(
    fact: Fact, article: str, found: dict[_ReviewKey, list[Any]]
) -> tuple[Fact | None, bool]:
    """``fact`` after its reviews (``None`` when rejected), and whether it was confirmed.

    Reviews apply in the order made: an edit sets fields, a rejection drops the fact until
    a later confirmation takes it back.
    """
    rejected = confirmed = False
    for review in found.get(_review_key(article, fact), ()):
        action = review["action"]
        if action == "reject":
            rejected, confirmed = True, False
        elif action == "confirm":
            rejected, confirmed = False, True
        else:
            edited = apply_review(fact, action, json.loads(review["changes"] or "{}"))
            fact = edited or fact
    return (None, False) if rejected else (fact, confirmed)


#: Above this many deals, a recomputation locks the deals table instead of each deal: a
#: transaction may hold only so many locks (PostgreSQL's max_locks_per_transaction, 64 by
#: default, times max_connections, shared by all).
_MAX_DEAL_LOCKS = 256


def _lock_deals(conn: Connection, ordered: Sequence[str], *, everything: bool = False) -> None:
    """On PostgreSQL, wait for the deals ``ordered`` (sorted) to be free and hold them to the
    end of the transaction: an advisory lock per deal id, or the whole table for many.

    Under READ COMMITTED every later statement then sees the facts of the writers that held
    them before, so a deal is never recomputed without another writer's committed facts.
    Readers are not blocked: plain reads take neither kind of lock.
    """
    if conn.dialect.name != "postgresql":
        return  # SQLite has one writer at a time already
    if everything or len(ordered) > _MAX_DEAL_LOCKS:
        conn.exec_driver_sql("LOCK TABLE deals IN EXCLUSIVE MODE")
        return
    for key in ordered:
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key}
        )


def _mark_stale(conn: Connection, keys: set[str]) -> None:
    """Mark the deals of ``keys`` stale, for :meth:`Register.refresh_deals` to merge.

    The deals are locked first, as a recomputation locks them, so a refresh merging one of
    them meanwhile either sees this writer's facts or leaves the mark for the next one.
    """
    if not keys:
        return
    ordered = sorted(keys)
    _lock_deals(conn, ordered)
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(stale_deals).on_conflict_do_nothing()
    conn.execute(statement, [{"deal_id": key} for key in ordered])


def _recompute_deals(conn: Connection, keys: set[str], *, locked: bool = False) -> None:
    """Rewrite the deal rows of ``keys`` from every fact the register holds for them,
    first locking them (:func:`_lock_deals`) unless ``locked`` says the caller has."""
    if not keys:
        return
    ordered = sorted(keys)
    if not locked:
        _lock_deals(conn, ordered)
    conn.execute(sa.delete(deals).where(deals.c.id.in_(ordered)))
    merged = _load_deals(conn, facts.c.deal_id.in_(ordered))
    per_deal = sa.select(facts.c.deal_id, sa.func.count(sa.distinct(facts.c.article_id)))
    n_articles: dict[str, int] = {
        key: count
        for key, count in conn.execute(
            per_deal.where(facts.c.deal_id.in_(ordered)).group_by(facts.c.deal_id)
        )
    }
    rows = []
    for deal in merged:
        rows.append(
            {
                "id": deal.id,
                "supplier": deal.supplier,
                "recipient": deal.recipient,
                "system": deal.system,
                "lot": deal.lot,
                "stage": str(deal.stage) if deal.stage is not None else None,
                "first_seen": deal.first_seen,
                "last_seen": deal.last_seen,
                "quantity_count": deal.quantity.count if deal.quantity else None,
                "quantity_unit": deal.quantity.unit if deal.quantity else None,
                "value_amount": deal.value.amount if deal.value else None,
                "value_currency": deal.value.currency if deal.value else None,
                "value_approximate": deal.value.approximate if deal.value else None,
                "n_facts": len(deal.timeline),
                "n_articles": n_articles[deal.id],
                "confidence": deal.confidence,
                "n_contradictions": len(deal.contradictions),
            }
        )
    if rows:
        conn.execute(sa.insert(deals), rows)


def _deal_order(deal: Deal) -> tuple[Any, ...]:
    return tuple(
        (value is None, value or "") for value in (deal.supplier, deal.recipient, deal.system)
    ) + (deal.lot, deal.id)


# -- paged and filtered reading (the API and the dashboard) -------------------------------
#
# Additive to the reading methods above: these return one page of summary rows at a time,
# filtered in SQL, so a register of 100,000 facts answers a page in milliseconds. Full
# deals with timelines still come from :meth:`Register.get_deal`.

T = TypeVar("T")

#: Columns a deal list may be sorted by (name → column); ``stage`` sorts by stage order.
DEAL_SORTS: tuple[str, ...] = (
    "supplier",
    "recipient",
    "system",
    "lot",
    "stage",
    "first_seen",
    "last_seen",
    "n_facts",
    "n_articles",
    "confidence",
    "n_contradictions",
)


@dataclass(frozen=True, slots=True)
class Filters:
    """What a list of deals, facts or articles is narrowed to; ``None`` leaves a field open.

    ``system`` is one canonical designation; ``systems`` any of several (the systems of a
    category, say): given both, a row must match both. ``stage`` is a deal's current stage
    for deals and the fact's own stage for facts; ``modality`` keeps deals with a fact of
    that modality. ``since`` and ``until`` bound dates inclusively: a deal's last and first
    dates seen, a fact's or an article's date (undated rows are left out when either is
    given). ``text`` is searched case-insensitively in evidence, speakers, systems and
    state codes (deals and facts) or in titles and texts (articles).
    """

    supplier: str | None = None
    recipient: str | None = None
    system: str | None = None
    systems: tuple[str, ...] | None = None
    stage: Stage | None = None
    modality: Modality | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a longer list: ``items`` from ``offset`` on, of ``total`` in all."""

    items: tuple[T, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class DealSummary:
    """A deal's stored summary row, without its timeline (see :meth:`Register.get_deal`).

    ``confidence`` and ``n_contradictions`` (how many pairs of sources disagree) are the
    full deal's :attr:`~armsledger.model.Deal.confidence` and number of
    :attr:`~armsledger.model.Deal.contradictions`, so a list and a deal's page agree.
    """

    id: str
    supplier: str | None
    recipient: str | None
    system: str | None
    lot: int
    stage: Stage | None
    first_seen: dt.date | None
    last_seen: dt.date | None
    quantity: Quantity | None
    value: Value | None
    n_facts: int
    n_articles: int
    confidence: float | None = None
    n_contradictions: int = 0


@dataclass(frozen=True, slots=True)
class StoredFact:
    """A fact as the register holds it: with its row id, article row and deal."""

    id: int
    article: int
    article_name: str
    article_title: str | None
    date: dt.date | None
    deal_id: str
    fact: Fact


@dataclass(frozen=True, slots=True)
class ArticleSummary:
    """An article's row without its text, and how many facts were found in it."""

    id: int
    name: str
    title: str | None
    outlet: str | None
    date: dt.date | None
    url: str | None
    relevant: bool
    n_facts: int


@dataclass(frozen=True, slots=True)
class Flow:
    """Transfers from one supplier to one recipient: how many deals, and facts about them."""

    supplier: str | None
    recipient: str | None
    deals: int
    facts: int


@dataclass(frozen=True, slots=True)
class YearStageCount:
    """How many facts of a stage were reported in articles of a year (``None``: undated)."""

    year: int | None
    stage: Stage
    facts: int


def _contains(column: Any, text: str) -> sa.ColumnElement[bool]:
    """Case-insensitive substring test, portable (LIKE with ``%`` and ``_`` escaped)."""
    return sa.func.lower(column).contains(text.lower(), autoescape=True)


def _key_conditions(table: sa.Table, filters: Filters) -> list[sa.ColumnElement[bool]]:
    """The filters on the key columns deals and facts share: parties, system, stage."""
    conditions: list[sa.ColumnElement[bool]] = []
    for name, value in (
        ("supplier", filters.supplier),
        ("recipient", filters.recipient),
        ("system", filters.system),
        ("stage", str(filters.stage) if filters.stage else None),
    ):
        if value is not None:
            conditions.append(table.c[name] == value)
    if filters.systems is not None:
        conditions.append(table.c.system.in_(filters.systems))
    return conditions


def _deal_conditions(filters: Filters) -> list[sa.ColumnElement[bool]]:
    conditions = _key_conditions(deals, filters)
    if filters.since is not None:
        conditions.append(deals.c.last_seen >= filters.since)
    if filters.until is not None:
        conditions.append(deals.c.first_seen <= filters.until)
    if filters.modality is not None:
        with_modality = sa.select(facts.c.deal_id).where(facts.c.modality == str(filters.modality))
        conditions.append(deals.c.id.in_(with_modality))
    if filters.text:
        mentioning = sa.select(facts.c.deal_id).where(
            sa.or_(
                _contains(facts.c.evidence, filters.text), _contains(facts.c.speaker, filters.text)
            )
        )
        conditions.append(
            sa.or_(
                *(
                    _contains(c, filters.text)
                    for c in (deals.c.system, deals.c.supplier, deals.c.recipient)
                ),
                deals.c.id.in_(mentioning),
            )
        )
    return conditions


def _fact_conditions(filters: Filters) -> list[sa.ColumnElement[bool]]:
    conditions = _key_conditions(facts, filters)
    if filters.modality is not None:
        conditions.append(facts.c.modality == str(filters.modality))
    if filters.since is not None:
        conditions.append(articles.c.date >= filters.since)
    if filters.until is not None:
        conditions.append(articles.c.date <= filters.until)
    if filters.text:
        conditions.append(
            sa.or_(
                *(
                    _contains(c, filters.text)
                    for c in (
                        facts.c.evidence,
                        facts.c.speaker,
                        facts.c.system,
                        facts.c.supplier,
                        facts.c.recipient,
                    )
                )
            )
        )
    return conditions


def _stage_rank(column: Any) -> Any:
    return sa.case({str(s): rank for s, rank in STAGE_ORDER.items()}, value=column, else_=-1)


def _merged_deals(conn: Connection, ids: Sequence[str]) -> dict[str, Deal]:
    """The deals ``ids`` merged from their facts as :meth:`Register.get_deal` merges one, by id,
    in one query (not one per deal): for deal rows stored before their confidence was."""
    if not ids:
        return {}
    return {deal.id: deal for deal in _load_deals(conn, facts.c.deal_id.in_(ids))}


def _deal_summary(row: Any, merged: Deal | None = None) -> DealSummary:
    quantity = (
        Quantity(row["quantity_count"], row["quantity_unit"])
        if row["quantity_count"] is not None
        else None
    )
    value = (
        Value(row["value_amount"], row["value_currency"], bool(row["value_approximate"]))
        if row["value_amount"] is not None
        else None
    )
    return DealSummary(
        id=row["id"],
        supplier=row["supplier"],
        recipient=row["recipient"],
        system=row["system"],
        lot=row["lot"],
        stage=Stage(row["stage"]) if row["stage"] is not None else None,
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        quantity=quantity,
        value=value,
        n_facts=row["n_facts"],
        n_articles=row["n_articles"],
        confidence=merged.confidence if merged is not None else row["confidence"],
        n_contradictions=(
            len(merged.contradictions) if merged is not None else row["n_contradictions"] or 0
        ),
    )


def _check_page(limit: int, offset: int) -> None:
    if limit < 1 or offset < 0:
        raise InputError(
            f"limit {limit} and offset {offset}: limit must be 1 or more, offset 0 or more"
        )
