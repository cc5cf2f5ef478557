"""Read articles as the news arrives: feeds, dumps and web archives, one record at a time.

Each reader is an iterator of :class:`Record`: an article, or the error that kept one
record from being an article, with where it came from (``dump.jsonl:17`` for line 17,
``feed.xml#3`` for a feed's third item, ``crawl.warc.gz#12`` for an archive's twelfth
response). Readers stream: a dump is read line by line and an archive record by record,
never whole, so memory stays bounded however large the input.

=====================================  =====================================================
input                                  reader
=====================================  =====================================================
``.xml``, ``.rss``, ``.atom``, a URL   :func:`iter_feed`: RSS 0.9x/1.0/2.0 and Atom through
                                       feedparser; an item with only a summary is read from
                                       the page it links to, when following links is on
``.jsonl``, ``.jsonl.gz``, ``.zst``    :func:`iter_jsonl`: one JSON object per line
``.csv``, ``.csv.gz``                  :func:`iter_csv`: a header row, then one row a record
``.warc``, ``.warc.gz``                :func:`iter_warc`: HTML responses through trafilatura
=====================================  =====================================================

A bad record (a malformed line, a row without text, a page with no article text) is a
``Record`` with an ``error``, and reading goes on. A bad file stops its reader with an
:class:`~armsledger.errors.InputError`: a truncated or corrupt archive (the records before
the damage have been yielded), more decompressed bytes than the file limit (a zip bomb),
a feed that declares XML entities (the "billion laughs" attack; refused before parsing).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import gzip
import io
import json
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from armsledger.errors import InputError, UnsupportedFormatError
from armsledger.fetch import DEFAULT_TIMEOUT, fetch, is_url
from armsledger.ingest import DEFAULT_MAX_BYTES, decode_bytes, parse_date, parse_page, read_text
from armsledger.model import Article

log = logging.getLogger(__name__)

FEED_SUFFIXES = (".xml", ".rss", ".atom")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst")
CSV_SUFFIXES = (".csv", ".csv.gz")
WARC_SUFFIXES = (".warc", ".warc.gz")

#: Every suffix a reader of this module takes, longest first so ``.jsonl.gz`` wins.
READER_SUFFIXES = tuple(
    sorted(FEED_SUFFIXES + JSONL_SUFFIXES + CSV_SUFFIXES + WARC_SUFFIXES, key=len, reverse=True)
)

#: The default cap on the bytes decompressed from one dump or archive. A news dump of a
#: million articles is a few GB; 16 GiB leaves room for that and stops a zip bomb (a few
#: MB of gzip or zstd that would expand to terabytes) long before the disk or the clock.
DEFAULT_MAX_TOTAL_BYTES = 16 * 2**30

#: Compressed bytes handed to the zstd decompressor at a time. zstd expands at most about
#: 32,768 times (a 4-byte RLE block makes 128 KB), so 512 bytes yield at most 16 MB.
_ZSTD_CHUNK = 512

#: Content types of a web archive's responses that are read as pages.
_HTML_TYPES = ("text/html", "application/xhtml+xml")

_ENTITY_DECLARATION = re.compile(rb"<!\s*ENTITY", re.I)
_BLOCK_TAGS = frozenset(
    ("p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6")
    + ("blockquote", "pre", "tr", "table", "section", "article")
)


@dataclass(frozen=True, slots=True)
class Fields:
    """Which field of a dump's record holds what (``--text-field`` and the like).

    A missing or empty text field makes the record fail; the other fields are optional.
    """

    text: str = "text"
    title: str = "title"
    date: str = "date"
    url: str = "url"
    id: str = "id"
    outlet: str = "outlet"
    language: str = "language"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How readers read.

    Attributes:
        fields: field names of JSONL and CSV records.
        max_bytes: the largest record (a line, a row, a page, a feed) in bytes.
        max_total_bytes: the most bytes decompressed from one file.
        follow_links: fetch the page an item links to when a feed holds only its summary.
        timeout: seconds to wait for a fetched feed or page.
        fetch: the function fetching URLs; a fake one in tests.
    """

    fields: Fields = field(default_factory=Fields)
    max_bytes: int = DEFAULT_MAX_BYTES
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES
    follow_links: bool = False
    timeout: float = DEFAULT_TIMEOUT
    fetch: Callable[..., Any] = fetch


