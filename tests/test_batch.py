from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from conftest import TEXT_CONTRACT, TEXT_DELIVERY

from armsledger.batch import IngestSummary, Outcome, ingest_paths
from armsledger.errors import InputError
from armsledger.model import Article, Fact, Modality, Span, Stage, deal_id
from armsledger.store import Register


def fake_extract(article: Article) -> list[Fact]:
    """One delivery fact per article, on the real span of its first sentence."""
    end = article.text.index(".") + 1
    return [
        Fact(
            article_id=article.id,
            supplier="RUS",
            recipient="TUR",
            system="S-400",
            stage=Stage.CONTRACT if "contract" in article.text[:end] else Stage.DELIVERY,
            modality=Modality.ASSERTED,
            spans=(Span.of(article.text, 0, end),),
            extractor="fake.v1",
        )
    ]


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


@pytest.fixture
def news(tmp_path: Path) -> Path:
    """A folder of two good articles (with metadata) and a sidecar gold file."""
    folder = tmp_path / "news"
    write(folder / "a-contract.txt", TEXT_CONTRACT)
    write(folder / "a-contract.meta.json", '{"date": "2017-09-12"}')
    write(folder / "b-delivery.txt", TEXT_DELIVERY)
    write(folder / "b-delivery.meta.json", '{"date": "2019-07-12", "url": "https://n.example/b"}')
    write(folder / "b-delivery.gold.json", "{}")
    return folder


def test_batch_stores_every_article_with_its_facts(news: Path, register: Register) -> None:
    seen: list[Outcome] = []
    summary = ingest_paths([news], register, extract=fake_extract, progress=seen.append)
    assert summary.outcomes == [
        Outcome(str(news / "a-contract.txt"), "stored", None, 1),
        Outcome(str(news / "b-delivery.txt"), "stored", None, 1),
    ]
    assert seen == summary.outcomes
    assert (summary.stored, summary.failed, summary.facts, summary.ok) == (2, 0, 2, True)
    assert register.counts() == {"articles": 2, "facts": 2, "deals": 1, "rejects": 0}
    deal = register.get_deal(deal_id("RUS", "TUR", "S-400", 1))
    assert deal is not None
    assert [event.stage for event in deal.timeline] == [Stage.CONTRACT, Stage.DELIVERY]


def test_batch_again_is_unchanged_and_not_extracted_again(news: Path, register: Register) -> None:
    ingest_paths([news], register, extract=fake_extract)
    before = register.counts()

    def must_not_run(article: Article) -> list[Fact]:
        raise AssertionError(f"{article.id} was extracted again")

    summary = ingest_paths([news], register, extract=must_not_run)
    assert [o.status for o in summary.outcomes] == ["unchanged", "unchanged"]
    assert summary.unchanged == 2 and summary.ok
    assert register.counts() == before


def test_batch_bad_inputs_fail_and_the_others_are_stored(
    tmp_path: Path, news: Path, register: Register
) -> None:
    bad = tmp_path / "bad"
    empty = write(bad / "empty.txt", b"")
    binary = write(bad / "binary.txt", b"\x7fELF\x02\x01\x01\x00\x00\x00" * 20)
    latin = write(bad / "damaged.txt", "caf\u00e9 ".encode() + b"\xe9t\xe9")
    huge = bad / "huge.txt"
    with huge.open("wb") as file:
        file.truncate(200 * 2**20)
    no_articles = tmp_path / "no-articles"
    write(no_articles / "x.meta.json", "{}")
    missing = tmp_path / "missing.txt"

    summary = ingest_paths([bad, no_articles, missing, news], register, extract=fake_extract)

    reasons = {o.source: o.reason for o in summary.outcomes if o.status == "failed"}
    assert reasons == {
        str(binary): f"{binary}: binary file, not text",
        str(latin): f"{latin}: not valid UTF-8 text (byte 0xe9 at offset 6)",
        str(empty): f"{empty}: empty file",
        str(huge): f"{huge}: file is 200.0 MB; the limit is 50 MB (--max-bytes)",
        str(no_articles): f"{no_articles}: no .txt or .html articles in {no_articles}",
        str(missing): f"{missing}: no such file or folder",
    }
    assert (summary.stored, summary.failed, summary.ok) == (2, 6, False)
    counts = register.counts()
    assert (counts["articles"], counts["rejects"]) == (2, 6)
    assert {(r.source, r.reason) for r in register.iter_rejects()} == set(reasons.items())


