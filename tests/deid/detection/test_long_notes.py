"""Notes longer than one spaCy Doc should hold: detected in overlapping segments.

spaCy refuses texts over ``nlp.max_length`` (1,000,000 characters, error E088) and its
memory grows with Doc length, so ``Detector`` cuts long texts at line breaks or
whitespace and detects each segment with context on both sides.  These tests check that
this is invisible: the same spans as one Doc (or as short notes holding the same PHI),
PHI straddling a cut found whole, names carried across segments, input order kept, and
per-kilobyte cost flat from 1 MB to 10 MB.  The de-identifier's replacement step is
checked for long notes too (Presidio rebuilds its whole input per replacement).
"""

from __future__ import annotations

import random
import string
import time
from collections.abc import Iterator

import pytest

from deid.anonymization.deidentifier import KEEP, Deidentifier, DeidResult
from deid.anonymization.keys import SecretKey
from deid.anonymization.surrogates.source import MIN_AVOID_LEN, AvoidSet
from deid.config import DetectionConfig
from deid.detection.detector import SEGMENT_CHARS, SEGMENT_OVERLAP, Detector, segment_cuts
from deid.spans import Span
from tests.conftest import TEST_KEY
from tests.span_checks import check_spans

DIGIT_LETTERS = str.maketrans(string.digits, "abcdefghij")
SMALL_LIMIT, SMALL_OVERLAP = 2_000, 300  # segments small enough to cut short test notes

FILLER = [
    "Pt resting comfortably in bed.",
    "Lungs clear bilaterally, no distress noted.",
    "Plan to continue current regimen and monitor.",
    "Tolerating diet well, ambulating with assistance.",
    "Vital signs stable overnight, afebrile.",
    "Skin warm and dry, dressing intact.",
]
# (before the cut, after the cut, entity type): the cut falls inside the entity.
PLANTS = [
    ("Pt seen by Dr. Zqxvelt ", "Harrow this am.", "PERSON"),
    ("Family meeting held on July 22, ", "2019 with team.", "DATE"),
    ("Wife asked to call (617) ", "555-1212 with updates.", "PHONE_NUMBER"),
]
PHI_VALUES = {
    "PERSON": "Zqxvelt Harrow",
    "DATE": "July 22, 2019",
    "PHONE_NUMBER": "(617) 555-1212",
}


@pytest.fixture(scope="module")
def base_detector() -> Detector:
    return Detector(DetectionConfig())


@pytest.fixture
def small_segments(base_detector: Detector) -> Iterator[Detector]:
    """The shared detector, cutting texts into segments of ``SMALL_LIMIT`` characters."""
    base_detector.segment_chars, base_detector.segment_overlap = SMALL_LIMIT, SMALL_OVERLAP
    try:
        yield base_detector
    finally:
        base_detector.segment_chars = SEGMENT_CHARS
        base_detector.segment_overlap = SEGMENT_OVERLAP


def _fill(n: int, rng: random.Random, lines: bool) -> str:
    """``n`` characters of PHI-free filler, as lines or as one line; ends with whitespace."""
    out: list[str] = []
    size = 0
    while n - size > 60:
        piece = rng.choice(FILLER) + ("\n" if lines else " ")
        out.append(piece)
        size += len(piece)
    if n - size:
        out.append("-" * (n - size - 1) + " ")
    return "".join(out)


def straddling_note(
    length: int, limit: int, overlap: int, seed: int = 0
) -> tuple[str, list[int], list[tuple[int, int, str]]]:
    """A note of about ``length`` characters with a name, date or phone across every cut.

    Returns the text, the cuts the segmenter must choose, and the planted entities
    ``(start, end, type)``.  Each stretch between cuts is filler lines, then one long
    line (so that no line break is near the cut), then a planted sentence whose last
    whitespace before the cut lies inside the entity.
    """
    rng = random.Random(seed)
    core = limit - 2 * overlap
    parts: list[str] = []
    size, cuts, planted = 0, [0], []
    while length - cuts[-1] > limit - overlap:  # as the segmenter decides
        target = cuts[-1] + core
        before, after, entity = PLANTS[len(cuts) % len(PLANTS)]
        one_line_from = max(size, target - min(core, 20_000))
        parts.append(_fill(one_line_from - size, rng, lines=True))
        parts.append(_fill(target - len(before) - one_line_from, rng, lines=False))
        value = PHI_VALUES[entity]
        start = target - len(before) + (before + after).index(value)
        planted.append((start, start + len(value), entity))
        parts.append(before + after + " ")
        size = target + len(after) + 1
        cuts.append(target)
    parts.append(_fill(length - size, rng, lines=True))
    text = "".join(parts)
    cuts.append(len(text))
    return text, cuts, planted


def keys(spans: list[Span], offset: int = 0) -> list[tuple[int, int, str]]:
    return [(s.start + offset, s.end + offset, s.entity_type) for s in spans]


