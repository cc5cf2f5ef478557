from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import MakeFact
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from armsledger import store
from armsledger.config import DB_ENV, resolve_db_url
from armsledger.errors import ConfigError, InputError, StoreError
from armsledger.merge import merge_deals
from armsledger.model import (
    Article,
    Fact,
    Modality,
    Quantity,
    Span,
    Stage,
    Value,
    deal_id,
)
from armsledger.store import Register

S400 = deal_id("RUS", "TUR", "S-400", 1)


# --- articles and facts ------------------------------------------------------------------


def test_store_round_trips_an_article_and_its_facts(
    register: Register, delivery_article: Article, make_fact: MakeFact
) -> None:
    found = [
        make_fact(
            delivery_article,
            "the first S-400 batteries had arrived from Russia",
            also=("\u201cThe deliveries will be complete",),
            speaker="the minister",
        ),
        make_fact(
            delivery_article,
            "the contract at about $2.5\u00a0billion",
            stage=Stage.CONTRACT,
            value=Value(2.5e9, "USD", approximate=True),
            quantity=Quantity(4, "battery"),
            lot=None,
        ),
    ]
    assert register.save_article(delivery_article, found) == "stored"
    assert list(register.iter_facts()) == found
    assert register.get_article("delivery.txt") == delivery_article
    assert list(register.iter_articles()) == [delivery_article]
    assert register.counts() == {"articles": 1, "facts": 2, "deals": 1, "rejects": 0}


def test_store_identical_text_is_unchanged(
    register: Register, delivery_article: Article, make_fact: MakeFact
) -> None:
    fact = make_fact(delivery_article, "had arrived from Russia")
    assert register.save_article(delivery_article, [fact]) == "stored"
    before = register.counts()
    renamed = dataclasses.replace(delivery_article, id="copy.txt", source="elsewhere/copy.txt")
    assert register.has_article(renamed)
    assert register.save_article(renamed, []) == "unchanged"
    assert register.save_article(delivery_article, [fact]) == "unchanged"
    assert register.counts() == before
    assert register.get_article("copy.txt") is None


def test_store_same_name_with_other_text_is_another_article(
    register: Register, delivery_article: Article
) -> None:
    newer = dataclasses.replace(delivery_article, text=delivery_article.text + "Updated.\n")
    assert register.save_article(delivery_article, []) == "stored"
    assert register.save_article(newer, []) == "stored"
    assert register.get_article("delivery.txt") == newer
    assert register.get_article(1) == delivery_article
    assert register.counts()["articles"] == 2


