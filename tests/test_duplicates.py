"""Wire copies by MinHash: signatures, band keys, similarity and the in-memory index."""

from __future__ import annotations

from datasketch import MinHashLSH

from armsledger.duplicates import (
    NUM_PERM,
    THRESHOLD,
    DuplicateIndex,
    band_keys,
    bands,
    best_match,
    signature,
    signature_bytes,
    similarity,
)

STORY = (
    "Officials said on Tuesday that the batteries bought abroad would be handed over in two "
    "batches, the first of them before the end of the summer, and that crews had finished a "
    "course of instruction near the coast while a second contract was still being discussed."
)
OTHER = (
    "A shipyard launched the second of four patrol vessels ordered by the navy last spring, "
    "and the builder expects to deliver the remaining hulls within three years of the order."
)


def _sig(text: str) -> bytes:
    return signature_bytes(signature(text))


def test_duplicates_bands_are_datasketchs_choice_for_the_threshold() -> None:
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    count, rows = bands()
    assert (count, rows) == (lsh.b, lsh.r)
    assert count * rows <= NUM_PERM


def test_duplicates_band_keys_are_stable_and_shared_by_a_copy() -> None:
    original = _sig(STORY)
    keys = band_keys(original)
    assert keys == band_keys(_sig(STORY))  # the same text, the same keys, in any process
    assert [band for band, _ in keys] == list(range(bands()[0]))
    assert all(-(2**63) <= key < 2**63 for _, key in keys)  # a signed 64-bit column holds it
    copy = _sig("WIRE - " + STORY + " Reporting by the desk.")
    assert set(keys) & set(band_keys(copy))
    assert not set(keys) & set(band_keys(_sig(OTHER)))


def test_duplicates_similarity_is_the_share_of_equal_values() -> None:
    first, second = signature(STORY), signature(STORY + " And one sentence more was added.")
    assert similarity(signature_bytes(first), signature_bytes(second)) == first.jaccard(second)
    assert similarity(_sig(STORY), _sig(STORY)) == 1.0


def test_duplicates_best_match_keeps_the_most_similar_at_the_threshold() -> None:
    new = _sig("WIRE - " + STORY)
    candidates = [("other", _sig(OTHER)), ("story", _sig(STORY)), ("same", new)]
    match = best_match(new, candidates)
    assert match is not None and (match.key, match.similarity) == ("same", 1.0)
    assert best_match(new, candidates[:1]) is None


def test_duplicates_index_finds_a_copy_and_not_another_report() -> None:
    index = DuplicateIndex()
    index.add("story", _sig(STORY))
    index.add("story", _sig(OTHER))  # a key is indexed once
    assert len(index) == 1
    match = index.find(_sig("WIRE - " + STORY + " Reporting by the desk."))
    assert match is not None and match.key == "story" and match.similarity >= THRESHOLD
    assert index.find(_sig(OTHER)) is None