@dataclass(frozen=True, slots=True)
class Record:
    """One record of a feed, dump or archive: an article, or why it is none.

    Attributes:
        source: where it came from: ``PATH:LINE`` for dumps, ``PATH#N`` for feed items
            and archive records (counted from 1).
        article: the article read, or ``None`` when the record failed.
        error: why the record failed, or ``None``.
    """

    source: str
    article: Article | None = None
    error: InputError | None = None


def reader_suffix(name: str) -> str | None:
    """The reader suffix ``name`` ends with (``.jsonl.gz``), or ``None`` if no reader
    of this module takes it."""
    lower = name.lower()
    return next((suffix for suffix in READER_SUFFIXES if lower.endswith(suffix)), None)


def iter_records(source: Path | str, options: ReadOptions | None = None) -> Iterator[Record]:
    """The records of a feed (file or URL), dump or archive, by its suffix.

    Raises:
        UnsupportedFormatError: no reader takes the file's suffix.
        InputError: the file cannot be read as a whole (see the module docstring).
    """
    options = options or ReadOptions()
    if isinstance(source, str) and is_url(source):
        return iter_feed(source, options)
    path = Path(source)
    suffix = reader_suffix(path.name)
    if suffix in FEED_SUFFIXES:
        return iter_feed(path, options)
    if suffix in JSONL_SUFFIXES:
        return iter_jsonl(path, options)
    if suffix in CSV_SUFFIXES:
        return iter_csv(path, options)
    if suffix in WARC_SUFFIXES:
        return iter_warc(path, options)
    raise UnsupportedFormatError(f"{path}: no reader for this file type")


# --- feeds -------------------------------------------------------------------------------


def iter_feed(source: Path | str, options: ReadOptions | None = None) -> Iterator[Record]:
    """The items of an RSS or Atom feed, from a file or an http(s) URL.

    An item's text is its full content (``content:encoded``, Atom ``content``) when the
    feed has it. Otherwise, with ``options.follow_links``, the page the item links to is
    fetched and read through trafilatura; failing that, the item's summary is its text.

    Raises:
        InputError: the feed cannot be read or fetched, is over the size limit, declares
            XML entities, or is no feed at all.
    """
    options = options or ReadOptions()
    if isinstance(source, str) and is_url(source):
        fetched = options.fetch(source, timeout=options.timeout, max_bytes=options.max_bytes)
        data, name = fetched.body, source
        options = dataclasses.replace(options, follow_links=True)
    else:
        name = str(source)
        data = _read_capped(Path(source), options.max_bytes)
    return iter_feed_data(data, name=name, options=options)


def iter_feed_data(
    data: bytes, *, name: str, options: ReadOptions | None = None
) -> Iterator[Record]:
    """The items of a feed given as bytes (``name`` says where it came from).

    Raises:
        InputError: as :func:`iter_feed`; raised here, before any item is yielded.
    """
    options = options or ReadOptions()
    check_feed(data, name=name)
    import feedparser  # imported late: only feeds need it

    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.entries:
        problem = parsed.get("bozo_exception")
        why = f" ({problem})" if problem else ""
        if parsed.bozo or not parsed.get("version"):
            raise InputError(f"{name}: not an RSS or Atom feed{why}")
    elif parsed.bozo:
        log.info("%s: feed is not well-formed (%s); read leniently", name, parsed.bozo_exception)
    channel = parsed.get("feed", {})
    outlet = _plain(channel.get("title"))
    declared = channel.get("language")
    return _iter_items(parsed.entries, name, outlet, declared, options)