def assert_planted_found(spans: list[Span], planted: list[tuple[int, int, str]]) -> None:
    for start, end, entity in planted:
        cover = [s for s in spans if s.start <= start and end <= s.end]
        assert cover and cover[0].entity_type == entity, f"{entity} at {start} not found whole"


# --- segmentation ----------------------------------------------------------------------


def test_cuts_fall_after_line_breaks_else_whitespace_else_anywhere() -> None:
    line = "word " * 19 + "end\n"  # 99 characters a line
    cuts = segment_cuts(line * 100, SMALL_LIMIT, SMALL_OVERLAP)
    assert all(c % len(line) == 0 for c in cuts[:-1])  # just after a line break
    flat = "word " * 2_000
    cuts = segment_cuts(flat, SMALL_LIMIT, SMALL_OVERLAP)
    assert all(flat[c - 1] == " " and flat[c] == "w" for c in cuts[1:-1])
    cuts = segment_cuts("x" * 10_000, SMALL_LIMIT, SMALL_OVERLAP)
    assert cuts == [0, 1400, 2800, 4200, 5600, 7000, 8400, 10_000]


@pytest.mark.parametrize(
    "text",
    [
        "a" * 1_000_001,
        "word " * 300_000,
        ("line\n" * 50 + "x" * 30_000) * 10,
        "\n" * 500_000,
        " " * 250_001,
    ],
    ids=["one word", "words", "lines and runs", "newlines", "spaces"],
)
def test_segments_cover_the_text_within_the_limit(text: str) -> None:
    cuts = segment_cuts(text)
    assert cuts[0] == 0 and cuts[-1] == len(text)
    assert all(a < b for a, b in zip(cuts, cuts[1:], strict=False))
    for a, b in zip(cuts, cuts[1:], strict=False):
        # the segment is the stretch widened by the overlap on both sides
        assert min(len(text), b + SEGMENT_OVERLAP) - max(0, a - SEGMENT_OVERLAP) <= SEGMENT_CHARS


def test_short_texts_are_one_segment() -> None:
    assert segment_cuts("x" * 10) == [0, 10]
    assert segment_cuts("") == [0, 0]


# --- detection across cuts -------------------------------------------------------------


@pytest.mark.parametrize("propagate", [False, True])
def test_segmented_detection_equals_one_doc(propagate: bool) -> None:
    """Cut every 1,400 characters, a 60k-character note gives the spans of one Doc."""
    text, cuts, planted = straddling_note(60_000, SMALL_LIMIT, SMALL_OVERLAP, seed=1)
    # A stretch with no whitespace at all is cut anywhere (here: inside phone numbers).
    text += "\n" + "617-555-1212;" * 400 + "\nDr. Zqxvelt Harrow will call back.\n"
    assert segment_cuts(text, SMALL_LIMIT, SMALL_OVERLAP)[: len(cuts) - 1] == cuts[:-1]
    detector = Detector(DetectionConfig(propagate_within_note=propagate))
    detector.segment_chars, detector.segment_overlap = SMALL_LIMIT, SMALL_OVERLAP
    segmented = detector.detect(text)
    detector.segment_chars = len(text)
    one_doc = detector.detect(text)
    assert len(cuts) > 40
    check_spans(text, segmented)
    assert_planted_found(segmented, planted)
    assert keys(segmented) == keys(one_doc)


def test_names_propagate_to_other_segments(small_segments: Detector) -> None:
    """A name marked by a title in one segment is covered bare in segments far away."""
    rng = random.Random(2)
    bare = "later zqxvelt phoned the unit."
    assert small_segments.detect(bare) == []  # bare, the word is not found on its own
    text = "Seen by Dr. Zqxvelt today.\n" + _fill(20_000, rng, lines=True) + bare + "\n"
    text += _fill(20_000, rng, lines=True) + "ZQXVELT's note reviewed.\n"
    spans = small_segments.detect(text)
    for mention in ("zqxvelt phoned", "ZQXVELT's"):
        start = text.index(mention)
        assert any(s.start == start and s.end == start + 7 for s in spans), mention
    small_segments.config = DetectionConfig(propagate_within_note=False)
    try:
        spans = small_segments.detect(text)
        assert spans and all(s.end < 30 for s in spans)  # only the titled mention
    finally:
        small_segments.config = DetectionConfig()


def test_batches_mixing_short_and_long_texts_keep_their_order(small_segments: Detector) -> None:
    rng = random.Random(3)
    long_a, _, _ = straddling_note(9_000, SMALL_LIMIT, SMALL_OVERLAP, seed=4)
    long_b = _fill(5_000, rng, lines=False) + PLANTS[2][0] + PLANTS[2][1]
    texts = [
        "Seen by Dr. Zqxvelt Harrow.",
        long_a,
        "",
        long_b,
        long_a,
        "Call (617) 555-1212 on July 22, 2019.",
        "No PHI here.",
        long_b,
    ]
    expected = [small_segments.detect(t) for t in texts]
    assert [len(s) > 0 for s in expected] == [True, True, False, True, True, True, False, True]
    got = list(small_segments.detect_batch(iter(texts), batch_size=3))
    assert got == expected


