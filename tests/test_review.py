"""Analyst review: confirm, reject, edit, merge and split, audited, and never overridden."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MakeFact
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from armsledger.api import create_app
from armsledger.cli import cli
from armsledger.errors import InputError
from armsledger.model import Article, Stage, deal_id
from armsledger.store import Register

S400 = deal_id("RUS", "TUR", "S-400", 1)


def fact_ids(register: Register, deal: str) -> dict[str, int]:
    """Fact row ids of a deal by stage."""
    page = register.query_facts(deal_id=deal, limit=100)
    return {str(f.fact.stage): f.id for f in page.items}


@pytest.fixture
def filled(
    register: Register, delivery_article: Article, contract_article: Article, make_fact: MakeFact
) -> Register:
    register.save_article(
        contract_article, [make_fact(contract_article, "signed a contract", stage=Stage.CONTRACT)]
    )
    register.save_article(
        delivery_article, [make_fact(delivery_article, "had arrived from Russia")]
    )
    return register


def test_review_confirm_makes_a_fact_certain_and_is_audited(filled: Register) -> None:
    ids = fact_ids(filled, S400)
    before = filled.get_deal(S400)
    assert before is not None and before.confidence == 0.8
    done = filled.review_fact(ids["delivery"], "confirm", by="ana", why="seen on TV")
    after = filled.get_deal(S400)
    assert after is not None and after.confidence == 1.0
    (audit,) = filled.iter_reviews()
    assert (audit.id, audit.action, audit.by, audit.why) == (
        done.id,
        "confirm",
        "ana",
        "seen on TV",
    )
    assert audit.article == "delivery.txt" and audit.deal_id == S400


def test_review_reject_drops_the_fact_and_edit_moves_it(filled: Register) -> None:
    ids = fact_ids(filled, S400)
    filled.review_fact(ids["delivery"], "reject", by="ana")
    deal = filled.get_deal(S400)
    assert deal is not None and deal.stage is Stage.CONTRACT
    filled.review_fact(ids["contract"], "edit", by="ana", changes={"recipient": "IND"})
    assert filled.get_deal(S400) is None
    moved = filled.get_deal(deal_id("RUS", "IND", "S-400", 1))
    assert moved is not None and [e.stage for e in moved.timeline] == [Stage.CONTRACT]


def test_review_refuses_unknown_facts_fields_and_reviewers(filled: Register) -> None:
    ids = fact_ids(filled, S400)
    with pytest.raises(InputError, match="no fact 999"):
        filled.review_fact(999, "confirm", by="ana")
    with pytest.raises(InputError, match="cannot edit value"):
        filled.review_fact(ids["contract"], "edit", by="ana", changes={"value": 1})
    with pytest.raises(InputError, match="reviewer"):
        filled.review_fact(ids["contract"], "confirm", by=" ")
    assert filled.iter_reviews() == []


def test_review_split_and_merge_deals(filled: Register) -> None:
    ids = fact_ids(filled, S400)
    second = filled.split_deal(S400, [ids["delivery"]], lot=2, by="ana", why="other regiment")
    assert second == deal_id("RUS", "TUR", "S-400", 2)
    assert [d.lot for d in filled.iter_deals()] == [1, 2]
    assert filled.merge_deal(second, S400, by="bob") == 1
    assert [d.id for d in filled.iter_deals()] == [S400]
    assert [r.action for r in filled.iter_reviews()] == ["split", "merge"]


def test_review_survives_reingest_of_a_changed_article_and_rebuild(
    filled: Register, delivery_article: Article, make_fact: MakeFact
) -> None:
    ids = fact_ids(filled, S400)
    filled.review_fact(ids["delivery"], "reject", by="ana")
    changed = dataclasses.replace(delivery_article, text=delivery_article.text + "Updated.\n")
    filled.save_article(changed, [make_fact(changed, "had arrived from Russia")])
    filled.rebuild_deals()
    deal = filled.get_deal(S400)
    assert deal is not None and [e.stage for e in deal.timeline] == [Stage.CONTRACT]


REVIEWS = st.lists(
    st.tuples(
        st.sampled_from(["contract", "delivery"]),
        st.sampled_from(["confirm", "reject", "edit"]),
        st.sampled_from(["IND", "CHN", "TUR"]),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(REVIEWS, st.sampled_from(["same", "changed", "rebuild"]))
def test_review_is_never_overridden_by_reextraction(
    tmp_path: Path,
    delivery_article: Article,
    contract_article: Article,
    make_fact: MakeFact,
    reviews: list[tuple[str, str, str]],
    again: str,
) -> None:
    with Register("sqlite://") as register:
        facts = {
            "contract": make_fact(contract_article, "signed a contract", stage=Stage.CONTRACT),
            "delivery": make_fact(delivery_article, "had arrived from Russia"),
        }
        register.save_article(contract_article, [facts["contract"]])
        register.save_article(delivery_article, [facts["delivery"]])
        ids = fact_ids(register, S400)
        for stage, action, recipient in reviews:
            changes = {"recipient": recipient} if action == "edit" else {}
            register.review_fact(ids[stage], action, by="ana", changes=changes)
        before = {d.id: d for d in register.iter_deals()}
        if again == "rebuild":
            register.rebuild_deals()
        else:
            article = delivery_article
            if again == "changed":
                article = dataclasses.replace(article, text=article.text + "More.\n")
            register.save_article(article, [make_fact(article, "had arrived from Russia")])
        after = {d.id: d for d in register.iter_deals()}
        # The same deals, the same stages: a re-read fact takes its reviews with it.
        assert after.keys() == before.keys()
        for key, deal in before.items():
            assert {e.stage for e in after[key].timeline} == {e.stage for e in deal.timeline}
            if again != "changed":  # a changed text is one more stored article
                assert after[key].confidence == deal.confidence


def test_review_cli_records_who_and_why(filled: Register, tmp_path: Path) -> None:
    ids = fact_ids(filled, S400)
    db = str(tmp_path / "register.db")
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "review",
            "edit",
            str(ids["delivery"]),
            "--db",
            db,
            "--by",
            "ana",
            "--why",
            "typo",
            "--set",
            "stage=delivered",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"edit: fact {ids['delivery']} (review ")
    listed = runner.invoke(cli, ["review", "list", "--db", db]).stdout
    assert "ana: edit fact" in listed and '{"stage": "delivered"}; why: typo' in listed
    missing = runner.invoke(cli, ["review", "confirm", str(ids["contract"]), "--db", db])
    assert missing.exit_code == 2 and "--by NAME" in missing.stderr
    unknown = runner.invoke(cli, ["review", "confirm", "999", "--db", db, "--by", "ana"])
    assert unknown.exit_code == 1
    assert unknown.stderr == "armsledger: error: no fact 999 in the register\n"


def test_review_api_needs_the_token(filled: Register, tmp_path: Path) -> None:
    ids = fact_ids(filled, S400)
    url = f"sqlite:///{tmp_path / 'register.db'}"
    body = {"action": "confirm", "by": "ana", "why": "checked"}
    with TestClient(create_app(url)) as reader:
        assert reader.post(f"/api/facts/{ids['delivery']}/review", json=body).status_code == 403
    with TestClient(create_app(url, token="s3cret")) as writer:
        auth = {"Authorization": "Bearer s3cret"}
        assert writer.post(f"/api/facts/{ids['delivery']}/review", json=body).status_code == 401
        done = writer.post(f"/api/facts/{ids['delivery']}/review", json=body, headers=auth)
        assert done.status_code == 200 and done.json()["by"] == "ana"
        assert writer.get(f"/api/deals/{S400}").json()["confidence"] == 1.0
        split = writer.post(
            f"/api/deals/{S400}/split",
            json={"facts": [ids["delivery"]], "lot": 2, "by": "ana"},
            headers=auth,
        )
        assert split.json() == {"deal": deal_id("RUS", "TUR", "S-400", 2), "moved": 1}
        merge = writer.post(
            f"/api/deals/{split.json()['deal']}/merge",
            json={"into": S400, "by": "bob"},
            headers=auth,
        )
        assert merge.json() == {"deal": S400, "moved": 1}
        assert [r["action"] for r in writer.get("/api/reviews").json()["items"]] == [
            "confirm",
            "split",
            "merge",
        ]