def test_batch_raise_stops_at_the_first_failure_after_recording_it(
    tmp_path: Path, news: Path, register: Register
) -> None:
    empty = write(tmp_path / "empty.txt", "")
    with pytest.raises(InputError, match="empty file"):
        ingest_paths([empty, news], register, extract=fake_extract, on_error="raise")
    assert register.counts()["articles"] == 0
    assert [r.source for r in register.iter_rejects()] == [str(empty)]


def test_batch_named_sidecars_are_skipped_not_failed(news: Path, register: Register) -> None:
    summary = ingest_paths(sorted(news.iterdir()), register, extract=fake_extract)
    statuses = {Path(o.source).name: o.status for o in summary.outcomes}
    assert statuses == {
        "a-contract.meta.json": "skipped",
        "a-contract.txt": "stored",
        "b-delivery.gold.json": "skipped",
        "b-delivery.meta.json": "skipped",
        "b-delivery.txt": "stored",
    }
    assert summary.ok and summary.skipped == 3
    assert register.counts()["rejects"] == 0


def test_batch_a_file_named_twice_is_handled_once(news: Path, register: Register) -> None:
    summary = ingest_paths([news / "b-delivery.txt", news], register, extract=fake_extract)
    assert [Path(o.source).name for o in summary.outcomes] == ["b-delivery.txt", "a-contract.txt"]


def test_batch_a_refused_save_fails_that_file_and_leaves_nothing_of_it(
    news: Path, register: Register
) -> None:
    def bad_on_delivery(article: Article) -> list[Fact]:
        found = fake_extract(article)
        if article.id == "b-delivery.txt":  # evidence that is not the article's text
            found = [dataclasses.replace(found[0], spans=(Span(0, 3, "xyz"),))]
        return found

    summary = ingest_paths([news], register, extract=bad_on_delivery)
    assert [o.status for o in summary.outcomes] == ["stored", "failed"]
    assert "evidence 'xyz' is not the text at [0, 3)" in (summary.outcomes[1].reason or "")
    assert register.get_article("b-delivery.txt") is None
    assert register.counts() == {"articles": 1, "facts": 1, "deals": 1, "rejects": 1}


