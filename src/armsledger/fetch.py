"""Fetch a document over HTTP(S), with a timeout, a size limit and conditional requests.

The one place armsledger talks to the network: feeds given as URLs, the pages their items
link to, and ``watch``'s polling. Only ``http`` and ``https`` URLs are fetched (never
``file:`` or ``ftp:``, which a feed could otherwise smuggle in as an item's link). Every
failure is an :class:`~armsledger.errors.InputError` that names the URL and says what went
wrong: a timeout, a refused connection, an HTTP error status, a body over the limit.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from armsledger import __version__
from armsledger.errors import InputError

#: Seconds to wait for a connection or for the next bytes of an answer. News sites answer
#: in well under a second; 20 s lets a slow one through and still bounds a hung one.
DEFAULT_TIMEOUT = 20.0

#: Largest body fetched: the article size limit of :mod:`armsledger.ingest`.
DEFAULT_MAX_BYTES = 50 * 2**20

USER_AGENT = f"armsledger/{__version__} (+https://pypi.org/project/armsledger/)"


@dataclass(frozen=True, slots=True)
class Fetched:
    """The answer to one request.

    Attributes:
        url: the URL finally answered (after redirects).
        status: 200, or 304 when a conditional request found nothing new (``body`` empty).
        body: the bytes of the answer.
        content_type: the ``Content-Type`` header, or ``None``.
        etag: the ``ETag`` header, to send back as ``If-None-Match`` next time.
        last_modified: the ``Last-Modified`` header, sent back as ``If-Modified-Since``.
    """

    url: str
    status: int
    body: bytes
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None


def is_url(value: str) -> bool:
    """Whether ``value`` is an ``http://`` or ``https://`` URL (and so is fetched)."""
    return value.lower().startswith(("http://", "https://"))


def fetch(
    url: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """GET ``url``; conditional when ``etag`` or ``last_modified`` is given.

    Raises:
        InputError: the URL is not http(s), the server cannot be reached or does not answer
            within ``timeout``, answers with an error status, or sends more than
            ``max_bytes``.
    """
    if not is_url(url) or not urlsplit(url).hostname:
        raise InputError(f"{url}: not an http:// or https:// URL")
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise InputError(f"{url}: the answer is over the limit of {max_bytes:,} bytes")
            return Fetched(
                url=response.geturl(),
                status=response.status,
                body=body,
                content_type=response.headers.get("Content-Type"),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
    except urllib.error.HTTPError as error:
        if error.code == 304:
            return Fetched(
                url=url,
                status=304,
                body=b"",
                etag=error.headers.get("ETag") or etag,
                last_modified=error.headers.get("Last-Modified") or last_modified,
            )
        raise InputError(f"{url}: HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            raise InputError(f"{url}: no answer within {timeout:g} s") from None
        raise InputError(f"{url}: cannot fetch ({reason})") from None
    except TimeoutError:
        raise InputError(f"{url}: no answer within {timeout:g} s") from None
    except (OSError, ValueError, http.client.HTTPException) as error:
        raise InputError(f"{url}: cannot fetch ({error})") from None
