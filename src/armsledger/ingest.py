"""Read articles from files: the first stage of the pipeline.

A ``.txt`` file's text is kept exactly as decoded (no stripping, no newline or Unicode
normalisation), because every evidence span is an offset into it. A ``.html``/``.htm``
page goes through trafilatura, and the article's text is trafilatura's plain-text output.
A sibling ``NAME.meta.json`` (title, outlet, date, url, language) overrides what the page
itself says.

Every failure is an :class:`~armsledger.errors.InputError` whose message starts with the
path, then says what is wrong: an empty file, a file over the size limit (checked before
reading), a binary file, text that is not UTF-8 and not confidently Windows-1252, a page
with no article text. Nothing is dropped silently.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from armsledger.errors import InputError, ParseError, UnsupportedFormatError
from armsledger.model import Article

log = logging.getLogger(__name__)

#: Suffixes read as plain text and as HTML pages.
TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
ARTICLE_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES

#: Files beside an article that are read with it (or by ``evaluate``), never as articles.
SIDECAR_SUFFIXES = (".meta.json", ".gold.json")

#: The default size limit. The longest dev article is under 40 kB; 50 MB leaves room for
#: saved web pages with inline scripts and images while refusing disk images and dumps.
DEFAULT_MAX_BYTES = 50 * 2**20

#: Above this share of C0 control bytes (other than tab, newlines and form feed) a file is
#: binary. Prose has none; random or compressed data has about 11% (28 of 256 values).
_MAX_CONTROL_SHARE = 0.05

#: charset-normalizer's "mess" (chaos) ratio above which a Windows-1252 reading is refused.
#: 0.2 is charset-normalizer's own default threshold for a plausible decoding.
_MAX_MESS = 0.2

#: Characters outside ASCII that Windows-1252 news text plausibly holds besides letters:
#: typographic quotes and dashes, currency, degree, section, copyright, fractions, NBSP.
_LEGACY_SYMBOLS = frozenset("\u00a0¡¢£¥§©ª«®°±²³´µ¶·¹º»¼½¾¿×–—‘’‚“”„†‡•…‰‹›€™")

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?(?![\d-])")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def is_sidecar(path: Path) -> bool:
    """Whether ``path`` is a file read beside an article (``.meta.json``, ``.gold.json``)
    or a hidden file, and so never an article itself."""
    return path.name.startswith(".") or path.name.endswith(SIDECAR_SUFFIXES)


def iter_paths(paths: Iterable[Path], seen: set[str] | None = None) -> Iterator[Path]:
    """The article files among ``paths``: files as given, folders walked for articles.

    A folder is walked recursively, in sorted order, for ``.txt``, ``.html`` and ``.htm``
    files; sidecars (``*.meta.json``, ``*.gold.json``) and hidden files and folders are
    left out, and symbolic links to folders are not followed. A file given by name is
    yielded whatever its kind, so that reading it says what is wrong with it. A file
    reached twice (named and inside a named folder) is yielded once; ``seen``, the real
    paths yielded so far, carries that across calls.

    Raises:
        InputError: a path does not exist, or a folder holds no article.
    """
    seen = set() if seen is None else seen
    for path in paths:
        if path.is_dir():
            found = sorted(_walk(path))
            if not found:
                raise InputError(f"{path}: no .txt or .html articles in {path}")
            real = os.path.realpath(path)
            keys: Iterable[str] = (_real_in(real, path, file) for file in found)
        elif path.exists():
            found = [path]
            keys = [os.path.realpath(path)]
        else:
            raise InputError(f"{path}: no such file or folder")
        for file, key in zip(found, keys, strict=True):
            if key not in seen:
                seen.add(key)
                yield file


def _real_in(real_folder: str, folder: Path, file: Path) -> str:
    """The real path of ``file``, found walking ``folder`` (whose real path is given):
    the folder's joined with the file's relative path, since the walk follows no link to
    a folder; only a file that is itself a link is resolved (a few system calls saved
    per file, which a folder of 100,000 articles notices)."""
    if os.path.islink(file):
        return os.path.realpath(file)
    return os.path.join(real_folder, os.path.relpath(file, folder))


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            file = Path(root, name)
            if not is_sidecar(file) and name.lower().endswith(ARTICLE_SUFFIXES):
                yield file


def read_article(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """Read one article file, with its sibling ``.meta.json`` if there is one.

    The article's ``id`` is the file name and its ``source`` the path as given.

    Args:
        path: a ``.txt``, ``.html`` or ``.htm`` file.
        max_bytes: larger files are refused from their size alone, before any reading.

    Raises:
        UnsupportedFormatError: the file is not ``.txt``, ``.html`` or ``.htm``.
        ParseError: the sibling ``.meta.json`` is malformed.
        InputError: the file is missing, empty, too large, binary, not decodable, or a
            page with no article text.
    """
    suffix = path.suffix.lower()
    if suffix not in ARTICLE_SUFFIXES:
        kind = f"'{suffix}'" if suffix else "without a suffix"
        raise UnsupportedFormatError(
            f"{path}: unsupported file type {kind}; armsledger reads .txt, .html and .htm",
            hint="give text or HTML articles, or a folder of them",
        )
    data = _read_bytes(path, max_bytes)
    meta = _read_meta(path.with_name(path.stem + ".meta.json"))
    if suffix in HTML_SUFFIXES:
        found = parse_page(path, decode_bytes(path, data, html=True))
        found.update({key: value for key, value in meta.items() if value is not None})
        meta = found
        text = meta.pop("text")
    else:
        text = decode_bytes(path, data, html=False)
        if not text.strip():
            raise InputError(f"{path}: no text (the file holds only whitespace)")
    return Article(id=path.name, text=text, source=str(path), **meta)


def read_text(
    text: str,
    *,
    id: str,
    title: str | None = None,
    outlet: str | None = None,
    date: dt.date | None = None,
    url: str | None = None,
    language: str | None = None,
    source: str | None = None,
) -> Article:
    """An article from text another reader produced (an API request, a feed, a test).

    The text is kept exactly as given.

    Raises:
        InputError: the text is empty, holds NUL characters, or is not valid Unicode
            (lone surrogates); the message starts with ``source`` or else ``id``.
    """
    name = source or id
    if not text.strip():
        raise InputError(f"{name}: empty text")
    if "\x00" in text:
        raise InputError(f"{name}: binary text (NUL characters), not an article")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(
            f"{name}: not valid Unicode text (character {error.start} is a lone surrogate)"
        ) from None
    return Article(
        id=id,
        text=text,
        title=title,
        outlet=outlet,
        date=date,
        url=url,
        language=language,
        source=source,
    )


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file or folder") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a folder; give a file or use iter_paths")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: not a regular file")
    if info.st_size > max_bytes:
        raise InputError(
            f"{path}: file is {_size(info.st_size, exact=False)}; "
            f"the limit is {_size(max_bytes)} (--max-bytes)"
        )
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)  # the file may have grown since stat
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    if len(data) > max_bytes:
        raise InputError(f"{path}: file is over the limit of {_size(max_bytes)} (--max-bytes)")
    if not data:
        raise InputError(f"{path}: empty file")
    return data


def _size(n: int, *, exact: bool = True) -> str:
    """``n`` bytes for a message: ``200.0 MB`` for a file, ``50 MB`` for a round limit."""
    if n < 2**20:
        return f"{n:,} bytes"
    if exact and n % 2**20 == 0:
        return f"{n // 2**20} MB"
    return f"{n / 2**20:.1f} MB"


def decode_bytes(path: Path | str, data: bytes, *, html: bool) -> str:
    """Text from bytes: UTF-8 (with or without BOM), UTF-16 with a BOM, a charset the
    page declares, or Windows-1252 when it reads as clean Western text.

    ``path`` names the input in error messages (a file, a URL, a record of a dump).

    Raises:
        InputError: the bytes are binary, or text in no encoding read confidently.
    """
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32")):
        if data.startswith(bom):
            return _decode_strict(path, data, codec)
    for bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if data.startswith(bom):
            return _decode_strict(path, data, "utf-16")
    if b"\x00" in data or _control_share(data) > _MAX_CONTROL_SHARE:
        raise InputError(f"{path}: binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        utf8_error = error
    if html:
        declared = _META_CHARSET.search(data[:4096])
        if declared:
            codec = declared.group(1).decode("ascii").lower()
            try:
                codecs.lookup(codec)
            except LookupError:
                pass
            else:
                if codec.replace("-", "").replace("_", "") not in ("utf8", "utf8sig"):
                    return _decode_strict(path, data, codec)
    text = _decode_legacy(data)
    if text is None:
        offset = utf8_error.start
        raise InputError(
            f"{path}: not valid UTF-8 text (byte 0x{data[offset]:02x} at offset {offset})",
            hint="convert the file to UTF-8, e.g. with iconv -f ENCODING -t UTF-8",
        )
    log.info("%s: not UTF-8; read as Windows-1252", path)
    return text


def _decode_strict(path: Path | str, data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: not valid {codec} text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start})"
        ) from None


def _control_share(data: bytes) -> float:
    sample = data[: 2**16]
    controls = sum(1 for b in sample if b < 0x20 and b not in b"\t\n\r\f\v" or b == 0x7F)
    return controls / len(sample)


def _decode_legacy(data: bytes) -> str | None:
    """The bytes as Windows-1252 (a superset of Latin-1's printable characters), or
    ``None`` unless that reading is confidently clean text.

    charset-normalizer's guess of the encoding is not used: on a short article it names
    cp1250 or cp775 for plain French or English. Instead the reading must pass three
    tests: no well-formed UTF-8 multibyte sequence in the bytes (that is UTF-8 with damage,
    not a legacy file), every non-ASCII character a letter or common typographic sign,
    and charset-normalizer's mess ratio under its default threshold.
    """
    if _has_utf8_sequence(data):
        return None
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    for char in set(text):
        if char.isascii() or char in _LEGACY_SYMBOLS:
            continue
        if not unicodedata.category(char).startswith("L"):
            return None
    from charset_normalizer.md import mess_ratio  # imported late: only legacy files need it

    if mess_ratio(text, _MAX_MESS) >= _MAX_MESS:
        return None
    return text


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _has_utf8_sequence(data: bytes) -> bool:
    return _UTF8_SEQUENCE.search(data) is not None


def parse_page(path: Path | str, html: str) -> dict[str, Any]:
    """The main text and metadata of a page, by trafilatura: ``text``, ``title``,
    ``outlet``, ``date`` and ``url``.

    Raises:
        InputError: trafilatura finds no article text in the page.
    """
    import trafilatura  # imported late: loading it takes a second and .txt needs none of it

    text = trafilatura.extract(html, output_format="txt", include_comments=False)
    if text is None or not text.strip():
        raise InputError(f"{path}: no article text found in the page")
    found = trafilatura.extract_metadata(html)
    return {
        "text": text,
        "title": found.title or None,
        "outlet": found.sitename or None,
        "date": parse_date(found.date, where=str(path)) if found.date else None,
        "url": found.url or None,
    }


def _read_meta(path: Path) -> dict[str, Any]:
    """The fields of a ``.meta.json`` file, or nothing if there is none.

    Keys other than title, outlet, date, url and language (a ``note``) are ignored.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ParseError(f"{path}: cannot read ({error.strerror})") from None
    try:
        meta = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ParseError(f"{path}: not valid UTF-8 (byte at offset {error.start})") from None
    except json.JSONDecodeError as error:
        raise ParseError(
            f"{path}: malformed JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    if not isinstance(meta, dict):
        raise ParseError(f"{path}: expected a JSON object, found {type(meta).__name__}")
    fields: dict[str, Any] = {}
    for key in ("title", "outlet", "url", "language"):
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            raise ParseError(f"{path}: {key} must be a string or null, not {value!r}")
        fields[key] = value or None
    date = meta.get("date")
    if date is not None and not isinstance(date, str):
        raise ParseError(f"{path}: date must be an ISO date string or null, not {date!r}")
    fields["date"] = parse_date(date, where=str(path)) if date else None
    return fields


def parse_date(value: str, *, where: str) -> dt.date | None:
    """The ISO date a metadata string starts with.

    ``2019-07-12``, ``2019-07-12T10:00:00Z`` and ``2019-07-12 (approx., from content)``
    give 12 July 2019; ``2023-03 (approx.)`` gives its first day (month precision is kept
    as the month's start so that timelines still order). A string that does not start
    with an ISO date (``2020-2021 (approx.)``) gives no date, with a warning: the article
    is still worth reading. A well-formed but impossible date is an error.
    """
    match = _ISO_DATE.match(value.strip())
    if match is None:
        log.warning("%s: date %r does not start with an ISO date; left empty", where, value)
        return None
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise ParseError(f"{where}: date {value!r} is not a valid date ({error})") from None
