from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import pytest
from conftest import TEXT_DELIVERY
from hypothesis import given, settings
from hypothesis import strategies as st

from armsledger.errors import InputError, ParseError, UnsupportedFormatError
from armsledger.ingest import iter_paths, read_article, read_text

# A hand-written page: trafilatura must find the article and leave the navigation out.
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="{charset}">
<title>Ruritania orders patrol boats | Example Gazette</title>
<meta property="og:site_name" content="Example Gazette">
<meta property="article:published_time" content="2021-03-04T08:00:00Z">
<link rel="canonical" href="https://gazette.example/ruritania-boats">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<aside class="advertisement"><a href="https://ads.example/">Buy cheap flights now!</a></aside>
<article><h1>Ruritania orders patrol boats</h1>
<p>The government of Ruritania said on Thursday that it had signed a contract for four
patrol boats with a shipyard in Freedonia, its largest naval order in a decade.</p>
<p>The first boat is expected to arrive next spring, the defence minister told reporters
at the harbour, adding that crews would train abroad {accent}.</p>
</article>
<footer>Copyright Example Gazette. All rights reserved.</footer>
</body></html>
"""


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_bytes(data.encode("utf-8"))
    else:
        path.write_bytes(data)
    return path


# --- reading text ------------------------------------------------------------------------


def test_ingest_keeps_text_exactly(tmp_path: Path) -> None:
    text = "  \n" + TEXT_DELIVERY + "\n\n"  # leading blanks, CRLF, NBSP, curly quotes
    article = read_article(write(tmp_path / "delivery.txt", text))
    assert article.text == text
    assert article.id == "delivery.txt"
    assert article.source == str(tmp_path / "delivery.txt")
    assert article.title is None and article.date is None


def test_ingest_drops_only_the_utf8_byte_order_mark(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.txt", b"\xef\xbb\xbf" + TEXT_DELIVERY.encode("utf-8"))
    assert read_article(path).text == TEXT_DELIVERY


def test_ingest_reads_utf16_with_byte_order_mark(tmp_path: Path) -> None:
    path = write(tmp_path / "wide.txt", TEXT_DELIVERY.encode("utf-16"))
    assert read_article(path).text == TEXT_DELIVERY


def test_ingest_reads_windows_1252_text(tmp_path: Path) -> None:
    text = (
        "Le ministre a d\u00e9clar\u00e9 que la livraison \u00e9tait \u00ab termin\u00e9e \u00bb.\n"
    )
    article = read_article(write(tmp_path / "fr.txt", text.encode("cp1252")))
    assert article.text == text


def test_ingest_reads_windows_1252_typographic_quotes(tmp_path: Path) -> None:
    text = "The minister said \u201cthe deal is done\u201d \u2013 and paid \u20ac2.5bn.\n"
    article = read_article(write(tmp_path / "quotes.txt", text.encode("cp1252")))
    assert article.text == text


def test_ingest_reads_sibling_meta_json(tmp_path: Path) -> None:
    path = write(tmp_path / "a001.txt", TEXT_DELIVERY)
    meta = {
        "title": "S-400 arrives",
        "outlet": "Example News",
        "date": "2019-07-12",
        "url": "https://news.example/a001",
        "note": "ignored",
    }
    write(tmp_path / "a001.meta.json", json.dumps(meta))
    article = read_article(path)
    assert article.title == "S-400 arrives"
    assert article.outlet == "Example News"
    assert article.date == dt.date(2019, 7, 12)
    assert article.url == "https://news.example/a001"
    assert article.text == TEXT_DELIVERY


def test_ingest_meta_json_of_a_dotted_name_is_found_by_stem(tmp_path: Path) -> None:
    path = write(tmp_path / "s400.turkey.txt", TEXT_DELIVERY)
    write(tmp_path / "s400.turkey.meta.json", '{"title": "dotted"}')
    assert read_article(path).title == "dotted"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-07-12", dt.date(2019, 7, 12)),
        ("2019-07-12T10:00:00Z", dt.date(2019, 7, 12)),
        ("2019-07-12 (approx., from content)", dt.date(2019, 7, 12)),
        ("2023-03 (approx.; not stated in excerpt)", dt.date(2023, 3, 1)),
        ("2020-2021 (approx.)", None),
        ("sometime in 2019", None),
        (None, None),
    ],
)
def test_ingest_meta_date_is_its_leading_iso_date(
    tmp_path: Path, value: str | None, expected: dt.date | None
) -> None:
    path = write(tmp_path / "a.txt", TEXT_DELIVERY)
    write(tmp_path / "a.meta.json", json.dumps({"date": value}))
    assert read_article(path).date == expected


@pytest.mark.parametrize(
    ("meta", "reason"),
    [
        ('{"title": "unclosed"', "malformed JSON"),
        ("[1, 2]", "expected a JSON object, found list"),
        ('{"title": 42}', "title must be a string or null"),
        ('{"date": 20190712}', "date must be an ISO date string or null"),
        ('{"date": "2019-13-45"}', "is not a valid date"),
    ],
)
def test_ingest_malformed_meta_json_is_a_parse_error_naming_it(
    tmp_path: Path, meta: str, reason: str
) -> None:
    path = write(tmp_path / "a.txt", TEXT_DELIVERY)
    write(tmp_path / "a.meta.json", meta)
    with pytest.raises(ParseError, match=reason) as caught:
        read_article(path)
    assert str(caught.value).startswith(f"{tmp_path / 'a.meta.json'}: ")


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b" \n\t\n", "no text (the file holds only whitespace)"),
        (
            "image.txt",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "binary file, not text",
        ),
        ("controls.txt", bytes(range(1, 32)) * 20, "binary file, not text"),
        (
            "damaged.txt",
            "The \u201cdeal\u201d was signed".encode() + b"\xff\xfe in Moscow.",
            "not valid UTF-8 text (byte 0xff at offset 25)",
        ),
        (
            "undefined.txt",
            b"The deal \x81 was signed.",
            "not valid UTF-8 text (byte 0x81 at offset 9)",
        ),
        (
            "symbols.txt",
            b"The deal \xa4\xa6\xac was signed.",
            "not valid UTF-8 text (byte 0xa4 at offset 9)",
        ),
    ],
)
def test_ingest_bad_file_is_an_input_error_naming_it(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    path = write(tmp_path / name, data)
    with pytest.raises(InputError) as caught:
        read_article(path)
    assert str(caught.value) == f"{path}: {reason}"


def test_ingest_huge_file_is_refused_by_size_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as file:
        file.truncate(200 * 2**20)  # sparse: no 200 MB are written

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    started = time.perf_counter()
    with pytest.raises(InputError) as caught:
        read_article(path)
    assert time.perf_counter() - started < 1
    assert str(caught.value) == f"{path}: file is 200.0 MB; the limit is 50 MB (--max-bytes)"


def test_ingest_size_limit_is_a_parameter(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "x" * 2000)
    with pytest.raises(InputError, match=r"file is 2,000 bytes; the limit is 1,000 bytes"):
        read_article(path, max_bytes=1000)
    assert read_article(path, max_bytes=2000).text == "x" * 2000


def test_ingest_missing_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.txt"
    with pytest.raises(InputError, match="no such file or folder") as caught:
        read_article(path)
    assert str(caught.value).startswith(str(path))


def test_ingest_unsupported_suffix_says_what_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "report.pdf", b"%PDF-1.7")
    with pytest.raises(UnsupportedFormatError) as caught:
        read_article(path)
    assert str(caught.value) == (
        f"{path}: unsupported file type '.pdf'; armsledger reads .txt, .html and .htm"
    )


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_ingest_any_bytes_give_an_article_or_an_input_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "any.txt", data)
        try:
            article = read_article(path)
        except InputError as error:
            assert str(error).startswith(f"{path}: ")
        else:
            assert article.text.strip()


# --- folders -----------------------------------------------------------------------------


def test_ingest_iter_paths_walks_folders_sorted_and_skips_sidecars(tmp_path: Path) -> None:
    root = tmp_path / "news"
    for name in (
        "b.txt",
        "a.html",
        "a.meta.json",
        "a.gold.json",
        ".hidden.txt",
        "notes.md",
        "sub/c.htm",
        ".git/d.txt",
    ):
        write(root / name, "text")
    loose = write(tmp_path / "loose.txt", "text")
    found = list(iter_paths([root, loose, root / "b.txt"]))
    assert found == [root / "a.html", root / "b.txt", root / "sub" / "c.htm", loose]


def test_ingest_iter_paths_yields_named_files_as_given(tmp_path: Path) -> None:
    meta = write(tmp_path / "a.meta.json", "{}")
    assert list(iter_paths([meta])) == [meta]


def test_ingest_iter_paths_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        list(iter_paths([tmp_path / "nowhere"]))
    assert str(caught.value) == f"{tmp_path / 'nowhere'}: no such file or folder"


def test_ingest_iter_paths_folder_without_articles_is_an_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "only-sidecars"
    write(folder / "a.meta.json", "{}")
    write(folder / ".hidden.txt", "text")
    with pytest.raises(InputError) as caught:
        list(iter_paths([folder]))
    assert str(caught.value) == f"{folder}: no .txt or .html articles in {folder}"


# --- HTML --------------------------------------------------------------------------------


def test_ingest_html_gives_main_text_and_metadata(tmp_path: Path) -> None:
    path = write(tmp_path / "boats.html", PAGE.format(charset="utf-8", accent="in G\u00f6teborg"))
    article = read_article(path)
    assert "signed a contract for four" in article.text
    assert "Göteborg" in article.text
    assert "Home" not in article.text and "Copyright" not in article.text
    assert "cheap flights" not in article.text  # the advertisement is left out too
    assert article.title == "Ruritania orders patrol boats"
    assert article.outlet == "Example Gazette"
    assert article.date == dt.date(2021, 3, 4)
    assert article.url == "https://gazette.example/ruritania-boats"
    assert article.id == "boats.html"


def test_ingest_html_meta_json_overrides_the_page(tmp_path: Path) -> None:
    path = write(tmp_path / "boats.htm", PAGE.format(charset="utf-8", accent=""))
    write(tmp_path / "boats.meta.json", '{"title": "Given title", "date": "2021-03-05"}')
    article = read_article(path)
    assert article.title == "Given title"
    assert article.date == dt.date(2021, 3, 5)
    assert article.outlet == "Example Gazette"


def test_ingest_html_in_declared_legacy_charset(tmp_path: Path) -> None:
    page = PAGE.format(charset="windows-1252", accent="in G\u00f6teborg")
    article = read_article(write(tmp_path / "legacy.html", page.encode("cp1252")))
    assert "Göteborg" in article.text


def test_ingest_html_without_article_text_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.html", "<html><head><title>x</title></head><body></body></html>")
    with pytest.raises(InputError) as caught:
        read_article(path)
    assert str(caught.value) == f"{path}: no article text found in the page"


# --- text from other readers -------------------------------------------------------------


def test_ingest_read_text_keeps_text_and_fields() -> None:
    article = read_text(TEXT_DELIVERY, id="feed-1", date=dt.date(2019, 7, 12), source="feed")
    assert article.text == TEXT_DELIVERY
    assert article.id == "feed-1" and article.source == "feed"
    assert article.date == dt.date(2019, 7, 12)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "feed-1: empty text"),
        ("  \n", "feed-1: empty text"),
        ("a\x00b", "feed-1: binary text (NUL characters), not an article"),
        ("a\ud800b", "feed-1: not valid Unicode text (character 1 is a lone surrogate)"),
    ],
)
def test_ingest_read_text_refuses_bad_text(text: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        read_text(text, id="feed-1")
    assert str(caught.value) == reason


# --- the shared articles -----------------------------------------------------------------


def test_ingest_reads_every_shared_article_exactly(shared_dir: Path) -> None:
    paths = list(iter_paths([shared_dir / "dev", shared_dir / "examples"]))
    assert len(paths) >= 50
    for path in paths:
        article = read_article(path)
        assert article.text == path.read_bytes().decode("utf-8-sig"), path
        meta = json.loads(path.with_name(path.stem + ".meta.json").read_text("utf-8"))
        assert article.title == (meta.get("title") or None)
        assert article.url == (meta.get("url") or None)


def test_ingest_iter_paths_yields_a_file_reached_through_a_link_once(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.txt").write_text("An article.", encoding="utf-8")
    (tmp_path / "b" / "y.txt").write_text("Another article.", encoding="utf-8")
    (tmp_path / "b" / "link.txt").symlink_to(tmp_path / "a" / "x.txt")
    found = list(iter_paths([tmp_path / "a", tmp_path / "b", tmp_path / "a" / "x.txt"]))
    assert found == [tmp_path / "a" / "x.txt", tmp_path / "b" / "y.txt"]
    seen: set[str] = set()
    assert list(iter_paths([tmp_path / "a"], seen)) == [tmp_path / "a" / "x.txt"]
    assert list(iter_paths([tmp_path / "b"], seen)) == [tmp_path / "b" / "y.txt"]
