"""Many inputs into the register: read, extract and save each file on its own.

Every file gets an :class:`Outcome`:

``stored``
    read, extracted and saved (with however many facts, possibly none).
``unchanged``
    its text is already in the register (found before extracting, so nothing is
    re-extracted); nothing is written.
``skipped``
    read over on purpose, not an error: a sidecar (``NAME.meta.json``, ``NAME.gold.json``)
    or hidden file named among the inputs, as ``armsledger ingest dev/*`` does. These are
    read with their article or by ``evaluate``, never as articles, and are not rejects.
``failed``
    the input could not be read (missing, empty, too large, binary, not UTF-8, a page
    with no article text, malformed ``.meta.json``, an unsupported type) or the register
    refused its facts. A failure is recorded in the register's rejects with its reason.

With ``on_error="skip"`` (the default) a failure is recorded and the batch goes on; with
``"raise"`` the error is raised after its reject is recorded. A page with no article text
counts as failed, not skipped: it usually means trafilatura missed the content
(a script-rendered page, a paywall), which the user should see. Errors that are not about
one input (a broken extractor, an unreachable database) always propagate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from armsledger import extract as extract_module
from armsledger.errors import ArmsLedgerError, InputError, StoreError
from armsledger.ingest import DEFAULT_MAX_BYTES, is_sidecar, iter_paths, read_article
from armsledger.model import Article, Fact
from armsledger.store import Register

Status = Literal["stored", "unchanged", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one input.

    Attributes:
        source: the path as given, or as found inside a given folder.
        status: see the module docstring.
        reason: why it was skipped or failed (the error's message); ``None`` otherwise.
        facts: how many facts this run stored for it (0 unless ``stored``).
    """

    source: str
    status: Status
    reason: str | None = None
    facts: int = 0


@dataclass
class IngestSummary:
    """The outcomes of one batch, in input order."""

    outcomes: list[Outcome] = field(default_factory=list)

    def _count(self, status: Status) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def stored(self) -> int:
        return self._count("stored")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def facts(self) -> int:
        """Facts stored by this batch."""
        return sum(outcome.facts for outcome in self.outcomes)

    @property
    def ok(self) -> bool:
        """No input failed (the CLI exits 1 otherwise)."""
        return self.failed == 0


def ingest_paths(
    paths: Sequence[Path],
    register: Register,
    *,
    extract: Callable[[Article], list[Fact]] = extract_module.extract_facts,
    on_error: Literal["raise", "skip"] = "skip",
    progress: Callable[[Outcome], None] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    extractor: str | None = None,
) -> IngestSummary:
    """Read every article under ``paths``, extract its facts and save each in the register.

    Each file is read, extracted and saved in its own transaction, so a failure leaves
    the files before it stored and nothing of itself. A file reached twice (named and
    inside a named folder) is handled once.

    Args:
        paths: files and folders (folders are walked by :func:`armsledger.ingest.iter_paths`).
        register: where to save.
        extract: the extractor; a fake one in tests.
        on_error: ``"skip"`` records a failed input and goes on; ``"raise"`` records it
            and raises its error.
        progress: called with each outcome as soon as it is known.
        max_bytes: the size limit per file.
        extractor: the extractor's name recorded on each article row; by default
            :data:`armsledger.extract.EXTRACTOR` when ``extract`` is the default one.

    Raises:
        InputError: with ``on_error="raise"``, the first input that fails.
        StoreError: with ``on_error="raise"``, an article the register refused; always,
            when a reject cannot be recorded (the register itself is failing).
    """
    if extractor is None and extract is extract_module.extract_facts:
        extractor = extract_module.EXTRACTOR
    summary = IngestSummary()

    def record(outcome: Outcome) -> None:
        summary.outcomes.append(outcome)
        if progress is not None:
            progress(outcome)

    def fail(source: str, error: ArmsLedgerError) -> None:
        reason = str(error)
        register.save_reject(source, reason)
        record(Outcome(source, "failed", reason))
        if on_error == "raise":
            raise error

    seen: set[Path] = set()
    for path in paths:
        try:
            files = list(iter_paths([path]))
        except InputError as error:
            fail(str(path), error)
            continue
        for file in files:
            key = file.resolve()
            if key in seen:
                continue
            seen.add(key)
            if is_sidecar(file):
                record(Outcome(str(file), "skipped", "sidecar file, read with its article"))
                continue
            try:
                article = read_article(file, max_bytes=max_bytes)
            except InputError as error:
                fail(str(file), error)
                continue
            if register.has_article(article):
                record(Outcome(str(file), "unchanged"))
                continue
            found = extract(article)
            try:
                status = register.save_article(article, found, extractor=extractor)
            except StoreError as error:
                fail(str(file), error)
                continue
            record(Outcome(str(file), status, facts=len(found) if status == "stored" else 0))
    return summary