def test_batch_an_extractor_fault_on_one_article_fails_it_alone(
    news: Path, register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    from armsledger import extract

    real = extract._extract

    def broken_on_delivery(article: Article, catalog: object) -> list[Fact]:
        if article.id == "b-delivery.txt":
            raise IndexError("list index out of range")
        return real(article, catalog)  # type: ignore[arg-type]

    monkeypatch.setattr(extract, "_extract", broken_on_delivery)
    summary = ingest_paths([news], register)
    assert [o.status for o in summary.outcomes] == ["stored", "failed"]
    assert summary.outcomes[1].reason == (
        f"{news / 'b-delivery.txt'}: the extractor failed on this article "
        "(IndexError: list index out of range)"
    )
    assert register.get_article("b-delivery.txt") is None
    assert register.counts()["facts"] > 0


def test_batch_records_the_extractor_on_each_article(news: Path, register: Register) -> None:
    ingest_paths([news], register, extract=lambda article: [], extractor="fake.v0")
    from armsledger import store

    with register._engine.connect() as conn:
        rows = conn.execute(store.articles.select()).mappings().all()
    assert [(r["extractor"], r["relevant"]) for r in rows] == [("fake.v0", False)] * 2


def test_batch_summary_counts() -> None:
    summary = IngestSummary(
        [
            Outcome("a", "stored", facts=3),
            Outcome("b", "unchanged"),
            Outcome("c", "skipped", "sidecar file, read with its article"),
            Outcome("d", "failed", "d: empty file"),
        ]
    )
    assert (summary.stored, summary.unchanged, summary.skipped, summary.failed) == (1, 1, 1, 1)
    assert summary.facts == 3 and not summary.ok


def test_batch_reads_the_shared_articles_twice(shared_dir: Path, register: Register) -> None:
    folder = shared_dir / "dev"
    first = ingest_paths([folder], register, extract=fake_extract)
    assert first.ok and first.stored == len(list(folder.glob("*.txt")))
    again = ingest_paths([folder], register, extract=fake_extract)
    assert again.unchanged == first.stored and register.counts()["rejects"] == 0


# --- feeds, dumps, languages, copies ------------------------------------------------------

#: Invented paragraphs for the tests below: two distinct reports and a French one.
REPORT_ONE = (
    "Officials in Ankara said on Tuesday that the air defence batteries bought from Moscow "
    "would be handed over in two batches, the first of them before the end of the summer. "
    "The ministry added that crews had finished a course of instruction near the coast and "
    "that a second contract, for spare parts and servicing, was still being discussed."
)
REPORT_TWO = (
    "A shipyard in the north of the country launched the second of four patrol vessels "
    "ordered by the navy last spring, according to a statement read out at the ceremony. "
    "The builder expects to deliver the remaining hulls within three years, and engineers "
    "from the buyer are to join the sea trials planned for the autumn."
)
REPORT_FRENCH = (
    "Le ministère a confirmé mardi que les batteries de défense aérienne achetées à Moscou "
    "seraient livrées en deux lots, le premier avant la fin de l'été, et que les équipages "
    "avaient terminé leur formation près de la côte au début du mois."
)


def test_batch_dump_records_each_get_an_outcome(tmp_path: Path, register: Register) -> None:
    dump = write(
        tmp_path / "dump.jsonl",
        "\n".join(
            [
                json.dumps({"id": "c1", "text": TEXT_CONTRACT}),
                "{broken",
                json.dumps({"id": "d1", "text": TEXT_DELIVERY, "date": "2019-07-12"}),
            ]
        )
        + "\n",
    )
    summary = ingest_paths([dump], register, extract=fake_extract)
    assert [(o.source, o.status) for o in summary.outcomes] == [
        (f"{dump}:1", "stored"),
        (f"{dump}:2", "failed"),
        (f"{dump}:3", "stored"),
    ]
    assert [r.source for r in register.iter_rejects()] == [f"{dump}:2"]
    again = ingest_paths([dump], register, extract=fake_extract)
    assert (again.unchanged, again.failed, again.stored) == (2, 1, 0)


def test_batch_non_english_article_is_stored_and_not_extracted(
    tmp_path: Path, register: Register
) -> None:
    write(tmp_path / "fr.txt", REPORT_FRENCH)

    def must_not_run(article: Article) -> list[Fact]:
        raise AssertionError("a French article was extracted")

    summary = ingest_paths([tmp_path / "fr.txt"], register, extract=must_not_run)
    (outcome,) = summary.outcomes
    assert outcome.status == "stored" and outcome.facts == 0
    assert outcome.reason == (
        "language 'fr': stored without extraction (the extractor reads 'en' only)"
    )
    stored = register.get_article("fr.txt")
    assert stored is not None and stored.language == "fr"


def test_batch_wire_copy_is_a_further_source_not_a_second_report(
    tmp_path: Path, register: Register
) -> None:
    copy = "ANKARA (Wire) - " + REPORT_ONE + " Reporting by the desk."
    dump = write(
        tmp_path / "wire.jsonl",
        "".join(
            json.dumps(row) + "\n"
            for row in [
                {"id": "orig", "text": REPORT_ONE, "url": "https://one.example/a"},
                {"id": "other", "text": REPORT_TWO, "url": "https://two.example/b"},
                {"id": "copy", "text": copy, "url": "https://three.example/c"},
                {"id": "same", "text": REPORT_ONE, "url": "https://four.example/d"},
            ]
        ),
    )
    summary = ingest_paths([dump], register, extract=lambda article: [])
    assert [o.status for o in summary.outcomes] == ["stored", "stored", "duplicate", "duplicate"]
    assert (summary.outcomes[2].reason or "").startswith("a copy of a stored article (similarity")
    assert register.counts()["articles"] == 2
    sources = register.iter_sources("orig")
    assert [(s.name, s.url) for s in sources] == [
        ("copy", "https://three.example/c"),
        ("same", "https://four.example/d"),
    ]
    assert sources[1].similarity == 1.0
    again = ingest_paths([dump], register, extract=lambda article: [])
    assert [o.status for o in again.outcomes] == ["unchanged"] * 4
    assert len(register.iter_sources()) == 2


def test_batch_keep_problems_counts_all_and_keeps_only_reasons(
    news: Path, tmp_path: Path, register: Register
) -> None:
    write(tmp_path / "empty.txt", "")
    summary = ingest_paths(
        [news, tmp_path / "empty.txt"], register, extract=fake_extract, keep="problems"
    )
    assert (summary.stored, summary.failed) == (2, 1)
    assert [o.status for o in summary.outcomes] == ["failed"]


def test_batch_writer_merges_stale_deals_when_it_is_time_and_at_the_end(
    news: Path, register: Register
) -> None:
    from armsledger.batch import Writer
    from armsledger.ingest import read_article

    articles = [read_article(path) for path in sorted(news.glob("*.txt"))]
    with Writer(register, extract=fake_extract, refresh_seconds=3600) as writer:
        for article in articles:
            writer.save(article, article.id)
        assert register.stale_deals() == 1  # not yet time: both facts wait, on one deal
        assert register.counts()["deals"] == 0
    assert register.stale_deals() == 0  # merged as the run ended
    (deal,) = register.query_deals(limit=10).items
    assert deal.n_facts == 2
    with Writer(register, extract=fake_extract, refresh_seconds=0) as writer:
        another = "Ankara signed a contract for a second S-400 regiment. It was in 2020."
        writer.save(Article(id="c.txt", text=another), "c.txt")
        assert register.stale_deals() == 0  # time already: merged after the write
    assert register.query_deals(limit=10).items[0].n_facts == 3


def test_batch_writers_find_copies_the_other_stored_since_they_started(
    tmp_path: Path, register: Register
) -> None:
    from armsledger.batch import Writer

    copy = "ANKARA (Wire) - " + REPORT_ONE + " Reporting by the desk."
    first = Writer(register, extract=lambda article: [])
    second = Writer(register, extract=lambda article: [])  # another process, as it were
    second.save(Article(id="other", text=REPORT_TWO), "other")
    first.save(Article(id="orig", text=REPORT_ONE, url="https://one.example/a"), "orig")
    second.save(Article(id="copy", text=copy, url="https://two.example/c"), "copy")
    assert [o.status for o in second.summary.outcomes] == ["stored", "duplicate"]
    assert [s.name for s in register.iter_sources("orig")] == ["copy"]


def test_batch_articles_stored_without_band_keys_still_have_their_copies_found(
    tmp_path: Path, register: Register
) -> None:
    from armsledger import store

    ingest_paths(
        [write(tmp_path / "one.jsonl", json.dumps({"id": "orig", "text": REPORT_ONE}) + "\n")],
        register,
        extract=lambda article: [],
    )
    with register._engine.begin() as conn:  # as an older armsledger left it
        conn.execute(store.article_bands.delete())
        conn.execute(store.article_signatures.delete())
    copy = "ANKARA (Wire) - " + REPORT_ONE + " Reporting by the desk."
    dump = write(tmp_path / "two.jsonl", json.dumps({"id": "copy", "text": copy}) + "\n")
    summary = ingest_paths([dump], register, extract=lambda article: [])
    assert [o.status for o in summary.outcomes] == ["duplicate"]
    with register._engine.connect() as conn:
        assert conn.execute(store.article_bands.select()).all()  # filled in on the way
