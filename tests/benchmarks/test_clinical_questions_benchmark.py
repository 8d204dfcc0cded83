"""Smoke test of benchmarks/clinical_questions.py on a handful of questions, and of its
leak arithmetic on hand-made cases.  No timing asserts."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType

import pytest

from deid.anonymization.deidentifier import DeidResult
from deid.evaluation.corpora import Note
from deid.spans import Span
from sample_data.generate import iter_questions
from tests.paths import REPO

N = 16
SEED = 5


def _load_script() -> ModuleType:
    path = REPO / "benchmarks" / "clinical_questions.py"
    spec = importlib.util.spec_from_file_location("clinical_questions", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_script()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench") / "questions.json"
    capture = tmp_path_factory.mktemp("stdout") / "stdout.txt"
    import contextlib

    with capture.open("w") as fh, contextlib.redirect_stdout(fh):
        assert bench.main(["--n", str(N), "--seed", str(SEED), "--json", str(out)]) == 0
    return json.loads(out.read_text()), capture.read_text()


def _gold_values() -> set[str]:
    return {q["text"][s["start"] : s["end"]] for q in iter_questions(N, SEED) for s in q["spans"]}


def test_counts_add_up(run: tuple[dict, str]) -> None:
    result, _ = run
    questions = list(iter_questions(N, SEED))
    q = result["questions"]
    assert q["total"] == N and q["with_phi"] + q["phi_free"] == N
    assert q["phi_free"] == sum(not x["spans"] for x in questions)
    leak = result["leak"]
    assert leak["gold_values"] == sum(len(x["spans"]) for x in questions)
    assert leak["leaked"] == sum(row["leaked"] for row in leak["by_category"].values())
    assert 0 <= leak["leaked"] <= leak["gold_values"]
    assert result["detection"]["counts"]["gold_spans"] == leak["gold_values"]
    assert 0 <= result["phi_free"]["unchanged"] <= result["phi_free"]["total"] == q["phi_free"]
    assert sum(c["questions"] for c in result["by_case"].values()) == N
    assert sum(r["count"] for r in result["leak_shapes"]) == leak["leaked"]


def test_result_records_what_was_measured(run: tuple[dict, str]) -> None:
    result, printed = run
    assert result["settings"]["mode"] == "surrogate"
    assert result["settings"]["policy"] == "safe_harbor"
    assert result["settings"]["key_fingerprint"] == bench.BENCHMARK_KEY.fingerprint()
    assert f"seed={SEED}" in result["settings"]["source"]
    assert set(result["timing"]) >= {"load_s", "detect_s", "anonymize_s", "notes_per_s"}
    assert set(result["targets"]) == {
        "max_leak_share", "min_phi_free_unchanged", "leak_met", "phi_free_met"
    }  # fmt: skip
    assert "PHI values leaked verbatim" in printed and "PHI-free questions unchanged" in printed


def test_no_phi_value_in_json_or_table(run: tuple[dict, str]) -> None:
    result, printed = run
    dumped = json.dumps(result)
    values = [v for v in _gold_values() if len(v) >= 4]
    assert values
    assert not [v for v in values if v in dumped]
    assert not [v for v in values if v in printed]


def test_show_misses_prints_leaked_values(capsys: pytest.CaptureFixture[str]) -> None:
    note = Note("q1", "p1", "Seen at Mt. Sinai last week.", (Span(8, 17, "HOSPITAL", 1.0, "g"),))
    result = DeidResult("Seen at Mt. Sinai last week.", (), "safe_harbor")
    bench.show_misses([note], [result])
    assert "'Mt. Sinai'" in capsys.readouterr().out


# --- the leak arithmetic -----------------------------------------------------------------


def _note(text: str, *values: tuple[str, str]) -> Note:
    spans = []
    for value, label in values:
        start = text.index(value)
        spans.append(Span(start, start + len(value), label, 1.0, "gold"))
    return Note("n", "p", text, tuple(sorted(spans)))


def test_a_value_left_in_the_output_leaks_and_a_replaced_one_does_not() -> None:
    note = _note("Ann Lee was seen at UCSF.", ("Ann Lee", "PERSON"), ("UCSF", "HOSPITAL"))
    leaked = bench.leaked_spans(note, "Mary Fox was seen at UCSF.")
    assert [g.entity_type for g in leaked] == ["HOSPITAL"]


def test_a_value_inside_a_longer_word_of_the_output_does_not_leak() -> None:
    note = _note("Ann called.", ("Ann", "PERSON"))
    assert bench.leaked_spans(note, "Annette called about her annual visit.") == []


def test_a_value_glued_to_a_letter_leaks_when_left_glued() -> None:
    note = _note("Mother 94F fell.", ("94", "AGE"))
    assert [g.entity_type for g in bench.leaked_spans(note, "Mother 94F fell.")] == ["AGE"]
    assert bench.leaked_spans(note, "Mother 87F fell.") == []


def test_safe_harbors_90_plus_is_no_leak_of_an_age_of_90() -> None:
    note = _note("Dad (90 yo) fell.", ("90", "AGE"))
    assert bench.leaked_spans(note, "Dad (90+ yo) fell.") == []
    assert [g.entity_type for g in bench.leaked_spans(note, "Dad (90 yo) fell.")] == ["AGE"]
    note = _note("Dad (93 yo) fell.", ("93", "AGE"))
    assert bench.leaked_spans(note, "Dad (90+ yo) fell.") == []


def test_a_value_that_also_occurs_outside_gold_is_not_counted() -> None:
    # "May" is a name here and a month elsewhere in the same question.
    note = _note("May asked if May is too late.", ("May", "PERSON"))
    assert bench.leaked_spans(note, "Kim asked if May is too late.") == []


def test_value_shape_hides_the_characters() -> None:
    assert bench.value_shape("Mt. Sinai") == "Xx. Xxxxx"
    assert bench.value_shape("Springfield") == "Xxxxx"
    assert bench.value_shape("987-65-4321") == "999-99-9999"
    assert bench.value_shape("HMO-234567") == "XXX-999999"


def test_word_before_marks_phi_neighbours() -> None:
    note = _note("at Mt. Sinai last week", ("Mt. Sinai", "HOSPITAL"), ("last week", "DATE"))
    hospital, date = note.gold
    assert bench.word_before(note, hospital) == "at"
    assert bench.word_before(note, date) == "<PHI>"
    # A word that is partly PHI ("Ford," after a street named "Elm Ford") is PHI too.
    note = _note("at 12 Elm Ford, Salem", ("12 Elm Ford", "STREET_ADDRESS"), ("Salem", "LOCATION"))
    assert bench.word_before(note, note.gold[1]) == "<PHI>"