def check_feed(data: bytes, *, name: str) -> None:
    """Refuse a feed that declares XML entities, before any parser expands them.

    News feeds never need entity declarations; they are the vehicle of the "billion laughs"
    and external-entity attacks. defusedxml finds them in well-formed XML; a feed that is
    not well-formed is searched for a declaration, since lenient parsers read it anyway.

    Raises:
        InputError: the feed declares an entity or references an external one.
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError as XMLParseError
    from defusedxml.ElementTree import fromstring

    try:
        fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise InputError(
            f"{name}: the feed declares XML entities ({type(error).__name__}: {error}); "
            "refused as a possible entity-expansion attack"
        ) from None
    except (XMLParseError, ValueError, LookupError):
        if _ENTITY_DECLARATION.search(data) or _ENTITY_DECLARATION.search(
            data.replace(b"\x00", b"")
        ):
            raise InputError(
                f"{name}: the feed declares XML entities; "
                "refused as a possible entity-expansion attack"
            ) from None


def _iter_items(
    entries: list[Any], name: str, outlet: str | None, declared: str | None, options: ReadOptions
) -> Iterator[Record]:
    for number, entry in enumerate(entries, start=1):
        source = f"{name}#{number}"
        try:
            yield Record(source, _item_article(entry, source, outlet, declared, options))
        except InputError as error:
            yield Record(source, error=error)


def _item_article(
    entry: Any, source: str, outlet: str | None, declared: str | None, options: ReadOptions
) -> Article:
    link = entry.get("link") or None
    contents = [part.get("value") or "" for part in entry.get("content") or []]
    text = _html_text(max(contents, key=len)) if contents else ""
    page: dict[str, Any] = {}
    if not text.strip() and options.follow_links and link and is_url(link):
        fetched = options.fetch(link, timeout=options.timeout, max_bytes=options.max_bytes)
        page = parse_page(link, decode_bytes(link, fetched.body, html=True))
        text = page["text"]
    if not text.strip():
        text = _html_text(entry.get("summary") or "")
    if not text.strip():
        raise InputError(f"{source}: the item has no text (no content and no summary)")
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    date = dt.date(*stamp[:3]) if stamp else page.get("date")
    return read_text(
        text,
        id=entry.get("id") or link or source,
        title=_plain(entry.get("title")) or page.get("title"),
        outlet=outlet or page.get("outlet"),
        date=date,
        url=link,
        language=_language_code(entry.get("language") or declared),
        source=source,
    )


def _html_text(fragment: str) -> str:
    """The text of an HTML fragment: one line per paragraph, spaces folded."""
    if "<" not in fragment:
        return "\n".join(" ".join(line.split()) for line in fragment.splitlines()).strip()
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return ""
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def _plain(value: str | None) -> str | None:
    return _html_text(value).strip() or None if value else None


def _language_code(value: Any) -> str | None:
    """``en`` from ``en-US``, ``EN`` or ``en_GB``; ``None`` from nothing."""
    if not isinstance(value, str) or not value.strip():
        return None
    return re.split(r"[-_]", value.strip(), maxsplit=1)[0].lower() or None


# --- dumps -------------------------------------------------------------------------------


def iter_jsonl(path: Path, options: ReadOptions | None = None) -> Iterator[Record]:
    """The records of a JSON Lines dump, plain, gzip (``.gz``) or zstd (``.zst``).

    Each non-blank line is a JSON object with the text in ``options.fields.text``. A line
    that is not valid UTF-8 or JSON, not an object, has no text or is over
    ``options.max_bytes`` fails on its own and reading goes on.

    Raises:
        InputError: the file cannot be opened, is truncated or corrupt, or decompresses
            to more than ``options.max_total_bytes``.
    """
    options = options or ReadOptions()
    with _open_dump(path, options.max_total_bytes) as stream:
        for number, line in _lines(path, stream, options.max_bytes):
            source = f"{path}:{number}"
            if isinstance(line, InputError):
                yield Record(source, error=line)
                continue
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8-sig")
            except UnicodeDecodeError as error:
                yield Record(
                    source,
                    error=InputError(f"{source}: not valid UTF-8 (byte at offset {error.start})"),
                )
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as error:
                yield Record(
                    source,
                    error=InputError(
                        f"{source}: malformed JSON ({error.msg} at column {error.colno})"
                    ),
                )
                continue
            if not isinstance(obj, dict):
                yield Record(
                    source,
                    error=InputError(
                        f"{source}: expected a JSON object, found {type(obj).__name__}"
                    ),
                )
                continue
            yield _dump_record(obj, source, path, number, options.fields)


def iter_csv(path: Path, options: ReadOptions | None = None) -> Iterator[Record]:
    """The rows of a CSV dump (plain or gzip) with a header row naming the fields.

    Fields may hold newlines inside quotes. A row with another number of fields than the
    header, no text, undecodable bytes or a field over ``options.max_bytes`` fails on its
    own; its source is the line the row starts on.

    Raises:
        InputError: as :func:`iter_jsonl`, and a file without a header row.
    """
    options = options or ReadOptions()
    with _open_dump(path, options.max_total_bytes) as stream:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
        limit = max(csv.field_size_limit(), options.max_bytes)
        csv.field_size_limit(limit)
        reader = csv.reader(text, strict=False)
        try:
            header = next(reader, None)
        except (UnicodeDecodeError, csv.Error) as error:
            raise InputError(f"{path}:1: cannot read the header row ({error})") from None
        if header is None:
            raise InputError(f"{path}: empty file, no header row")
        header = [name.strip() for name in header]
        if options.fields.text not in header:
            raise InputError(
                f"{path}: no column {options.fields.text!r} for the text; the header has "
                f"{', '.join(header)}",
                hint="name the text column with --text-field",
            )
        while True:
            start = reader.line_num + 1
            source = f"{path}:{start}"
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as error:
                raise InputError(
                    f"{path}: not valid UTF-8 after line {reader.line_num} ({error.reason})"
                ) from None
            except (EOFError, zlib.error, gzip.BadGzipFile) as error:
                raise InputError(
                    f"{path}: truncated or corrupt compressed file after line "
                    f"{reader.line_num} ({error})"
                ) from None
            except csv.Error as error:
                yield Record(source, error=InputError(f"{source}: malformed CSV row ({error})"))
                continue
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                yield Record(
                    source,
                    error=InputError(
                        f"{source}: {len(row)} fields where the header has {len(header)}"
                    ),
                )
                continue
            yield _dump_record(
                dict(zip(header, row, strict=True)), source, path, start, options.fields
            )


def _dump_record(
    obj: dict[str, Any], source: str, path: Path, number: int, fields: Fields
) -> Record:
    """A record from a dump's object, by the field names given."""
    try:
        text = obj.get(fields.text)
        if not isinstance(text, str) or not text.strip():
            found = "no such field" if fields.text not in obj else f"{type(text).__name__} value"
            raise InputError(f"{source}: no text in field {fields.text!r} ({found})")
        date_value = obj.get(fields.date)
        date = _dump_date(date_value, source) if date_value else None
        ident = obj.get(fields.id)
        return Record(
            source,
            read_text(
                text,
                id=str(ident) if ident not in (None, "") else f"{path.name}:{number}",
                title=_string(obj.get(fields.title)),
                outlet=_string(obj.get(fields.outlet)),
                date=date,
                url=_string(obj.get(fields.url)),
                language=_language_code(obj.get(fields.language)),
                source=source,
            ),
        )
    except InputError as error:
        return Record(source, error=error)


