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


#: A hostile article for the dashboard and the API: markup and scripts in its title, text,
#: URL and speaker must come back as text, never run. Invented for the tests.
HOSTILE_TITLE = '<script>document.body.dataset.pwned = "title"</script><b>Hostile</b> title'
HOSTILE_TEXT = (
    "Paris said on Friday that it had signed a contract with New Delhi for 36 Rafale jets.\n"
    'The deal <img src=x onerror="document.body.dataset.pwned = 1"> was worth $8.7 billion, '
    "<script>document.body.dataset.pwned = 2</script> a spokesman said.\n"
)
HOSTILE_SPEAKER = "<img src=x onerror=\"document.body.dataset.pwned = 'speaker'\">"


def _web_articles() -> list[tuple[Article, list[tuple[str, dict[str, Any]]]]]:
    """Invented articles and their facts (phrase of evidence, fact fields) for ``web_db``."""
    return [
        (
            Article(
                id="contract.txt",
                text=TEXT_CONTRACT,
                title="Ankara signs for S-400",
                outlet="Example Wire",
                date=dt.date(2017, 9, 12),
                url="https://news.example/contract",
            ),
            [("Moscow and Ankara signed a contract", {"stage": Stage.CONTRACT})],
        ),
        (
            Article(
                id="delivery.txt",
                text=TEXT_DELIVERY,
                title="S-400 arrives",
                outlet="Example Wire",
                date=dt.date(2019, 7, 12),
                url="https://news.example/delivery",
            ),
            [
                (
                    "the first S-400 batteries had arrived from Russia",
                    {"stage": Stage.DELIVERY, "speaker": "Hulusi Akar"},
                )
            ],
        ),
        (
            Article(
                id="hostile.txt",
                text=HOSTILE_TEXT,
                title=HOSTILE_TITLE,
                outlet="<i>Outlet</i>",
                date=dt.date(2016, 9, 23),
                url="javascript:document.body.dataset.pwned=3",
            ),
            [
                (
                    "it had signed a contract with New Delhi for 36 Rafale jets",
                    {
                        "supplier": "FRA",
                        "recipient": "IND",
                        "system": "Rafale",
                        "stage": Stage.CONTRACT,
                        "speaker": HOSTILE_SPEAKER,
                    },
                ),
                (
                    'The deal <img src=x onerror="document.body.dataset.pwned = 1">',
                    {
                        "supplier": "FRA",
                        "recipient": "IND",
                        "system": "Rafale",
                        "stage": Stage.DELIVERY,
                        "modality": Modality.PLANNED,
                    },
                ),
            ],
        ),
        (
            Article(
                id="himars.txt",
                text="Washington approved the sale of HIMARS launchers to Poland.\n",
                title="HIMARS for Poland",
                date=dt.date(2022, 5, 3),
            ),
            [
                (
                    "Washington approved the sale of HIMARS launchers to Poland",
                    {
                        "supplier": "USA",
                        "recipient": "POL",
                        "system": "HIMARS",
                        "stage": Stage.APPROVAL,
                    },
                )
            ],
        ),
        (
            Article(id="weather.txt", text="Rain is expected over the weekend.\n", title="Weather"),
            [],
        ),
    ]


def build_web_register(url: str) -> None:
    """Fill the register at ``url`` with the invented articles of ``_web_articles``.

    Four deals (RUS→TUR S-400 at delivery, FRA→IND Rafale at contract, USA→POL HIMARS at
    approval) over five articles, one of them hostile and one irrelevant.
    """
    with Register(url) as opened:
        for article, wanted in _web_articles():
            found = []
            for phrase, fields in wanted:
                start = article.text.index(phrase)
                defaults: dict[str, Any] = {
                    "supplier": "RUS",
                    "recipient": "TUR",
                    "system": "S-400",
                    "modality": Modality.ASSERTED,
                }
                found.append(
                    Fact(
                        article_id=article.id,
                        spans=(Span.of(article.text, start, start + len(phrase)),),
                        **{**defaults, **fields},
                    )
                )
            opened.save_article(article, found)


@pytest.fixture(scope="session")
def web_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a register of invented articles for the API and dashboard tests (read-only)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'register.db'}"
    build_web_register(url)
    return url


