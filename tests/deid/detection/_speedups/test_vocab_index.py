"""spaCy's string and lexeme tables stay the same size however many words stream through.

preshed leaves a tombstone for each key spaCy removes at the end of a memory zone, and
doubles a table whose cells are mostly tombstones: without ``deid.detection._speedups.vocab_index`` both
tables grew with every distinct word a worker had seen.
"""

from __future__ import annotations

import random
import string

import pytest
import spacy
from preshed.maps import PreshMap

from deid.config import DetectionConfig
from deid.detection._speedups import vocab_index
from deid.detection._speedups.vocab_index import (
    compact_vocab_indexes,
    purge_tombstones,
    vocab_indexes,
)
from deid.detection.detector import Detector


def _words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=10)) for _ in range(n))


def _capacities(nlp: spacy.language.Language) -> list[int]:
    return [index.capacity for index in vocab_indexes(nlp.vocab)]


def test_purge_keeps_every_live_entry_and_drops_the_tombstones() -> None:
    index = PreshMap(1024)
    for key in range(2, 600):
        index[key] = key * 7
    index[0] = 11  # preshed keeps its two reserved keys outside the cells
    index[1] = 13
    for key in range(2, 600, 3):
        del index[key]
    live = dict(index.items())
    filled, capacity = len(index), index.capacity

    dropped = purge_tombstones(index)

    in_cells = len(live) - 2  # the reserved keys are not in the cells, nor in the fill
    assert dropped == filled - in_cells == 200
    assert dict(index.items()) == live
    assert len(index) == in_cells
    assert index.capacity == capacity
    assert all(index[key] is None for key in range(2, 600, 3))
    index[2] = 5  # still an ordinary table afterwards
    assert index[2] == 5 and index[3] == 21


def test_an_unknown_layout_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    index = PreshMap()
    index[5] = 1
    del index[5]
    monkeypatch.setattr(vocab_index, "_C_MAP_OFFSET", 16)  # the vtable, not the table
    assert purge_tombstones(index) is None
    assert len(index) == 1  # the tombstone is still counted: nothing was touched


def test_tables_stop_growing_under_memory_zones() -> None:
    rng = random.Random(3)
    plain, compacted = spacy.blank("en"), spacy.blank("en")
    start = _capacities(compacted)
    for _ in range(600):  # 300,000 distinct words, 500 per zone
        text = _words(rng, 500)
        for nlp in (plain, compacted):
            with nlp.memory_zone():
                nlp.make_doc(text)
        compact_vocab_indexes(compacted.vocab)
    # preshed as pinned: tombstones make both tables double again and again.  (If this
    # fails, preshed no longer does that, and deid.detection._speedups.vocab_index can go.)
    assert all(p >= 8 * s for p, s in zip(_capacities(plain), start, strict=True))
    assert all(c <= 4 * s for c, s in zip(_capacities(compacted), start, strict=True))
    with compacted.memory_zone():
        assert [t.text for t in compacted.make_doc("the cat sat")] == ["the", "cat", "sat"]
    assert compacted.vocab["the"].orth_ == "the"


def test_the_detector_compacts_after_each_memory_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("deid.detection.detector._MEMORY_ZONE_NOTES", 100)
    detector = Detector(DetectionConfig())
    strings_table = vocab_indexes(detector.nlp.vocab)[0]
    start = strings_table.capacity
    rng = random.Random(5)
    notes = [f"Pt seen by Dr. Healey. {_words(rng, 60)}" for _ in range(2_000)]
    for _spans in detector.detect_batch(notes):
        pass
    # 120,000 new words went through: without the purge the table doubles.
    assert strings_table.capacity == start
    assert len(strings_table) < 0.5 * start + 100 * 60
