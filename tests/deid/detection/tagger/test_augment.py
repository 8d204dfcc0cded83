"""Gold-span replacement: augmentation copies and leave-names-out test notes."""

from __future__ import annotations

import re

import pytest

from deid import lexicons
from deid.detection.tagger.augment import (
    augment,
    case_style,
    gold_words,
    leave_names_out,
)
from deid.evaluation.corpora import Note
from deid.spans import Span


def _note(text: str, marked: list[tuple[str, str]], note_id: str = "1") -> Note:
    """A note whose gold spans are the given (substring, category), found left to right."""
    spans, pos = [], 0
    for sub, cat in marked:
        start = text.index(sub, pos)
        spans.append(Span(start, start + len(sub), cat, 1.0, "gold"))
        pos = start + len(sub)
    return Note(note_id, "p1", text, tuple(spans))


NOTE = _note(
    "Seen by Dr. Healey on 8/14. Son bill called from Towson, will visit. "
    "SIGNED: DAN A. FORMAN-LYONS, RRT. To GH 7/22, then St. Agnes Hospital. "
    "call 410-322-1419. transfer to Quartermain 2. pt is 98.",
    [
        ("Healey", "HCPName"),
        ("8/14", "Date"),
        ("bill", "RelativeProxyName"),
        ("Towson", "Location"),
        ("DAN", "HCPName"),
        ("A", "HCPName"),
        ("FORMAN-LYONS", "HCPName"),
        ("GH", "Location"),
        ("7/22", "Date"),
        ("St", "Location"),
        ("Agnes", "Location"),
        ("410-322-1419", "Phone"),
        ("Quartermain", "Location"),
        ("98", "Age"),
    ],
)


def _skeleton(note: Note) -> str:
    """The note's text with each gold span cut out (what must never change)."""
    out, pos = [], 0
    for s in sorted(note.gold):
        out.append(note.text[pos : s.start])
        pos = s.end
    out.append(note.text[pos:])
    return "\x00".join(out)


@pytest.fixture(scope="module")
def copies() -> list[Note]:
    return augment([NOTE], variants=20, seed=3)


def test_text_outside_gold_is_kept_and_offsets_are_exact(copies: list[Note]) -> None:
    assert len(copies) == 20
    for copy in copies:
        assert _skeleton(copy) == _skeleton(NOTE)
        assert [s.entity_type for s in copy.gold] == [s.entity_type for s in NOTE.gold]
        for s in copy.gold:
            value = copy.text[s.start : s.end]
            assert value == value.strip() and value[0].isalnum() and value[-1].isalnum()


def test_values_change_and_keep_case_and_structure(copies: list[Note]) -> None:
    changed = 0
    for copy in copies:
        new = {
            NOTE.text[o.start : o.end]: copy.text[s.start : s.end]
            for o, s in zip(NOTE.gold, copy.gold, strict=True)
        }
        changed += new["Healey"] != "Healey"
        assert case_style(new["Healey"]) == "title"
        assert case_style(new["bill"]) == "lower"
        assert new["DAN"].isupper() and new["FORMAN-LYONS"].isupper()
        assert re.fullmatch(r"[A-Z]", new["A"])  # initials stay initials
        assert re.fullmatch(r"[A-Z]+(?:'[A-Z]+)?-[A-Z]+", new["FORMAN-LYONS"])
        assert re.fullmatch(r"[A-Z]{2,5}", new["GH"])  # acronyms stay acronyms
        assert new["St"] == "St"  # "St. X" keeps its saint
        assert re.fullmatch(r"\d{1,2}/\d{2}", new["8/14"])
        assert re.fullmatch(r"\d{3}-\d{3}-\d{4}", new["410-322-1419"])
        assert 90 <= int(new["98"]) <= 99
    assert changed >= 18


def test_first_names_keep_their_sex() -> None:
    note = _note(
        "Daughter Mary called; son Robert visited.",
        [("Mary", "RelativeProxyName"), ("Robert", "RelativeProxyName")],
    )
    for copy in augment([note], variants=30, seed=5):
        mary, robert = (copy.text[s.start : s.end] for s in copy.gold)
        for value, sex in ((mary, "F"), (robert, "M")):
            found = lexicons.first_name(value)
            assert found is None or found.sex in (sex, None), value


def test_augmentation_is_deterministic() -> None:
    assert augment([NOTE], 3, seed=11) == augment([NOTE], 3, seed=11)
    assert augment([NOTE], 3, seed=11) != augment([NOTE], 3, seed=12)


def test_leave_names_out_never_reuses_a_training_value() -> None:
    common = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis"]
    training = [
        _note(
            f"Dr. {name} saw pt; wife Mary in from Baltimore.",
            [(name, "HCPName"), ("Mary", "RelativeProxyName"), ("Baltimore", "Location")],
            str(i),
        )
        for i, name in enumerate(common)
    ]
    training += augment(training, variants=25, seed=2)
    exclude = gold_words(training)
    assert {"smith", "mary", "baltimore"} <= exclude
    tests = [NOTE] * 1 + training[:8]
    for seed in range(15):
        for note in leave_names_out(tests, exclude, seed=seed):
            for s in note.gold:
                if s.entity_type in ("Date", "Phone", "Age"):
                    continue
                for word in re.findall(r"[A-Za-z']+", note.text[s.start : s.end]):
                    key = lexicons.name_key(word)
                    if len(key) >= 2 and key not in ("st", "saint"):
                        assert key not in exclude, word


def test_notes_without_gold_are_not_copied() -> None:
    plain = Note("2", "p2", "No PHI here.")
    assert augment([plain], variants=3) == []
    assert leave_names_out([plain], frozenset()) == [plain]
