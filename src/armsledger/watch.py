"""Watch feeds: poll them now and then, and ingest what is new.

Each poll of a feed URL is a conditional request: the ``ETag`` and ``Last-Modified`` of the
last answer go back as ``If-None-Match`` and ``If-Modified-Since``, and a feed that has not
changed answers 304 and costs nothing more. A changed feed is read by
:func:`armsledger.batch.ingest_paths` like any other input, so its items that are already
in the register are left unchanged and only new ones are extracted. A feed that is down,
slow (past the timeout) or malformed gives a poll with an error, and the others go on;
the next round tries it again. Feed files (not URLs) are read whole at every round.

The validators are kept in the register (its ``feed_state`` table), so a ``watch`` started
anew, such as a cron job running ``watch --once``, sends them too: they are loaded before a
feed's first request and saved after each poll, in a transaction of their own. Only a feed
read in full updates them; a 304 keeps them (or takes the new ones it sends), and a failed
poll records its status but keeps the validators of the last good read, so a malformed feed
is fetched in full again next time.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armsledger.batch import IngestSummary, ingest_paths
from armsledger.errors import ConfigError, InputError
from armsledger.fetch import Fetched, fetch, is_url
from armsledger.readers import ReadOptions
from armsledger.store import Register

_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.I)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(value: str) -> float:
    """Seconds from an interval such as ``15m``, ``90s``, ``2h``, ``1d`` or ``30``.

    Raises:
        ConfigError: the interval is not a positive number with an optional unit.
    """
    match = _EVERY.match(value)
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()] if match else 0
    if seconds <= 0:
        raise ConfigError(
            f"--every: {value!r} is not an interval; give a number with s, m, h or d (15m)"
        )
    return seconds


@dataclass(frozen=True, slots=True)
class Poll:
    """One look at one feed.

    Attributes:
        feed: the feed's URL or path.
        status: ``read`` (the feed was read and its items ingested), ``not modified``
            (304) or ``failed``.
        summary: the outcomes of its items when read.
        error: why the poll failed.
    """

    feed: str
    status: str
    summary: IngestSummary | None = None
    error: str | None = None


@dataclass
class _Validators:
    etag: str | None = None
    last_modified: str | None = None


def _load_validators(register: Register, feed: str) -> _Validators:
    """The validators the register keeps for ``feed`` (none for a feed never read)."""
    state = register.get_feed_state(feed)
    if state is None:
        return _Validators()
    return _Validators(state.etag, state.last_modified)


def _save_poll(register: Register, poll: Poll, validators: _Validators) -> Poll:
    """Keep ``validators`` and how ``poll`` went in the register, for the next run."""
    register.save_feed_state(
        poll.feed,
        etag=validators.etag,
        last_modified=validators.last_modified,
        last_status=poll.status,
    )
    return poll


def watch_feeds(
    feeds: Sequence[str],
    register: Register,
    *,
    every: float,
    rounds: int | None = None,
    read_options: ReadOptions | None = None,
    on_poll: Callable[[Poll], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    **ingest: Any,
) -> list[Poll]:
    """Poll every feed, ingest what is new, wait ``every`` seconds, and again.

    Args:
        feeds: feed URLs (http or https) or feed files.
        register: where to save.
        every: seconds from the start of one round to the start of the next.
        rounds: how many rounds (``1`` for ``--once``); ``None`` runs until interrupted.
        read_options: how feeds are read (timeout, size limit).
        on_poll: called with each poll as it ends.
        sleep: waits between rounds; a fake one in tests.
        ingest: further arguments of :func:`armsledger.batch.ingest_paths` (``extract``).

    Returns:
        Every poll, in order (kept only when ``rounds`` is given).
    """
    options = read_options or ReadOptions()
    validators = {feed: _load_validators(register, feed) for feed in feeds if is_url(feed)}
    polls: list[Poll] = []
    done = 0
    while rounds is None or done < rounds:
        started = time.monotonic()
        for feed in feeds:
            poll = poll_feed(feed, register, validators.get(feed), options, **ingest)
            if rounds is not None:
                polls.append(poll)
            if on_poll is not None:
                on_poll(poll)
        done += 1
        if rounds is None or done < rounds:
            sleep(max(0.0, every - (time.monotonic() - started)))
    return polls


def poll_feed(
    feed: str,
    register: Register,
    validators: _Validators | None = None,
    options: ReadOptions | None = None,
    **ingest: Any,
) -> Poll:
    """Look at one feed once: fetch it (conditionally) and ingest its new items.

    A feed URL's validators come from ``validators`` (kept up to date here) or else from the
    register; after the poll they are saved in the register with its status.

    Raises:
        StoreError: the register cannot keep the feed's state.
    """
    options = options or ReadOptions()
    if not is_url(feed):
        summary = ingest_paths([Path(feed)], register, read_options=options, **ingest)
        return _read(str(Path(feed)), summary)
    if validators is None:
        validators = _load_validators(register, feed)
    try:
        fetched = fetch(
            feed,
            timeout=options.timeout,
            max_bytes=options.max_bytes,
            etag=validators.etag,
            last_modified=validators.last_modified,
        )
    except InputError as error:
        return _save_poll(register, Poll(feed, "failed", error=str(error)), validators)
    if fetched.status == 304:
        # A 304 may carry newer validators (RFC 9110, 15.4.5); fetch gives back ours if not.
        validators.etag, validators.last_modified = fetched.etag, fetched.last_modified
        return _save_poll(register, Poll(feed, "not modified"), validators)

    def prefetched(url: str, **kwargs: Any) -> Fetched:
        return fetched if url == feed else options.fetch(url, **kwargs)

    summary = ingest_paths(
        [feed], register, read_options=dataclasses.replace(options, fetch=prefetched), **ingest
    )
    poll = _read(feed, summary)
    if poll.status == "read":  # a malformed feed is fetched in full again next time
        validators.etag, validators.last_modified = fetched.etag, fetched.last_modified
    return _save_poll(register, poll, validators)


def _read(feed: str, summary: IngestSummary) -> Poll:
    """The poll of a feed read: failed when the feed itself could not be read."""
    whole = next((o for o in summary.outcomes if o.status == "failed" and o.source == feed), None)
    if whole is not None:
        return Poll(feed, "failed", summary, whole.reason)
    return Poll(feed, "read", summary)