def _string(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _dump_date(value: Any, source: str) -> dt.date | None:
    """An ISO date (or date-time), else any date dateutil reads (``Tue, 5 Mar 2024``)."""
    if not isinstance(value, str):
        log.warning("%s: date %r is not a string; left empty", source, value)
        return None
    if re.match(r"\d{4}-\d{2}", value.strip()):
        return parse_date(value, where=source)
    from dateutil import parser as dateutil_parser

    try:
        return dateutil_parser.parse(value).date()
    except (ValueError, OverflowError):
        log.warning("%s: date %r is not a date; left empty", source, value)
        return None


# --- web archives ------------------------------------------------------------------------


def iter_warc(path: Path, options: ReadOptions | None = None) -> Iterator[Record]:
    """The HTML pages of a WARC file (plain or gzip), each read through trafilatura.

    Only ``response`` records with an HTML content type are read; requests, metadata,
    redirects, images and the like are passed over without a record. A page over
    ``options.max_bytes``, in no readable encoding or without article text fails on its own.

    Raises:
        InputError: the file cannot be opened, or is truncated or corrupt (the pages
            before the damage have been yielded).
    """
    options = options or ReadOptions()
    for page in iter_warc_pages(path, options):
        yield read_warc_page(page, options)


@dataclass(frozen=True, slots=True)
class WarcPage:
    """An archived HTML response as stored, before trafilatura reads its text: what
    :func:`iter_warc_pages` yields cheaply, so that the costly reading
    (:func:`read_warc_page`) can happen elsewhere (a ``batch`` worker)."""

    source: str
    url: str | None
    stamp: str | None
    content_type: str
    body: bytes


def iter_warc_pages(path: Path, options: ReadOptions | None = None) -> Iterator[WarcPage]:
    """The HTML responses of a WARC file as stored (see :func:`iter_warc`), unread.

    A body is kept up to one byte over ``options.max_bytes``, so an oversized page is
    known as such without being held whole.

    Raises:
        InputError: as :func:`iter_warc`.
    """
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    options = options or ReadOptions()
    number = 0
    try:
        with _open_dump(path, options.max_total_bytes) as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                if record.http_headers.get_statuscode() != "200":
                    continue
                content_type = (record.http_headers.get_header("Content-Type") or "").lower()
                if not content_type.startswith(_HTML_TYPES):
                    continue
                number += 1
                yield WarcPage(
                    source=f"{path}#{number}",
                    url=record.rec_headers.get_header("WARC-Target-URI"),
                    stamp=record.rec_headers.get_header("WARC-Date"),
                    content_type=content_type,
                    body=record.content_stream().read(options.max_bytes + 1),
                )
    except ArchiveLoadFailed as error:
        raise InputError(
            f"{path}: not a readable WARC file after {number} pages ({error})"
        ) from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise InputError(
            f"{path}: truncated or corrupt archive after {number} pages ({error})"
        ) from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror or error})") from None


