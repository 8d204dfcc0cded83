"""Near-duplicate index and content filters on their own (no flow): what they remove."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipelines.config import FiltersConfig
from pipelines.output.filters import ContentFilter
from pipelines.output.near_duplicates import NearDuplicateIndex, bands_for, signature, similarity

NOTE = "\n".join(
    f"Day {i}: patient resting comfortably, vitals stable, tolerating diet, pain {i % 4}/10, "
    f"continue plan number {i} and reassess in the morning."
    for i in range(20)
)


def _other(seed: int) -> str:
    rng = random.Random(seed)
    words = [f"w{rng.randrange(5000)}" for _ in range(300)]
    return "\n".join(" ".join(words[i : i + 15]) for i in range(0, 300, 15))


def test_a_copy_forward_variant_is_removed_and_distinct_notes_are_kept(tmp_path: Path) -> None:
    lines = NOTE.splitlines()
    variant = "\n".join([*lines[:10], "New today: walked the hall twice.", *lines[10:]])
    edited = NOTE.replace("pain 3/10", "pain 5/10", 1)
    with NearDuplicateIndex(directory=tmp_path) as index:
        assert index.check(signature(NOTE)) is False  # the first of its cluster: kept
        assert index.check(signature(variant)) is True
        assert index.check(signature(edited)) is True
        assert [index.check(signature(_other(s))) for s in range(50)] == [False] * 50
    assert not list(tmp_path.iterdir())  # the scratch dir is removed on close


def test_patient_scope_compares_only_within_a_patient(tmp_path: Path) -> None:
    sig = signature(NOTE)
    with NearDuplicateIndex(directory=tmp_path) as index:
        assert index.check(sig, "patient-a") is False
        assert index.check(sig, "patient-b") is False  # another patient: not compared
        assert index.check(sig, "patient-a") is True


def test_signatures_are_deterministic_and_estimate_jaccard() -> None:
    assert signature(NOTE) == signature(NOTE)
    assert similarity(signature(NOTE), signature(NOTE)) == 1.0
    assert similarity(signature(NOTE), signature(_other(1))) < 0.1
    bands, rows = bands_for(0.75, 128)
    assert bands * rows <= 128
    assert 1 - (1 - 0.75**rows) ** bands > 0.95  # a pair at the threshold is a candidate


def test_a_signature_of_another_width_is_refused(tmp_path: Path) -> None:
    with NearDuplicateIndex(directory=tmp_path) as index, pytest.raises(ValueError, match="slots"):
        index.check(signature(NOTE, num_perm=64))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Electronically signed by Dr. Adams", "min_content"),
        ("Subjective:\nObjective:\n______\nPlan:\n\ncc: file", "min_content"),
        ("\ufffd\ufffd\x01\x02 ok", "non_text"),
        ("x" * 50 + " word word word", "max_chars"),
        ("Pt seen, BP stable overnight, continue meds.", None),
        ("Na 140 K 4.1 Cl 102 HCO3 24 BUN 12 Cr 0.9 (labs reviewed)", None),
    ],
)
def test_filters_name_the_reason(text: str, reason: str | None) -> None:
    config = FiltersConfig(max_chars=60)
    assert ContentFilter(config).reason(text) == reason


def test_site_template_patterns_and_switching_filters_off() -> None:
    text = "PATIENT LABEL STICKER HERE\nok fine"
    assert ContentFilter(FiltersConfig()).reason(text) is None
    strict = FiltersConfig(template_patterns=["patient label sticker here"])
    assert ContentFilter(strict).reason(text) == "min_content"
    off = FiltersConfig(min_content_words=0, max_non_text_share=None)
    assert ContentFilter(off).reason("") is None
    with pytest.raises(ValueError, match="does not compile"):
        FiltersConfig(template_patterns=["("])