def test_store_failure_mid_save_leaves_nothing(
    register: Register,
    delivery_article: Article,
    make_fact: MakeFact,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(conn: object, keys: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "_recompute_deals", broken)
    fact = make_fact(delivery_article, "had arrived from Russia")
    with pytest.raises(
        StoreError, match=r"cannot store delivery.txt \(RuntimeError: disk on fire\)"
    ):
        register.save_article(delivery_article, [fact])
    assert register.counts() == {"articles": 0, "facts": 0, "deals": 0, "rejects": 0}
    assert register.get_article("delivery.txt") is None
    assert not register.has_article(delivery_article)


def test_store_constraint_violation_rolls_back_the_article(
    register: Register, delivery_article: Article, make_fact: MakeFact
) -> None:
    good = make_fact(delivery_article, "had arrived from Russia")
    bad = make_fact(delivery_article, "The deliveries", stage="shipped")  # not a Stage
    with pytest.raises(StoreError, match="IntegrityError") as caught:
        register.save_article(delivery_article, [good, bad])
    assert "cannot store delivery.txt" in str(caught.value)
    assert register.counts()["articles"] == 0
    assert register.counts()["facts"] == 0
    assert register.save_article(delivery_article, [good]) == "stored"


def test_store_refuses_evidence_that_is_not_the_article_text(
    register: Register, delivery_article: Article
) -> None:
    wrong = Fact(
        article_id="delivery.txt",
        supplier="RUS",
        recipient="TUR",
        system="S-400",
        stage=Stage.DELIVERY,
        modality=Modality.ASSERTED,
        spans=(Span(0, 6, "Moscow"),),
    )
    with pytest.raises(StoreError, match=r"evidence 'Moscow' is not the text at \[0, 6\)"):
        register.save_article(delivery_article, [wrong])
    other = dataclasses.replace(wrong, article_id="other.txt", spans=(Span(0, 6, "Ankara"),))
    with pytest.raises(StoreError, match="a fact of article 'other.txt'"):
        register.save_article(delivery_article, [other])
    assert register.counts()["articles"] == 0


def test_store_iter_facts_filters(
    register: Register,
    delivery_article: Article,
    contract_article: Article,
    make_fact: MakeFact,
) -> None:
    delivered = make_fact(delivery_article, "had arrived from Russia")
    signed = make_fact(contract_article, "signed a contract", stage=Stage.CONTRACT)
    other = make_fact(contract_article, "first deliveries", recipient="IND", stage="delivery")
    register.save_article(delivery_article, [delivered])
    register.save_article(contract_article, [signed, other])
    assert list(register.iter_facts(recipient="TUR")) == [delivered, signed]
    assert list(register.iter_facts(stage="contract")) == [signed]
    assert list(register.iter_facts(stage=Stage.DELIVERY, recipient="IND")) == [other]
    assert list(register.iter_facts(since=dt.date(2018, 1, 1))) == [delivered]
    assert list(register.iter_facts(system="S-300")) == []
    assert list(register.iter_facts(deal_id=S400)) == [delivered, signed]
    with pytest.raises(InputError, match="stage 'shipped' is not one of: interest, offer"):
        register.iter_facts(stage="shipped")


# --- deals -------------------------------------------------------------------------------


def test_store_deal_recomputes_when_a_later_article_adds_a_stage(
    register: Register,
    delivery_article: Article,
    contract_article: Article,
    make_fact: MakeFact,
) -> None:
    delivered = make_fact(delivery_article, "had arrived from Russia", speaker="the minister")
    register.save_article(delivery_article, [delivered])
    first = register.get_deal(S400)
    assert first is not None and first.stage is Stage.DELIVERY
    assert [e.stage for e in first.timeline] == [Stage.DELIVERY]

    # The contract is reported by an article ingested later but dated earlier.
    signed = make_fact(
        contract_article, "signed a contract", stage=Stage.CONTRACT, quantity=Quantity(4, "battery")
    )
    register.save_article(contract_article, [signed])
    deal = register.get_deal(S400)
    assert deal is not None
    assert [(e.date, e.stage) for e in deal.timeline] == [
        (dt.date(2017, 9, 12), Stage.CONTRACT),
        (dt.date(2019, 7, 12), Stage.DELIVERY),
    ]
    assert [e.article_id for e in deal.timeline] == ["contract.txt", "delivery.txt"]
    assert deal.timeline[1].source == "https://news.example/delivery"  # url before source
    assert deal.timeline[0].source == "articles/contract.txt"
    assert deal.timeline[1].speaker == "the minister"
    assert deal.timeline[1].evidence == "had arrived from Russia"
    assert deal.quantity == Quantity(4, "battery")
    assert (deal.first_seen, deal.last_seen) == (dt.date(2017, 9, 12), dt.date(2019, 7, 12))
    assert deal.stage is Stage.DELIVERY
    assert register.counts()["deals"] == 1
    assert (
        deal
        == merge_deals(
            [delivered, signed],
            {"delivery.txt": delivery_article, "contract.txt": contract_article},
        )[0]
    )
    with register._engine.connect() as conn:  # the summary row is recomputed too
        row = conn.execute(sa.select(store.deals)).mappings().one()
    assert (row["stage"], row["n_facts"], row["n_articles"]) == ("delivery", 2, 2)
    assert row["first_seen"] == dt.date(2017, 9, 12)


def test_store_iter_deals_filters(
    register: Register,
    delivery_article: Article,
    contract_article: Article,
    make_fact: MakeFact,
) -> None:
    register.save_article(delivery_article, [make_fact(delivery_article, "had arrived")])
    register.save_article(
        contract_article,
        [
            make_fact(contract_article, "signed a contract", stage=Stage.CONTRACT),
            make_fact(contract_article, "signed a contract", recipient="IND", stage="contract"),
            make_fact(contract_article, "signed a contract", supplier=None, stage="contract"),
        ],
    )
    deals = register.iter_deals()
    assert [(d.supplier, d.recipient) for d in deals] == [
        ("RUS", "IND"),
        ("RUS", "TUR"),
        (None, "TUR"),
    ]
    assert [d.recipient for d in register.iter_deals(stage=Stage.CONTRACT)] == ["IND", "TUR"]
    assert [d.id for d in register.iter_deals(stage="delivery")] == [S400]
    assert [d.id for d in register.iter_deals(supplier="RUS", recipient="TUR")] == [S400]
    assert [d.id for d in register.iter_deals(since=dt.date(2019, 1, 1))] == [S400]
    assert register.iter_deals(system="Su-35") == []
    assert register.get_deal("000000000000") is None


def test_store_rebuild_deals_gives_the_same_deals(
    register: Register, delivery_article: Article, make_fact: MakeFact
) -> None:
    register.save_article(delivery_article, [make_fact(delivery_article, "had arrived")])
    before = register.iter_deals()
    assert register.rebuild_deals() == 1
    assert register.iter_deals() == before


# --- the round trip, by Hypothesis -------------------------------------------------------

# Text as any reader could give it: no NUL (PostgreSQL refuses it) and no lone surrogates.
characters = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
texts = st.text(characters, min_size=1)
maybe_words = st.none() | st.text(characters, max_size=20)


@st.composite
def articles_with_facts(draw: st.DrawFn, name: str = "a.txt") -> tuple[Article, list[Fact]]:
    text = draw(texts)
    article = Article(
        id=name,
        text=text,
        title=draw(maybe_words),
        outlet=draw(maybe_words),
        date=draw(st.none() | st.dates(dt.date(1950, 1, 1), dt.date(2100, 1, 1))),
        url=draw(maybe_words),
        language=draw(st.none() | st.sampled_from(["en", "ru", "fr"])),
        source=draw(maybe_words),
    )

    def span() -> Span:
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        return Span.of(text, start, end)

    found = []
    for _ in range(draw(st.integers(0, 4))):
        found.append(
            Fact(
                article_id=name,
                supplier=draw(st.sampled_from(["RUS", "USA", "FRA", None])),
                recipient=draw(st.sampled_from(["TUR", "IND", None])),
                system=draw(st.sampled_from(["S-400", "Su-35", "F-35", None])),
                stage=draw(st.sampled_from(Stage)),
                modality=draw(st.sampled_from(Modality)),
                spans=tuple(span() for _ in range(draw(st.integers(1, 3)))),
                lot=draw(st.none() | st.integers(1, 4)),
                quantity=draw(
                    st.none() | st.builds(Quantity, st.integers(0, 2**62), st.text(max_size=12))
                ),
                value=draw(
                    st.none()
                    | st.builds(
                        Value,
                        st.floats(allow_nan=False, allow_infinity=False),
                        st.sampled_from(["USD", "EUR", "RUB"]),
                        st.booleans(),
                    )
                ),
                speaker=draw(maybe_words),
                optional=draw(st.booleans()),
                extractor=draw(st.sampled_from(["rules.v1", "gold"])),
            )
        )
    return article, found


@settings(max_examples=60, deadline=None)
@given(first=articles_with_facts("a.txt"), second=articles_with_facts("b.txt"))
def test_store_facts_and_deals_round_trip(
    first: tuple[Article, list[Fact]], second: tuple[Article, list[Fact]]
) -> None:
    with Register("sqlite://") as register:
        saved: list[Fact] = []
        kept: dict[str, Article] = {}
        for article, found in (first, second):
            if register.save_article(article, found) == "stored":
                saved.extend(found)
                kept[article.id] = article
        assert list(register.iter_facts()) == saved
        assert list(register.iter_articles()) == list(kept.values())
        expected = merge_deals(saved, kept)
        assert sorted(register.iter_deals(), key=lambda d: d.id) == sorted(
            expected, key=lambda d: d.id
        )
        for deal in expected:
            assert register.get_deal(deal.id) == deal
        assert register.counts()["deals"] == len(expected)


# --- rejects, opening --------------------------------------------------------------------


def test_store_keeps_rejects(register: Register) -> None:
    register.save_reject("in/empty.txt", "in/empty.txt: empty file")
    [reject] = register.iter_rejects()
    assert (reject.source, reject.reason) == ("in/empty.txt", "in/empty.txt: empty file")
    assert register.counts()["rejects"] == 1


def test_store_keeps_feed_state(register: Register) -> None:
    url = "https://example.org/feed.xml"
    assert register.get_feed_state(url) is None
    before = dt.datetime.now(dt.UTC)
    register.save_feed_state(url, etag='"v1"', last_modified=None, last_status="read")
    register.save_feed_state(
        url, etag='"v2"', last_modified="Mon, 03 Jun 2024 08:00:00 GMT", last_status="read"
    )
    state = register.get_feed_state(url)
    assert state is not None
    assert (state.url, state.etag, state.last_modified, state.last_status) == (
        url,
        '"v2"',
        "Mon, 03 Jun 2024 08:00:00 GMT",
        "read",
    )
    assert before - dt.timedelta(seconds=1) <= state.checked_at <= dt.datetime.now(dt.UTC)
    assert register.get_feed_state("https://example.org/other.xml") is None


def test_store_creates_tables_added_since_version_1(
    tmp_path: Path, delivery_article: Article
) -> None:
    path = tmp_path / "older.db"
    with Register(f"sqlite:///{path}") as register:
        register.save_article(delivery_article, [])
    with sqlite3.connect(path) as conn:  # a register written before these tables existed
        tables = ("feed_state", "article_signatures", "article_sources", "batch_partitions")
        tables += ("stale_deals", "article_bands")
        for table in (*tables, "alembic_version"):  # and before migrations
            conn.execute(f"DROP TABLE {table}")
    with Register(f"sqlite:///{path}") as register:
        assert register.get_article("delivery.txt") == delivery_article
        register.save_feed_state(
            "https://example.org/feed.xml", etag=None, last_modified=None, last_status="failed"
        )
        state = register.get_feed_state("https://example.org/feed.xml")
        assert state is not None and state.last_status == "failed"
    with sqlite3.connect(path) as conn:
        (version,) = conn.execute(
            "SELECT value FROM register_info WHERE key = 'schema_version'"
        ).fetchone()
    assert version == str(store.SCHEMA_VERSION)


def test_store_reopens_with_its_data(tmp_path: Path, delivery_article: Article) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Register(url) as register:
        register.save_article(delivery_article, [])
    with Register(url) as register:
        assert register.get_article("delivery.txt") == delivery_article


def test_store_cannot_open_names_the_url_and_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'ledger.db'}"
    with pytest.raises(StoreError) as caught:
        Register(url)
    assert str(caught.value).startswith(f"{url}: cannot open the register (")
    assert "unable to open database file" in str(caught.value)


