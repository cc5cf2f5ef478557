"""The score gate: evaluate on the canonical example and the dev set stays above pinned floors.

A floor is raised when the score rises, never lowered quietly (the dev figures behind each
floor are in the README's evaluation table).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from armsledger.evaluate import evaluate_dir
from armsledger.extract import EXTRACTOR, extract_facts

#: Floors on ../shared/dev, a little under the figures measured when they were last raised.
DEV_FACT_F1 = 0.86
DEV_RELEVANCE_PRECISION = 0.95
DEV_RELEVANCE_RECALL = 1.0


def test_scores_canonical_example_is_perfect(shared_dir: Path) -> None:
    scores = evaluate_dir(shared_dir / "examples", extract_facts, extractor=EXTRACTOR).to_dict()
    assert scores["facts"]["f1"] == 1.0
    assert scores["facts"]["fp"] == 0
    assert scores["attributes"]["modality"]["accuracy"] == 1.0
    assert scores["evidence"]["not_exact"] == 0


@pytest.mark.slow
def test_scores_dev_set_stays_above_the_floors(shared_dir: Path) -> None:
    scores = evaluate_dir(shared_dir / "dev", extract_facts, extractor=EXTRACTOR).to_dict()
    assert scores["facts"]["f1"] >= DEV_FACT_F1
    assert scores["relevance"]["precision"] >= DEV_RELEVANCE_PRECISION
    assert scores["relevance"]["recall"] >= DEV_RELEVANCE_RECALL
    assert scores["evidence"]["not_exact"] == 0
