"""``watch`` against a feed served on 127.0.0.1 by http.server (bounded, stops by itself)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from armsledger.errors import ConfigError
from armsledger.readers import ReadOptions
from armsledger.store import Register
from armsledger.watch import parse_every, watch_feeds

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Local Wire</title>
<item><title>One</title><guid>w1</guid><link>{base}/1</link>
<description>Moscow and Ankara signed a contract for four batteries.</description></item>
{more}
</channel></rss>
"""
MORE = """<item><title>Two</title><guid>w2</guid><link>{base}/2</link>
<description>The shipyard launched the second of four patrol vessels.</description></item>"""


PAGES = {
    "/1": "<html><body><article><p>The ministry said the batteries bought last year would "
    "arrive in two batches, the first before the summer, and that crews had finished their "
    "training at a range near the coast.</p></article></body></html>",
    "/2": "<html><body><article><p>A northern shipyard launched the second of four patrol "
    "vessels for the navy, and the builder expects to hand over the remaining hulls within "
    "three years of the order.</p></article></body></html>",
}


class FeedServer(http.server.ThreadingHTTPServer):
    """Serves ``/feed.xml`` with an ETag, ``/broken.xml``, and counts requests."""

    feed = ""
    etag = '"v1"'
    requests: list[tuple[str, str | None]]


class Handler(http.server.BaseHTTPRequestHandler):
    server: FeedServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.requests.append((self.path, self.headers.get("If-None-Match")))
        if self.path in ("/1", "/2"):
            body = PAGES[self.path].encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == "/broken.xml":
            body = b"<html><p>Service unavailable, try later</p>"
        elif self.path == "/feed.xml":
            if self.headers.get("If-None-Match") == self.server.etag:
                self.send_response(304)
                self.end_headers()
                return
            body = self.server.feed.encode("utf-8")
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", self.server.etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[FeedServer]:
    httpd = FeedServer(("127.0.0.1", 0), Handler)
    httpd.requests = []
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.feed = FEED.format(more="", base=base)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def test_watch_polls_conditionally_and_survives_bad_feeds(
    server: FeedServer, register: Register
) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    feeds = [f"{base}/feed.xml", f"{base}/broken.xml", f"{base}/missing.xml"]
    rounds: list[list[str]] = []

    def between_rounds(seconds: float) -> None:
        assert 0 <= seconds <= 0.5
        if len(rounds) == 2:  # the feed changes after the second round
            server.feed = FEED.format(more=MORE.format(base=base), base=base)
            server.etag = '"v2"'
        rounds.append([])

    rounds.append([])
    polls = watch_feeds(
        feeds,
        register,
        every=0.5,
        rounds=3,
        read_options=ReadOptions(timeout=5),
        sleep=between_rounds,
        on_poll=lambda poll: rounds[-1].append(poll.status),
        extract=lambda article: [],
    )
    assert rounds == [["read", "failed", "failed"]] * 1 + [
        ["not modified", "failed", "failed"],
        ["read", "failed", "failed"],
    ]
    assert polls[1].error and "not an RSS or Atom feed" in polls[1].error
    assert polls[2].error == f"{base}/missing.xml: HTTP 404 Not Found"
    third = polls[6].summary
    assert third is not None and (third.stored, third.unchanged) == (1, 1)
    assert register.counts()["articles"] == 2
    feed_requests = [etag for path, etag in server.requests if path == "/feed.xml"]
    assert feed_requests == [None, '"v1"', '"v1"']


def test_watch_interval() -> None:
    assert [parse_every(v) for v in ("15m", "90s", "2h", "1d", "30")] == [
        900,
        90,
        7200,
        86400,
        30,
    ]
    with pytest.raises(ConfigError, match=r"--every: 'soon' is not an interval"):
        parse_every("soon")


def test_watch_feed_file_once(tmp_path: Path, register: Register) -> None:
    feed = tmp_path / "local.xml"
    feed.write_text(FEED.format(more=MORE, base="http://127.0.0.1:9"), encoding="utf-8")
    (poll,) = watch_feeds([str(feed)], register, every=60, rounds=1, extract=lambda a: [])
    assert poll.status == "read" and poll.summary is not None and poll.summary.stored == 2
