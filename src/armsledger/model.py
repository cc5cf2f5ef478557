"""The data model every pipeline stage speaks.

Articles go in; facts come out, each tied to exact character spans of its article;
facts about the same transfer merge into deals. Field names are FORMAT.md's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum


class Stage(StrEnum):
    """Where a transfer stands, in the order a deal usually moves (FORMAT.md)."""

    INTEREST = "interest"
    OFFER = "offer"
    NEGOTIATION = "negotiation"
    APPROVAL = "approval"
    AGREEMENT = "agreement"
    CONTRACT = "contract"
    DELIVERY = "delivery"
    DELIVERED = "delivered"
    TRAINING = "training"
    SERVICING = "servicing"
    PRODUCTION = "production"
    CANCELLED = "cancelled"


#: Position of each stage on the deal's main line; side stages rank after delivery.
STAGE_ORDER: dict[Stage, int] = {stage: rank for rank, stage in enumerate(Stage)}

#: Stages beside the main line of a deal: they say what goes with a transfer, not how far it is.
SIDE_STAGES = frozenset({Stage.TRAINING, Stage.SERVICING, Stage.PRODUCTION})


class Modality(StrEnum):
    """How the text holds a fact (FORMAT.md)."""

    ASSERTED = "asserted"
    PLANNED = "planned"
    CONDITIONAL = "conditional"
    POSSIBLE = "possible"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character interval of an article's text, with the text it covers."""

    start: int
    end: int
    text: str

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"span [{self.start}, {self.end}) is not a valid interval")
        if len(self.text) != self.end - self.start:
            raise ValueError(
                f"span [{self.start}, {self.end}) has {len(self.text)} characters of text"
            )

    @classmethod
    def of(cls, text: str, start: int, end: int) -> Span:
        """The span ``[start, end)`` of ``text``."""
        return cls(start, end, text[start:end])


@dataclass(frozen=True, slots=True)
class Quantity:
    """A count of things as stated: ``36 jets`` is 36 aircraft."""

    count: int
    unit: str


@dataclass(frozen=True, slots=True)
class Value:
    """An amount of money as stated, in its own currency (ISO 4217), never converted."""

    amount: float
    currency: str
    approximate: bool = False


@dataclass(frozen=True, slots=True)
class Article:
    """One news article, its text exactly as read (offsets of every span point into it)."""

    id: str
    text: str
    title: str | None = None
    outlet: str | None = None
    date: dt.date | None = None
    url: str | None = None
    language: str | None = None
    source: str | None = None
    _hash: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the text: the same text read twice is the same article. (Computed
        once: a batch writer asks for it several times per article.)"""
        cached = self._hash
        if cached is None:
            cached = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
            object.__setattr__(self, "_hash", cached)
        return cached


@dataclass(frozen=True, slots=True)
class Fact:
    """One statement, in one article, that a stage of a transfer between two states holds.

    ``spans`` are the evidence: every sentence of the article stating this fact, first the
    clearest; ``evidence`` is the first one's text, as FORMAT.md emits it.
    """

    article_id: str
    supplier: str | None
    recipient: str | None
    system: str | None
    stage: Stage
    modality: Modality
    spans: tuple[Span, ...]
    lot: int | None = None
    quantity: Quantity | None = None
    value: Value | None = None
    speaker: str | None = None
    optional: bool = False
    extractor: str = "rules.v1"

    def __post_init__(self) -> None:
        if not self.spans:
            raise ValueError("a fact needs at least one evidence span")

    @property
    def evidence(self) -> str:
        """The text of the first evidence span."""
        return self.spans[0].text

    @property
    def key(self) -> tuple[str | None, str | None, str | None, Stage, int]:
        """What identifies a fact within an article (a lot of ``None`` is lot 1)."""
        return (self.supplier, self.recipient, self.system, self.stage, self.lot or 1)


@dataclass(frozen=True, slots=True)
class DealEvent:
    """One step on a deal's timeline: a fact, dated by its article."""

    stage: Stage
    modality: Modality
    date: dt.date | None
    article_id: str
    evidence: str
    speaker: str | None = None
    source: str | None = None
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class Corroboration:
    """How many independent sources assert one stage of a deal.

    A source is a stored article; wire copies of it (``article_sources``) are never
    stored as articles of their own, so they count once, with their original.
    """

    stage: Stage
    sources: int
    articles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Contradiction:
    """Two sources that cannot both be right about a deal.

    ``kind`` is ``"denial"`` (one source denies a stage another asserts) or
    ``"cancellation"`` (one source asserts the deal cancelled, another that it was
    delivered or is being delivered). ``stage`` is the stage asserted, ``asserted_in`` the
    article asserting it and ``contradicted_in`` the article denying or cancelling it.
    """

    kind: str
    stage: Stage
    asserted_in: str
    contradicted_in: str
    date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Deal:
    """All facts about one transfer: one supplier, recipient, system and lot."""

    id: str
    supplier: str | None
    recipient: str | None
    system: str | None
    lot: int
    timeline: tuple[DealEvent, ...] = field(default=())
    quantity: Quantity | None = None
    value: Value | None = None
    corroboration: tuple[Corroboration, ...] = ()
    contradictions: tuple[Contradiction, ...] = ()
    confidence: float | None = None

    @property
    def stage(self) -> Stage | None:
        """Where the deal stands: its latest asserted step on the main line.

        The main line runs from interest to delivered, and a cancellation ends it; training,
        servicing and production stand beside it and count only for a deal with nothing else.
        Steps that are only planned or possible count where nothing is asserted.
        """
        asserted = [e for e in self.timeline if e.modality is Modality.ASSERTED]
        events = asserted or list(self.timeline)
        main = [e for e in events if e.stage not in SIDE_STAGES] or events
        if not main:
            return None
        return max(main, key=lambda e: (e.date or dt.date.min, STAGE_ORDER[e.stage])).stage

    @property
    def first_seen(self) -> dt.date | None:
        dates = [e.date for e in self.timeline if e.date is not None]
        return min(dates) if dates else None

    @property
    def last_seen(self) -> dt.date | None:
        dates = [e.date for e in self.timeline if e.date is not None]
        return max(dates) if dates else None


def deal_id(supplier: str | None, recipient: str | None, system: str | None, lot: int) -> str:
    """A stable id for a deal key, the same in every register."""
    raw = f"{supplier or '-'}|{recipient or '-'}|{system or '-'}|{lot}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:12]