#: Cells a spreadsheet would run as formulas (OWASP's CSV injection examples), planted in an
#: article's title, evidence, speaker and system for the CSV outputs. Invented for the tests.
FORMULA_TITLE = "=cmd|' /C calc'!A0"
FORMULA_EVIDENCE = '@SUM(1+1)*cmd|" /C calc"!A0 signed for 12 Widget launchers'
FORMULA_SPEAKER = "+Mallory"
FORMULA_SYSTEM = '=HYPERLINK("https://evil.example","Widget")'


def build_contested_register(url: str) -> None:
    """Fill the register at ``url`` with two deals for the list and CSV tests.

    RUS→TUR S-400: a contract asserted in ``claim.txt`` and denied in ``denial.txt`` (one
    contradiction, confidence 0.8 x 0.5); USA→POL with a formula for a system name, from an
    article whose title, evidence and speaker are formulas too (no contradiction, 0.8).
    """
    claim = Article(
        id="claim.txt",
        text="Moscow said it had signed a contract to sell S-400 systems to Ankara.\n",
        date=dt.date(2020, 3, 1),
    )
    denial = Article(
        id="denial.txt",
        text="Ankara denied that any contract for S-400 systems had been signed.\n",
        date=dt.date(2020, 4, 1),
    )
    hostile = Article(
        id="formula.txt",
        text=FORMULA_EVIDENCE + ", officials said.\n",
        title=FORMULA_TITLE,
        date=dt.date(2021, 1, 5),
    )
    s400: dict[str, Any] = {"supplier": "RUS", "recipient": "TUR", "system": "S-400"}
    widget: dict[str, Any] = {
        "supplier": "USA",
        "recipient": "POL",
        "system": FORMULA_SYSTEM,
        "speaker": FORMULA_SPEAKER,
    }
    with Register(url) as opened:
        for article, phrase, modality, fields in (
            (claim, "it had signed a contract", Modality.ASSERTED, s400),
            (denial, "denied that any contract", Modality.DENIED, s400),
            (hostile, FORMULA_EVIDENCE, Modality.ASSERTED, widget),
        ):
            start = article.text.index(phrase)
            fact = Fact(
                article_id=article.id,
                stage=Stage.CONTRACT,
                modality=modality,
                spans=(Span.of(article.text, start, start + len(phrase)),),
                **fields,
            )
            opened.save_article(article, [fact])


@pytest.fixture(scope="session")
def contested_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a register with a contradicted deal and a formula-laden one (read-only)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('contested') / 'register.db'}"
    build_contested_register(url)
    return url


#: The environment variable naming a PostgreSQL database the ``postgres`` tests may use
#: (``.ci/run`` starts a server and sets it; ``.ci/start-postgres DIR`` does it by hand).
PG_URL_ENV = "ARMSLEDGER_TEST_PG_URL"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database of its own, dropped afterwards.

    Skipped, with the reason, when ``ARMSLEDGER_TEST_PG_URL`` is unset or its server is
    not answering.
    """
    import os
    import uuid

    import sqlalchemy as sa

    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"{PG_URL_ENV} is not set: no PostgreSQL server to test against")
    admin_url = sa.make_url(base).set(drivername="postgresql+psycopg")
    name = f"armsledger_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        admin.dispose()
        pytest.skip(f"{PG_URL_ENV}: the PostgreSQL server is not answering ({error.orig})")
    try:
        yield sa.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def register_snapshot(url: str) -> dict[str, Any]:
    """What a register holds, independent of row ids and of the order articles came in."""
    with Register(url) as register:
        found = sorted(
            (
                f.article_id,
                f.supplier or "",
                f.recipient or "",
                f.system or "",
                str(f.stage),
                f.lot or 1,
                str(f.modality),
                tuple(span.text for span in f.spans),
            )
            for f in register.iter_facts()
        )
        deals = sorted(
            (
                d.id,
                str(d.stage),
                d.first_seen,
                d.last_seen,
                d.quantity,
                d.value,
                d.n_facts,
                d.n_articles,
            )
            for d in register.query_deals(limit=10_000).items
        )
        timelines = sorted(
            (deal.id, tuple(sorted((e.article_id, str(e.stage)) for e in deal.timeline)))
            for deal in register.iter_deals()
        )
        return {
            "articles": sorted(a.content_hash for a in register.iter_articles()),
            "facts": found,
            "deals": deals,
            "timelines": timelines,
        }
