"""Readers of feeds, dumps and web archives. Every input here is invented for the tests."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zstandard

from armsledger.errors import InputError
from armsledger.fetch import Fetched
from armsledger.readers import (
    Fields,
    ReadOptions,
    iter_csv,
    iter_feed,
    iter_jsonl,
    iter_records,
    iter_warc,
    reader_suffix,
)

TEXT_A = "Moscow and Ankara signed a contract for four S-400 batteries, officials said."
TEXT_B = "Ankara confirmed that the first S-400 batteries had arrived from Russia."


def jsonl(*objects: Any) -> bytes:
    return b"".join(
        (o if isinstance(o, bytes) else json.dumps(o).encode("utf-8")) + b"\n" for o in objects
    )


DUMP = jsonl(
    {
        "id": "a1",
        "text": TEXT_A,
        "title": "Deal",
        "date": "2017-09-12",
        "url": "https://n.example/a",
    },
    b"{not json",
    b"",
    [1, 2],
    {"id": "a4", "body": "no text field"},
    b'{"text": "caf\xe9 bad byte"}',
    {"text": TEXT_B, "date": "Tue, 5 Mar 2024 10:00:00 GMT"},
)


def summary(records: Iterator[Any]) -> list[tuple[str, str]]:
    """(source, article id or error) for each record."""
    return [
        (Path(r.source).name, r.article.id if r.article else f"ERROR {r.error}") for r in records
    ]


@pytest.mark.parametrize(
    "name, pack",
    [
        ("d.jsonl", lambda b: b),
        ("d.jsonl.gz", gzip.compress),
        ("d.jsonl.zst", lambda b: zstandard.ZstdCompressor().compress(b)),
    ],
)
def test_readers_jsonl_plain_gzip_zstd_one_record_per_line(
    tmp_path: Path, name: str, pack: Any
) -> None:
    path = tmp_path / name
    path.write_bytes(pack(DUMP))
    records = list(iter_records(path))
    assert [r.source for r in records] == [f"{path}:{n}" for n in (1, 2, 4, 5, 6, 7)]
    first, last = records[0].article, records[-1].article
    assert first is not None and last is not None
    assert (first.id, first.text, first.title, first.date, first.url, first.source) == (
        "a1",
        TEXT_A,
        "Deal",
        dt.date(2017, 9, 12),
        "https://n.example/a",
        f"{path}:1",
    )
    assert (last.id, last.date) == (f"{name}:7", dt.date(2024, 3, 5))
    errors = [str(r.error) for r in records[1:-1]]
    assert errors == [
        f"{path}:2: malformed JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{path}:4: expected a JSON object, found list",
        f"{path}:5: no text in field 'text' (no such field)",
        f"{path}:6: not valid UTF-8 (byte at offset 13)",
    ]


def test_readers_field_names_are_configurable(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(jsonl({"key": 7, "body": TEXT_A, "headline": "H", "published": "2020-01-02"}))
    fields = Fields(text="body", title="headline", date="published", id="key")
    (record,) = iter_jsonl(path, ReadOptions(fields=fields))
    assert record.article is not None
    assert (record.article.id, record.article.title, record.article.date) == (
        "7",
        "H",
        dt.date(2020, 1, 2),
    )


def test_readers_csv_rows_with_quoted_newlines_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "d.csv.gz"
    rows = (
        'id,text,date\n1,"First line,\nsecond line",2021-05-06\n2,too,many,fields\n3,,\n4,last,\n'
    )
    path.write_bytes(gzip.compress(rows.encode("utf-8")))
    records = list(iter_csv(path))
    assert summary(iter(records)) == [
        ("d.csv.gz:2", "1"),
        ("d.csv.gz:4", f"ERROR {path}:4: 4 fields where the header has 3"),
        ("d.csv.gz:5", f"ERROR {path}:5: no text in field 'text' (str value)"),
        ("d.csv.gz:6", "4"),
    ]
    assert records[0].article is not None
    assert records[0].article.text == "First line,\nsecond line"


def test_readers_csv_without_the_text_column_says_which_columns_it_has(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,body\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no column 'text' for the text; the header has id, body"):
        list(iter_csv(path))


def test_readers_truncated_gzip_fails_after_the_good_records(tmp_path: Path) -> None:
    data = b"".join(jsonl({"text": os.urandom(40).hex()}) for _ in range(3000))
    packed = gzip.compress(data)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    seen = []
    with pytest.raises(InputError, match=r"cut.jsonl.gz: truncated or corrupt compressed file"):
        for record in iter_records(path):
            seen.append(record)
    assert seen and all(r.article is not None for r in seen)


def test_readers_truncated_zstd_is_noticed(tmp_path: Path) -> None:
    data = b"".join(jsonl({"text": os.urandom(40).hex()}) for _ in range(3000))
    packed = zstandard.ZstdCompressor().compress(data)
    path = tmp_path / "cut.jsonl.zst"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputError, match=r"cut.jsonl.zst: truncated zstd stream"):
        list(iter_records(path))


def test_readers_zip_bomb_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "bomb.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b'{"text": "')
        zeros = b"0" * 2**20
        for _ in range(64):
            out.write(zeros)
        out.write(b'"}\n{"text": "after the bomb"}\n')
    assert path.stat().st_size < 2**20
    # one record over the record limit fails alone, and reading goes on ...
    records = list(iter_records(path, ReadOptions(max_bytes=2**20)))
    assert (
        str(records[0].error)
        == f"{path}:1: line is over the limit of 1,048,576 bytes (--max-bytes)"
    )
    assert records[1].article is not None and records[1].article.text == "after the bomb"
    # ... and the whole file is refused past the file limit.
    started = time.monotonic()
    with pytest.raises(InputError, match=r"more than 8,388,608 bytes decompressed; refused"):
        list(iter_records(path, ReadOptions(max_bytes=2**20, max_total_bytes=8 * 2**20)))
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_readers_large_dump_streams_in_bounded_memory(tmp_path: Path) -> None:
    """A dump of about 100 MB (written lazily) is read with a small, flat peak of memory."""
    path = tmp_path / "big.jsonl.zst"
    line = jsonl({"text": TEXT_A + " " + "x" * 900})
    with path.open("wb") as raw, zstandard.ZstdCompressor().stream_writer(raw) as out:
        for _ in range(100_000):
            out.write(line)
    tracemalloc.start()
    count = sum(1 for record in iter_records(path) if record.article is not None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 100_000
    assert peak < 16 * 2**20, f"peak {peak:,} bytes"


# --- feeds -------------------------------------------------------------------------------

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Defence Wire</title><language>en-gb</language>
<item><title>Contract signed</title><link>https://wire.example/1</link>
<guid>wire-1</guid><pubDate>Tue, 12 Sep 2017 08:00:00 GMT</pubDate>
<description>Short summary.</description>
<content:encoded><![CDATA[<p>Moscow and Ankara <b>signed</b> a contract.</p>
<p>Second paragraph.</p>]]></content:encoded>
</item>
<item><title>Only a summary</title><link>https://wire.example/2</link>
<description>Ankara confirmed the batteries had arrived.</description></item>
<item><title>Nothing at all</title></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title>
<entry><title>Delivery</title><id>urn:x:1</id><link href="https://atom.example/1"/>
<updated>2019-07-12T10:00:00Z</updated>
<content type="html">&lt;p&gt;The first batteries arrived.&lt;/p&gt;</content></entry>
</feed>
"""


