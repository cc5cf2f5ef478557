"""Deal resolution over the dev articles: one deal reported by several outlets.

The articles are read from ``shared/`` (never copied into the repository); the tests skip
where it is absent. Expected values are what the rules extractor produces, checked by hand
against the articles.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from armsledger.batch import ingest_paths
from armsledger.model import Corroboration, Deal, Modality, Stage, deal_id
from armsledger.serialize import deal_to_dict
from armsledger.store import Register

INDIA = ("a005_nose4news_india_russia_s400_signed_2018", "a006_ndtv_india_russia_s400_low_key_2018")
CHINA = (
    "a038_yicai_first_su35_china_christmas_2016",
    "a039_mbaaero_china_receives_first_four_su35_2016",
)
TURKEY = ("a001_scmp_turkey_receives_s400_2019", "a054_rferl_turkey_signs_s400_deal_2017")


def ingest(register: Register, shared: Path, *names: str, example: bool = False) -> None:
    paths = [shared / "dev" / f"{name}.txt" for name in names]
    if example:
        paths.append(shared / "examples" / "s400-turkey-shugaev.txt")
    summary = ingest_paths(paths, register)
    assert summary.tally["stored"] == len(paths)


def support(deal: Deal) -> dict[str, int]:
    return {str(c.stage): c.sources for c in deal.corroboration}


def test_merge_corpus_india_s400_from_two_outlets(register: Register, shared_dir: Path) -> None:
    ingest(register, shared_dir, *INDIA)
    deal = register.get_deal(deal_id("RUS", "IND", "S-400", 1))
    assert deal is not None
    assert deal.stage is Stage.CONTRACT
    assert {e.date for e in deal.timeline} == {dt.date(2018, 10, 5)}
    assert support(deal) == {"interest": 1, "contract": 2}
    assert deal.corroboration[1] == Corroboration(
        Stage.CONTRACT, 2, tuple(f"{n}.txt" for n in INDIA)
    )
    assert deal.contradictions == ()
    assert deal.confidence == 0.96
    planned = [e.modality for e in deal.timeline if e.stage is Stage.DELIVERY]
    assert sorted(planned) == [Modality.CONDITIONAL, Modality.PLANNED]


def test_merge_corpus_china_su35_timeline_by_article_date(
    register: Register, shared_dir: Path
) -> None:
    ingest(register, shared_dir, *CHINA)
    deal = register.get_deal(deal_id("RUS", "CHN", "Su-35", 1))
    assert deal is not None
    assert deal.stage is Stage.DELIVERY
    assert [(e.date, e.article_id[:4], str(e.stage)) for e in deal.timeline] == [
        (dt.date(2016, 12, 1), "a039", "negotiation"),
        (dt.date(2016, 12, 1), "a039", "contract"),
        (dt.date(2016, 12, 1), "a039", "delivery"),
        (dt.date(2016, 12, 15), "a038", "contract"),
        (dt.date(2016, 12, 15), "a038", "delivery"),
        (dt.date(2016, 12, 15), "a038", "training"),
        (dt.date(2016, 12, 15), "a038", "servicing"),
    ]
    assert support(deal) == {"negotiation": 1, "contract": 2, "delivery": 2, "training": 1}
    assert deal.confidence == 0.96


def test_merge_corpus_turkey_s400_three_sources(register: Register, shared_dir: Path) -> None:
    ingest(register, shared_dir, *TURKEY, example=True)
    deal = register.get_deal(deal_id("RUS", "TUR", "S-400", 1))
    assert deal is not None
    # The interview is undated, so the dated delivery report of 2019 is the current stage.
    assert deal.stage is Stage.DELIVERY
    assert (deal.first_seen, deal.last_seen) == (dt.date(2017, 9, 12), dt.date(2019, 7, 12))
    assert deal.timeline[0].article_id.startswith("a054")
    assert support(deal) == {
        "contract": 2,
        "delivery": 1,
        "delivered": 1,
        "training": 1,
        "servicing": 1,
    }
    assert deal.confidence == 0.8
    # the second regiment set is a deal of its own
    second = register.get_deal(deal_id("RUS", "TUR", "S-400", 2))
    assert second is not None and second.stage is Stage.NEGOTIATION
    out = deal_to_dict(deal)
    assert out["confidence"] == 0.8
    first = out["corroboration"][0]
    assert (first["stage"], first["sources"]) == ("contract", 2)


def test_merge_corpus_wire_copy_counts_once(
    register: Register, shared_dir: Path, tmp_path: Path
) -> None:
    ingest(register, shared_dir, *INDIA)
    # A wire copy: the same report under another name, with a credit line added (written
    # to a temporary folder only).
    original = (shared_dir / "dev" / f"{INDIA[0]}.txt").read_text(encoding="utf-8")
    copy = tmp_path / "wire_copy.txt"
    copy.write_text(original + "\n(Reporting by a wire service.)\n", encoding="utf-8")
    summary = ingest_paths([copy], register)
    assert summary.tally["duplicate"] == 1
    deal = register.get_deal(deal_id("RUS", "IND", "S-400", 1))
    assert deal is not None
    assert support(deal)["contract"] == 2


def test_merge_corpus_rebuild_changes_nothing(register: Register, shared_dir: Path) -> None:
    ingest(register, shared_dir, *CHINA, *TURKEY)
    before = {d.id: d for d in register.iter_deals()}
    register.rebuild_deals()
    after = {d.id: d for d in register.iter_deals()}
    assert after == before
    assert all(dataclasses.is_dataclass(d) for d in after.values())