def read_warc_page(page: WarcPage, options: ReadOptions | None = None) -> Record:
    """The article of an archived page (trafilatura), or why it has none."""
    options = options or ReadOptions()
    source, url = page.source, page.url
    try:
        if len(page.body) > options.max_bytes:
            raise InputError(f"{source}: page is over the limit of {options.max_bytes:,} bytes")
        if not page.body.strip():
            raise InputError(f"{source}: empty page")
        declared = re.search(r"charset=([\w.:-]+)", page.content_type)
        html = _decode_declared(source, page.body, declared.group(1) if declared else None)
        parsed = parse_page(source, html)
        date = parsed.get("date") or (parse_date(page.stamp, where=source) if page.stamp else None)
        return Record(
            source,
            read_text(
                parsed["text"],
                id=url or source,
                title=parsed.get("title"),
                outlet=parsed.get("outlet"),
                date=date,
                url=url or parsed.get("url"),
                source=source,
            ),
        )
    except InputError as error:
        return Record(source, error=error)


def _decode_declared(source: str, body: bytes, charset: str | None) -> str:
    """A page's text in the charset its HTTP header declares, if that reads cleanly;
    otherwise as :func:`armsledger.ingest.decode_bytes` reads a saved page."""
    if charset:
        try:
            codecs.lookup(charset)
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            log.info("%s: declared charset %r does not read it; guessing", source, charset)
    return decode_bytes(source, body, html=True)


# --- streams -----------------------------------------------------------------------------