def test_readers_rss_items_with_content_summary_and_nothing(tmp_path: Path) -> None:
    path = tmp_path / "wire.rss"
    path.write_text(RSS, encoding="utf-8")
    first, second, third = iter_feed(path)
    assert first.article is not None and second.article is not None
    assert first.source == f"{path}#1"
    assert first.article.text == "Moscow and Ankara signed a contract.\nSecond paragraph."
    assert (first.article.id, first.article.title, first.article.outlet) == (
        "wire-1",
        "Contract signed",
        "Defence Wire",
    )
    assert (first.article.date, first.article.url, first.article.language) == (
        dt.date(2017, 9, 12),
        "https://wire.example/1",
        "en",
    )
    assert second.article.text == "Ankara confirmed the batteries had arrived."
    assert str(third.error) == f"{path}#3: the item has no text (no content and no summary)"


RSS_091 = """<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
 "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel>
<title>Old Wire</title><link>https://old.example/</link><description>x</description>
<language>en-us</language>
<item><title>Frigates ordered</title><link>https://old.example/frigates</link>
<description>Ruritania ordered two frigates from Freedonia on Monday.</description></item>
</channel></rss>
"""


def test_readers_rss_091_feed(tmp_path: Path) -> None:
    path = tmp_path / "old.rss"
    path.write_text(RSS_091, encoding="iso-8859-1")
    [record] = iter_feed(path)
    assert record.article is not None
    assert record.article.title == "Frigates ordered"
    assert record.article.text == "Ruritania ordered two frigates from Freedonia on Monday."
    assert record.article.url == "https://old.example/frigates"


def test_readers_atom_feed(tmp_path: Path) -> None:
    path = tmp_path / "news.atom"
    path.write_text(ATOM, encoding="utf-8")
    (record,) = iter_records(path)
    assert record.article is not None
    assert (record.article.text, record.article.date, record.article.url) == (
        "The first batteries arrived.",
        dt.date(2019, 7, 12),
        "https://atom.example/1",
    )