def test_store_hides_the_password_in_errors() -> None:
    with pytest.raises(StoreError) as caught:
        Register("postgresql://ledger:s3cret@127.0.0.1:1/armsledger")
    assert "s3cret" not in str(caught.value)
    assert "postgresql://ledger:***@127.0.0.1:1/armsledger" in str(caught.value)


def test_store_refuses_another_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Register(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE register_info SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="has schema version 0; this armsledger reads version 1"):
        Register(f"sqlite:///{path}")


def test_store_schema_compiles_for_postgresql() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    for table in store.metadata.sorted_tables:
        assert "CREATE TABLE" in str(CreateTable(table).compile(dialect=dialect))
        for index in table.indexes:
            str(CreateIndex(index).compile(dialect=dialect))
    names = {index.name for table in store.metadata.sorted_tables for index in table.indexes}
    assert {"ix_facts_key", "ix_deals_key"} <= names


# --- config ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("db", "env", "expected"),
    [
        ("ledger.db", {}, "sqlite:///ledger.db"),
        ("/data/ledger.db", {DB_ENV: "other.db"}, "sqlite:////data/ledger.db"),
        (None, {DB_ENV: "env.db"}, "sqlite:///env.db"),
        (None, {DB_ENV: ""}, "sqlite:///armsledger.db"),
        (None, {}, "sqlite:///armsledger.db"),
        ("sqlite://", {}, "sqlite://"),
        ("postgresql://u@host/ledger", {}, "postgresql://u@host/ledger"),
        (None, {DB_ENV: "postgresql+psycopg://h/l"}, "postgresql+psycopg://h/l"),
    ],
)
def test_config_resolves_the_db_url(db: str | None, env: dict[str, str], expected: str) -> None:
    assert resolve_db_url(db, environ=env) == expected


