"""Fixtures shared by every test module (one place, as spaCy's tests keep them).

The sample texts here are written for the tests; articles of ``shared/dev`` are
copyrighted and are only ever read from ``shared/`` (see ``shared_dir``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from armsledger.model import Article, Fact, Modality, Span, Stage
from armsledger.store import Register

#: ``shared/`` beside the repository: FORMAT.md, examples/, dev/.
SHARED = Path(__file__).resolve().parents[2] / "shared"

#: Two short reports of one (invented) deal, written for the tests. The first keeps a
#: non-breaking space, typographic quotes and a CRLF: readers must keep them exactly.
TEXT_DELIVERY = (
    "Ankara confirmed on Monday that the first S-400 batteries had arrived from Russia.\r\n"
    "\u201cThe deliveries will be complete by the end of the year,\u201d the minister said.\n"
    "Officials put the value of the contract at about $2.5\u00a0billion.\n"
)
TEXT_CONTRACT = (
    "Moscow and Ankara signed a contract for four S-400 batteries, officials said.\n"
    "The first deliveries are planned for next year.\n"
)


@pytest.fixture
def shared_dir() -> Path:
    """``shared/``, or the test is skipped where it is not beside the repository."""
    if not SHARED.is_dir():
        pytest.skip("shared/ is not beside the repository")
    return SHARED


@pytest.fixture
def register(tmp_path: Path) -> Iterator[Register]:
    """An empty register in an SQLite file of its own."""
    with Register(f"sqlite:///{tmp_path / 'register.db'}") as opened:
        yield opened


@pytest.fixture
def delivery_article() -> Article:
    """An article reporting delivery, dated 2019-07-12."""
    return Article(
        id="delivery.txt",
        text=TEXT_DELIVERY,
        title="S-400 arrives",
        date=dt.date(2019, 7, 12),
        url="https://news.example/delivery",
        source="articles/delivery.txt",
    )


@pytest.fixture
def contract_article() -> Article:
    """An article reporting the contract, dated 2017-09-12 (before the delivery)."""
    return Article(
        id="contract.txt",
        text=TEXT_CONTRACT,
        date=dt.date(2017, 9, 12),
        source="articles/contract.txt",
    )


MakeFact = Callable[..., Fact]


@pytest.fixture
def make_fact() -> MakeFact:
    """Build a fact of ``article`` whose evidence is the real span of ``phrase`` in it.

    ``make_fact(article, "signed a contract", stage=Stage.CONTRACT, also=["..."])``;
    other keyword arguments are Fact fields (supplier RUS, recipient TUR, system S-400
    and modality asserted unless given).
    """

    def build(article: Article, phrase: str, *, also: tuple[str, ...] = (), **fields: Any) -> Fact:
        spans = []
        for text in (phrase, *also):
            start = article.text.index(text)
            spans.append(Span.of(article.text, start, start + len(text)))
        defaults: dict[str, Any] = {
            "supplier": "RUS",
            "recipient": "TUR",
            "system": "S-400",
            "stage": Stage.DELIVERY,
            "modality": Modality.ASSERTED,
        }
        return Fact(article_id=article.id, spans=tuple(spans), **{**defaults, **fields})

    return build


#: The bundled sample corpus (the canonical example and public-domain texts).
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture
def canonical_article() -> Article:
    """The canonical example, read as ``ingest`` reads any article."""
    from armsledger.ingest import read_article

    return read_article(SAMPLES / "s400-turkey-shugaev.txt")