def test_a_note_over_spacys_limit_is_detected_and_deidentified(
    base_detector: Detector,
) -> None:
    """The regression itself: 1,100,000 characters once raised spaCy's E088."""
    text, cuts, planted = straddling_note(1_100_000, SEGMENT_CHARS, SEGMENT_OVERLAP)
    assert segment_cuts(text) == cuts
    spans = base_detector.detect(text)
    check_spans(text, spans)
    assert_planted_found(spans, planted)
    deid = Deidentifier(key=SecretKey.from_text(TEST_KEY), detector=base_detector)
    result = deid.deidentify(text, "p1", spans=spans)
    check_result(text, result)
    assert not any(value in result.text for value in PHI_VALUES.values())


# --- 10 MB -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ten_mb() -> tuple[str, list[int], list[tuple[int, int, str]]]:
    return straddling_note(10_000_000, SEGMENT_CHARS, SEGMENT_OVERLAP, seed=5)


@pytest.mark.slow
def test_a_10mb_note_matches_its_pieces(
    ten_mb: tuple[str, list[int], list[tuple[int, int, str]]], base_detector: Detector
) -> None:
    """PHI across each of ~100 cuts is found whole, with the spans of a short note
    holding the same text around it."""
    text, cuts, planted = ten_mb
    assert segment_cuts(text) == cuts and len(planted) >= 100
    spans = base_detector.detect(text)
    check_spans(text, spans)
    assert_planted_found(spans, planted)
    for start, _, _ in planted:
        lo, hi = start - 5_000, start + 5_000
        piece = base_detector.detect(text[lo:hi])
        inner = [k for k in keys(piece, lo) if lo + 1_000 <= k[0] and k[1] <= hi - 1_000]
        assert inner == [k for k in keys(spans) if lo + 1_000 <= k[0] and k[1] <= hi - 1_000]


@pytest.mark.slow
def test_cpu_per_kilobyte_is_flat_from_1mb_to_10mb(
    ten_mb: tuple[str, list[int], list[tuple[int, int, str]]], base_detector: Detector
) -> None:
    text = ten_mb[0]
    deid = Deidentifier(key=SecretKey.from_text(TEST_KEY), detector=base_detector)
    per_kb = {}
    for size in (1_000_000, len(text)):
        note = text[:size]
        start = time.thread_time()
        result = deid.deidentify(note, "p1")
        per_kb[size] = (time.thread_time() - start) / (size / 1024)
        check_result(note, result)
    small, large = per_kb.values()
    assert large <= 2 * small, f"{large * 1000:.2f} ms/KB at 10 MB, {small * 1000:.2f} at 1 MB"


# --- de-identification of long notes ---------------------------------------------------


def check_result(text: str, result: DeidResult) -> None:
    """Untouched stretches equal the input's; replaced spans lie inside both texts."""
    out, pos, orig = result.text, 0, 0
    for applied in sorted(result.spans, key=lambda a: a.orig_start):
        assert pos <= applied.start <= applied.end <= len(out)
        assert orig <= applied.orig_start < applied.orig_end <= len(text)
        assert out[pos : applied.start] == text[orig : applied.orig_start]
        if applied.operator == KEEP:
            assert out[applied.start : applied.end] == text[applied.orig_start : applied.orig_end]
        pos, orig = applied.end, applied.orig_end
    assert out[pos:] == text[orig:]


def test_replacing_in_groups_gives_the_same_result(
    base_detector: Detector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long notes go through Presidio's anonymizer a stretch at a time; the output and
    its offsets must be those of one pass."""
    text = " ".join(
        f"Dr. Zqx{str(i).translate(DIGIT_LETTERS)} Harrow seen {i % 12 + 1}/{i % 28 + 1}/2019, call 617-555-{1000 + i}."
        for i in range(300)
    )
    spans = base_detector.detect(text)
    deid = Deidentifier(key=SecretKey.from_text(TEST_KEY), detector=base_detector)
    whole = deid.deidentify(text, "p1", spans=spans)
    monkeypatch.setattr("deid.anonymization.deidentifier._REPLACE_GROUP_CHARS", 200)
    grouped = deid.deidentify(text, "p1", spans=spans)
    assert len(whole.spans) >= 900
    assert grouped == whole
    check_result(text, grouped)


def test_avoid_set_finds_the_same_values_as_a_scan() -> None:
    """The avoid check looks values up instead of scanning them all (linear in PHI)."""
    rng = random.Random(6)
    letters = "abcAB -"
    values = ["".join(rng.choices(letters, k=rng.randint(1, 6))) for _ in range(300)]
    avoid = AvoidSet(values)
    folded = {v.strip().casefold() for v in values}
    kept = [v for v in folded if len(v) >= MIN_AVOID_LEN]
    for _ in range(3_000):
        candidate = "".join(rng.choices(letters + string.digits, k=rng.randint(0, 12)))
        expected = any(v in candidate.casefold() for v in kept)
        assert avoid.hit(candidate) is expected, candidate