def test_config_expands_the_home_folder() -> None:
    assert resolve_db_url("~/ledger.db", environ={}) == f"sqlite:///{Path.home() / 'ledger.db'}"


@pytest.mark.parametrize(
    ("db", "env", "message"),
    [
        ("mysql://h/l", {}, "--db: unsupported database URL scheme 'mysql'"),
        (None, {DB_ENV: "postgres://h/l"}, "ARMSLEDGER_DB: unsupported database URL scheme"),
        ("", {}, "--db: empty"),
    ],
)
def test_config_unknown_scheme_is_a_config_error(
    db: str | None, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_db_url(db, environ=env)
    assert str(caught.value).startswith(message)
    if "scheme" in message:
        assert "allowed are sqlite:// and postgresql://" in str(caught.value)


# --- paged and filtered reading (for the API and the dashboard) ---------------------------


@pytest.fixture
def web_register(tmp_path: Path) -> Iterator[Register]:
    from conftest import build_web_register

    url = f"sqlite:///{tmp_path / 'web.db'}"
    build_web_register(url)
    with Register(url) as opened:
        yield opened


def test_store_query_deals_filters_sorts_and_pages(web_register: Register) -> None:
    page = web_register.query_deals()
    assert [d.system for d in page.items] == ["HIMARS", "S-400", "Rafale"]
    assert (page.total, page.limit, page.offset) == (3, 50, 0)
    s400 = page.items[1]
    assert (s400.stage, s400.n_facts, s400.n_articles) == (Stage.DELIVERY, 2, 2)
    filtered = web_register.query_deals(store.Filters(modality=Modality.PLANNED))
    assert [d.system for d in filtered.items] == ["Rafale"]
    by_category = web_register.query_deals(store.Filters(systems=("Rafale", "HIMARS")))
    assert {d.system for d in by_category.items} == {"Rafale", "HIMARS"}
    searched = web_register.query_deals(store.Filters(text="50%"))
    assert searched.total == 0
    second = web_register.query_deals(sort="system", descending=False, limit=1, offset=1)
    assert [d.system for d in second.items] == ["Rafale"] and second.total == 3


def test_store_query_deals_refuses_unknown_sort_and_bad_page(web_register: Register) -> None:
    with pytest.raises(InputError, match="sort 'evidence' is not one of"):
        web_register.query_deals(sort="evidence")
    with pytest.raises(InputError, match="limit 0"):
        web_register.query_deals(limit=0)


def test_store_query_facts_keeps_spans_exact(web_register: Register) -> None:
    page = web_register.query_facts(store.Filters(since=dt.date(2016, 1, 1)), limit=500)
    assert page.total == 5
    for stored in page.items:
        article = web_register.get_article(stored.article)
        assert article is not None and article.id == stored.article_name
        for span in stored.fact.spans:
            assert article.text[span.start : span.end] == span.text
    contracts = web_register.query_facts(store.Filters(stage=Stage.CONTRACT))
    assert sorted(f.article_name for f in contracts.items) == ["contract.txt", "hostile.txt"]


def test_store_query_articles_newest_first_undated_last(web_register: Register) -> None:
    page = web_register.query_articles()
    assert [a.name for a in page.items][0] == "himars.txt"
    assert page.items[-1].name == "weather.txt" and page.items[-1].date is None
    assert page.items[-1].n_facts == 0 and page.items[-1].relevant is False
    assert [a.name for a in web_register.query_articles(store.Filters(text="RAIN")).items] == [
        "weather.txt"
    ]


def test_store_flows_and_counts_by_year_and_stage(web_register: Register) -> None:
    flows = web_register.query_flows()
    assert {(f.supplier, f.recipient, f.deals, f.facts) for f in flows} == {
        ("RUS", "TUR", 1, 2),
        ("FRA", "IND", 1, 2),
        ("USA", "POL", 1, 1),
    }
    counts = web_register.count_by_year_and_stage(store.Filters(supplier="RUS"))
    assert [(c.year, c.stage, c.facts) for c in counts] == [
        (2017, Stage.CONTRACT, 1),
        (2019, Stage.DELIVERY, 1),
    ]


def summaries(register: Register) -> dict[str | None, tuple[float | None, int]]:
    return {d.system: (d.confidence, d.n_contradictions) for d in register.query_deals().items}


def test_store_query_deals_carry_confidence_and_contradictions_of_the_deal(
    tmp_path: Path,
) -> None:
    from conftest import FORMULA_SYSTEM, build_contested_register

    url = f"sqlite:///{tmp_path / 'contested.db'}"
    build_contested_register(url)
    with Register(url) as register:
        assert summaries(register) == {"S-400": (0.4, 1), FORMULA_SYSTEM: (0.8, 0)}
        for summary in register.query_deals().items:
            deal = register.get_deal(summary.id)
            assert deal is not None
            assert summary.confidence == deal.confidence
            assert summary.n_contradictions == len(deal.contradictions)


def test_store_query_deals_follow_a_review(tmp_path: Path) -> None:
    from conftest import build_contested_register

    url = f"sqlite:///{tmp_path / 'contested.db'}"
    build_contested_register(url)
    with Register(url) as register:
        claim = next(
            f for f in register.query_facts(limit=10).items if f.article_name == "claim.txt"
        )
        register.review_fact(claim.id, "confirm", by="analyst")
        assert summaries(register)["S-400"] == (1.0, 1)


def test_store_deals_stored_before_revision_0003_are_merged_on_reading(tmp_path: Path) -> None:
    """A register at revision 0002 gains the columns empty; a list merges those deals as it
    reads them, and a rebuild stores what it merged (sorting by them is exact from then)."""
    from conftest import FORMULA_SYSTEM, build_contested_register

    path = tmp_path / "older.db"
    build_contested_register(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE deals DROP COLUMN confidence")
        conn.execute("ALTER TABLE deals DROP COLUMN n_contradictions")
        conn.execute("UPDATE alembic_version SET version_num = '0002'")
    conn.close()
    expected = {"S-400": (0.4, 1), FORMULA_SYSTEM: (0.8, 0)}
    with Register(f"sqlite:///{path}") as register:
        assert summaries(register) == expected
    with sqlite3.connect(path) as conn:
        stored = conn.execute("SELECT confidence, n_contradictions FROM deals").fetchall()
    conn.close()
    assert stored == [(None, None), (None, None)]
    with Register(f"sqlite:///{path}") as register:
        register.rebuild_deals()
        assert summaries(register) == expected
        by_confidence = register.query_deals(sort="confidence", descending=False)
        assert [d.confidence for d in by_confidence.items] == [0.4, 0.8]
    with sqlite3.connect(path) as conn:
        stored = conn.execute("SELECT confidence, n_contradictions FROM deals").fetchall()
    conn.close()
    assert sorted(stored) == [(0.4, 1), (0.8, 0)]


def test_store_migrations_give_the_declared_tables(tmp_path: Path) -> None:
    """A change to the tables needs a migration (src/armsledger/migrations/versions)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from armsledger import migrations

    url = f"sqlite:///{tmp_path / 'new.db'}"
    Register(url).close()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert migrations.current_revision(conn) == migrations.head_revision()
            assert compare_metadata(MigrationContext.configure(conn), store.metadata) == []
    finally:
        engine.dispose()


def test_store_deferred_deals_are_marked_stale_and_merged_by_refresh(
    tmp_path: Path, delivery_article: Article, contract_article: Article, make_fact: MakeFact
) -> None:
    delivered = make_fact(delivery_article, "the first S-400 batteries had arrived from Russia")
    signed = make_fact(contract_article, "signed a contract", stage=Stage.CONTRACT)
    deferred, at_once = tmp_path / "deferred.db", tmp_path / "at-once.db"
    with Register(f"sqlite:///{at_once}") as register:
        register.save_article(delivery_article, [delivered])
        register.save_article(contract_article, [signed])
        expected = register.query_deals(limit=10).items
    with Register(f"sqlite:///{deferred}") as register:
        register.save_article(delivery_article, [delivered], defer_deals=True)
        register.save_article(contract_article, [signed], defer_deals=True)
        assert register.counts()["deals"] == 0  # not merged yet
        assert register.stale_deals() == 1  # one deal, marked once
        assert register.refresh_deals() == 1
        assert register.stale_deals() == 0
        assert register.query_deals(limit=10).items == expected
        assert register.refresh_deals() == 0