class _CappedReader(io.RawIOBase):
    """A raw stream that fails once more than ``cap`` bytes have been read through it."""

    def __init__(self, inner: Any, cap: int, path: Path) -> None:
        super().__init__()
        self._inner = inner
        self._cap = cap
        self._path = path
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._inner.read(len(buffer))
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            # raised as an InputError here: warcio takes an EOFError for the archive's end
            raise InputError(
                f"{self._path}: truncated or corrupt compressed file after "
                f"{self.total:,} bytes ({error})"
            ) from None
        n = len(data)
        self.total += n
        if self.total > self._cap:
            raise InputError(
                f"{self._path}: more than {self._cap:,} bytes decompressed; refused as a "
                "possible zip bomb (the limit is --max-dump-bytes)"
            )
        buffer[:n] = data
        return n

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


class _ZstdReader(io.RawIOBase):
    """A zstd stream decompressed a little at a time, that notices a truncated frame.

    (``zstandard``'s own stream reader ends quietly at a truncated frame.)
    """

    def __init__(self, inner: IO[bytes], path: Path) -> None:
        super().__init__()
        import zstandard

        self._zstd = zstandard
        self._inner = inner
        self._path = path
        self._decompressor = zstandard.ZstdDecompressor()
        self._object = self._decompressor.decompressobj()
        self._pending = b""
        self._started = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = self._inner.read(_ZSTD_CHUNK)
            if not chunk:
                if self._started and not self._object.eof:
                    raise InputError(f"{self._path}: truncated zstd stream")
                return 0
            self._started = True
            try:
                self._pending = self._object.decompress(chunk)
                if self._object.eof and self._object.unused_data:
                    rest = self._object.unused_data
                    self._object = self._decompressor.decompressobj()
                    self._pending += self._object.decompress(rest)
            except self._zstd.ZstdError as error:
                raise InputError(f"{self._path}: corrupt zstd stream ({error})") from None
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _open_dump(path: Path, max_total_bytes: int) -> io.BufferedReader:
    """The decompressed bytes of a dump, capped at ``max_total_bytes``."""
    try:
        raw: IO[bytes] = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file or folder") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    name = path.name.lower()
    inner: Any
    if name.endswith(".gz"):
        inner = gzip.GzipFile(fileobj=raw, mode="rb")
    elif name.endswith(".zst"):
        inner = _ZstdReader(raw, path)
    else:
        inner = raw
    return io.BufferedReader(_CappedReader(_Closing(inner, raw), max_total_bytes, path), 2**16)


class _Closing(io.RawIOBase):
    """Reads from ``inner``; closing closes the file under it as well."""

    def __init__(self, inner: Any, raw: IO[bytes]) -> None:
        super().__init__()
        self._inner = inner
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._inner.read(size)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._raw.close()
            super().close()


def _lines(path: Path, stream: io.BufferedReader, max_bytes: int) -> Iterator[tuple[int, Any]]:
    """``(line number, bytes)`` for each line; an over-long line gives an ``InputError``
    in place of its bytes and is skipped to its end without being held in memory."""
    number = 0
    while True:
        try:
            line = stream.readline(max_bytes + 1)
            if not line:
                return
            number += 1
            if len(line) > max_bytes and not line.endswith(b"\n"):
                while True:
                    rest = stream.readline(2**20)
                    if not rest or rest.endswith(b"\n"):
                        break
                yield (
                    number,
                    InputError(
                        f"{path}:{number}: line is over the limit of {max_bytes:,} bytes "
                        "(--max-bytes)"
                    ),
                )
                continue
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise InputError(
                f"{path}: truncated or corrupt compressed file after line {number} ({error})"
            ) from None
        yield number, line


def _read_capped(path: Path, max_bytes: int) -> bytes:
    """A whole (small) file, such as a feed, refused over ``max_bytes``."""
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file or folder") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    if len(data) > max_bytes:
        raise InputError(f"{path}: file is over the limit of {max_bytes:,} bytes (--max-bytes)")
    if not data.strip():
        raise InputError(f"{path}: empty file")
    return data
