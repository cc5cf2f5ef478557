"""``watch`` against a feed served on 127.0.0.1 by http.server (bounded, stops by itself)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from armsledger.cli import cli
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


#: A feed whose server gives a Last-Modified and no ETag.
DATED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Dated Wire</title>
<item><title>Two</title><guid>d2</guid><link>{base}/2</link>
<description>The shipyard launched the second of four patrol vessels.</description></item>
</channel></rss>
"""
LAST_MODIFIED = "Mon, 03 Jun 2024 08:00:00 GMT"


class FeedServer(http.server.ThreadingHTTPServer):
    """Serves ``/feed.xml`` with an ETag and a Last-Modified, ``/dated.xml`` with a
    Last-Modified only, ``/broken.xml``, and counts requests with their validators."""

    feed = ""
    etag = '"v1"'
    requests: list[tuple[str, str | None]]
    #: ``(path, If-None-Match, If-Modified-Since)`` of every request.
    conditions: list[tuple[str, str | None, str | None]]


class Handler(http.server.BaseHTTPRequestHandler):
    server: FeedServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        none_match = self.headers.get("If-None-Match")
        modified_since = self.headers.get("If-Modified-Since")
        self.server.requests.append((self.path, none_match))
        self.server.conditions.append((self.path, none_match, modified_since))
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
            # If-None-Match, when sent, decides alone (RFC 9110, 13.2.2).
            if none_match == self.server.etag or (
                none_match is None and modified_since == LAST_MODIFIED
            ):
                self.send_response(304)
                self.end_headers()
                return
            body = self.server.feed.encode("utf-8")
        elif self.path == "/dated.xml":
            if modified_since == LAST_MODIFIED:
                self.send_response(304)
                self.end_headers()
                return
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            body = DATED.format(base=base).encode("utf-8")
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        if self.path != "/dated.xml":
            self.send_header("ETag", self.server.etag)
        self.send_header("Last-Modified", LAST_MODIFIED)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[FeedServer]:
    httpd = FeedServer(("127.0.0.1", 0), Handler)
    httpd.requests = []
    httpd.conditions = []
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


def test_watch_keeps_validators_in_the_register_across_runs(
    server: FeedServer, tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    feeds = [f"{base}/feed.xml", f"{base}/dated.xml", f"{base}/broken.xml"]
    url = f"sqlite:///{tmp_path / 'register.db'}"

    def run() -> list[str]:
        # A register opened anew, as by a new process: nothing is carried over in memory.
        with Register(url) as register:
            polls = watch_feeds(
                feeds,
                register,
                every=60,
                rounds=1,
                read_options=ReadOptions(timeout=5),
                extract=lambda article: [],
            )
            assert register.counts()["articles"] == 2
        return [poll.status for poll in polls]

    assert run() == ["read", "read", "failed"]
    first = len(server.conditions)
    assert run() == ["not modified", "not modified", "failed"]
    assert sorted(server.conditions[first:]) == [
        ("/broken.xml", None, None),  # a failed feed keeps no validators
        ("/dated.xml", None, LAST_MODIFIED),
        ("/feed.xml", '"v1"', LAST_MODIFIED),
    ]
    pages = [path for path, _, _ in server.conditions if path in ("/1", "/2")]
    assert sorted(pages) == ["/1", "/2"]  # the items were read by the first run only
    with Register(url) as register:
        state = register.get_feed_state(f"{base}/feed.xml")
        assert state is not None
        assert (state.etag, state.last_modified, state.last_status) == (
            '"v1"',
            LAST_MODIFIED,
            "not modified",
        )
        broken = register.get_feed_state(f"{base}/broken.xml")
        assert broken is not None and (broken.etag, broken.last_status) == (None, "failed")
        assert register.get_feed_state(f"{base}/missing.xml") is None


def test_watch_once_twice_from_the_cli_sends_a_conditional_request(
    server: FeedServer, tmp_path: Path
) -> None:
    feed = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    db = str(tmp_path / "cron.db")
    runs = [
        CliRunner().invoke(cli, ["watch", "--once", "--db", db, feed], catch_exceptions=False)
        for _ in range(2)
    ]
    assert [run.exit_code for run in runs] == [0, 0]
    assert runs[0].output.endswith(f"{feed}: stored 1, unchanged 0, duplicates 0, failed 0\n"), (
        runs[0].output
    )
    assert runs[1].output.endswith(f"{feed}: not modified\n"), runs[1].output
    assert [(p, etag) for p, etag, _ in server.conditions if p == "/feed.xml"] == [
        ("/feed.xml", None),
        ("/feed.xml", '"v1"'),
    ]
    assert [p for p, _, _ in server.conditions].count("/1") == 1
    with Register(f"sqlite:///{db}") as register:
        assert register.counts()["articles"] == 1