PAGE = (
    "<html><head><title>Batteries arrive</title></head><body><article>"
    + "<p>Ankara confirmed on Monday that the first S-400 batteries had arrived from Russia, "
    "and officials said the deliveries would be complete by the end of the year.</p>"
    * 3
    + "</article></body></html>"
)


def test_readers_feed_follows_links_of_summary_only_items(tmp_path: Path) -> None:
    path = tmp_path / "wire.xml"
    path.write_text(RSS, encoding="utf-8")
    asked: list[str] = []

    def fake_fetch(url: str, **_: Any) -> Fetched:
        asked.append(url)
        return Fetched(url, 200, PAGE.encode("utf-8"), "text/html")

    records = list(iter_feed(path, ReadOptions(follow_links=True, fetch=fake_fetch)))
    assert asked == ["https://wire.example/2"]  # the first item has its content
    assert records[1].article is not None
    assert records[1].article.text.startswith("Ankara confirmed on Monday")

    def down(url: str, **_: Any) -> Fetched:
        raise InputError(f"{url}: no answer within 20 s")

    records = list(iter_feed(path, ReadOptions(follow_links=True, fetch=down)))
    assert str(records[1].error) == "https://wire.example/2: no answer within 20 s"


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 2 else "") + ";") * 10}">\n'
        for n in range(2, 10)
    )
    + ']>\n<rss version="2.0"><channel><title>x</title><item><title>&lol9;</title>'
    "<description>boom</description></item></channel></rss>\n"
)


def test_readers_billion_laughs_feed_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "lol.xml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(InputError, match=r"lol.xml: the feed declares XML entities .*refused"):
        list(iter_records(path))
    broken = tmp_path / "lol-broken.xml"
    broken.write_text(BILLION_LAUGHS.replace("<!DOCTYPE", "<<!DOCTYPE"), encoding="utf-8")
    with pytest.raises(InputError, match=r"declares XML entities; refused"):
        list(iter_records(broken))
    assert time.monotonic() - started < 2


def test_readers_feed_with_a_wrong_declared_encoding_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "latin.xml"
    feed = RSS.replace('encoding="utf-8"', 'encoding="utf-8"').replace(
        "Short summary.", "Caf\u00e9 summary."
    )
    path.write_bytes(feed.replace("Second paragraph.", "Deuxi\u00e8me.").encode("cp1252"))
    records = list(iter_records(path))
    assert records[0].article is not None
    assert "Deuxi" in records[0].article.text


def test_readers_malformed_feed_and_not_a_feed(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text(RSS.replace("</channel></rss>", "<item><title>cut"), encoding="utf-8")
    assert any(r.article is not None for r in iter_records(broken))
    page = tmp_path / "page.xml"
    page.write_text("just some words, no markup", encoding="utf-8")
    with pytest.raises(InputError, match=r"page.xml: not an RSS or Atom feed"):
        list(iter_records(page))


# --- web archives -------------------------------------------------------------------------


def write_warc(path: Path, responses: list[tuple[str, str, bytes]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=path.name.endswith(".gz"))
        for url, content_type, body in responses:
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=headers
            )
            writer.write_record(record)


def test_readers_warc_html_responses_through_trafilatura(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    latin = PAGE.replace("Monday", "Montag \u00e4").encode("latin-1")
    write_warc(
        path,
        [
            ("https://site.example/a", "text/html; charset=utf-8", PAGE.encode("utf-8")),
            ("https://site.example/logo.png", "image/png", b"\x89PNG\r\n"),
            ("https://site.example/b", "text/html; charset=iso-8859-1", latin),
            ("https://site.example/c", "text/html", b"<html><body></body></html>"),
        ],
    )
    records = list(iter_warc(path))
    assert [r.source for r in records] == [f"{path}#1", f"{path}#2", f"{path}#3"]
    assert records[0].article is not None and records[1].article is not None
    assert records[0].article.url == "https://site.example/a"
    assert "Montag \u00e4" in records[1].article.text
    assert str(records[2].error) == f"{path}#3: no article text found in the page"


def test_readers_truncated_warc_fails_after_its_good_pages(tmp_path: Path) -> None:
    path = tmp_path / "cut.warc.gz"
    pages = [(f"https://site.example/{n}", "text/html", PAGE.encode()) for n in range(400)]
    write_warc(path, pages)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 300])
    seen = []
    with pytest.raises(InputError, match=r"cut.warc.gz: "):
        for record in iter_warc(path):
            seen.append(record)
    assert len(seen) >= 100


def test_readers_suffixes() -> None:
    assert [reader_suffix(n) for n in ("a.JSONL.GZ", "a.jsonl", "a.csv", "a.warc.gz", "a.txt")] == [
        ".jsonl.gz",
        ".jsonl",
        ".csv",
        ".warc.gz",
        None,
    ]
