"""The Deidentifier end to end, with injected spans (deid.anonymization.deidentifier)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from deid.anonymization.deidentifier import Deidentifier, deidentify_jsonl, phi_counts
from deid.anonymization.surrogates.dates import REF_YEAR, parse_date
from deid.config import DeidConfig
from deid.spans import Span
from tests.deid.anonymization.helpers import KEY, OTHER_KEY, make_deid, mark, replaced

NOTE = (
    "Pt seen by Dr. John HEALEY on 7/22/2019. Wife mary called from 617-555-0134. "
    "MRN 00412-A7. 92 yo, ZIP 02114. Transferred from Kernan Hospital. MI 1992. "
    "Seen again July 29, 2019."
)
ITEMS = (
    ("John HEALEY", "PERSON"), ("7/22/2019", "DATE"), ("mary", "PERSON"),
    ("617-555-0134", "PHONE_NUMBER"), ("00412-A7", "MRN"), ("92", "AGE"), ("02114", "ZIP_CODE"),
    ("Kernan Hospital", "HOSPITAL"), ("1992", "DATE"), ("July 29, 2019", "DATE"),
)  # fmt: skip
ORIGINALS = [value for value, _ in ITEMS]


def _deid_note(deid: Deidentifier, patient: str = "p1", text: str = NOTE):  # type: ignore[no-untyped-def]
    return deid.deidentify(text, patient, mark(text, *ITEMS))


def test_replaces_every_identifier_and_keeps_the_rest(deid: Deidentifier) -> None:
    result = _deid_note(deid)
    assert result.policy == "safe_harbor"
    news = [replaced(result, i) for i in range(len(ITEMS))]
    for (original, _), new in zip(ITEMS, news, strict=True):
        if original == "1992":
            assert new == original  # a bare year stays under Safe Harbor
        else:
            assert new != original
    assert news[5] == "90+" and news[6] == "02100"
    assert news[7].endswith(" Hospital")
    for fixed in ("Pt seen by Dr. ", "Transferred from ", " MI 1992.", "Seen again "):
        assert fixed in result.text


def test_metadata_has_offsets_types_operators_and_policy_but_no_values(deid: Deidentifier) -> None:
    result = _deid_note(deid)
    spans = mark(NOTE, *ITEMS)
    assert [(s.orig_start, s.orig_end) for s in result.spans] == [(s.start, s.end) for s in spans]
    assert [s.entity_type for s in result.spans] == [t for _, t in ITEMS]
    assert [s.operator for s in result.spans] == [
        "surrogate", "date_shift", "surrogate", "surrogate", "surrogate", "generalize",
        "generalize", "surrogate", "keep", "date_shift",
    ]  # fmt: skip
    blob = json.dumps(result.metadata())
    assert '"policy": "safe_harbor"' in blob
    for original in ORIGINALS:
        if original not in ("92", "1992"):  # digits that also occur as offsets
            assert original not in blob
    assert phi_counts(result) == {
        "AGE": 1, "DATE": 2, "HOSPITAL": 1, "MRN": 1, "PERSON": 2, "PHONE_NUMBER": 1,
        "ZIP_CODE": 1,
    }  # fmt: skip


def test_output_is_byte_identical_on_repeat_and_across_instances() -> None:
    first = _deid_note(Deidentifier(key=KEY))
    again = _deid_note(Deidentifier(key=KEY))
    assert first == again
    assert first.text.encode() == again.text.encode()


def test_same_value_same_patient_same_surrogate_across_notes(deid: Deidentifier) -> None:
    a = deid.deidentify(
        "Dr. HEALEY called.", "p1", mark("Dr. HEALEY called.", ("HEALEY", "PERSON"))
    )
    b_text = "seen by dr healey and Mr. Healey's son"
    b = deid.deidentify(b_text, "p1", mark(b_text, ("healey", "PERSON"), ("Healey's", "PERSON")))
    name = replaced(a, 0)
    assert replaced(b, 0) == name.lower()
    assert replaced(b, 1) == name.title() + "'s"
    c_text = "John Healey"
    c = deid.deidentify(c_text, "p1", mark(c_text, ("John Healey", "PERSON")))
    assert replaced(c, 0).split()[1] == name.title()


def test_other_patients_get_other_surrogates_and_offsets(deid: Deidentifier) -> None:
    ours = _deid_note(deid, "p1").text
    theirs = [_deid_note(deid, f"p{i}").text for i in range(2, 8)]
    assert all(text != ours for text in theirs)
    assert len({deid.date_offset(f"p{i}") for i in range(1, 30)}) > 15


def test_key_rotation_changes_surrogates_and_date_offset() -> None:
    old, new = Deidentifier(key=KEY), Deidentifier(key=OTHER_KEY)
    a, b = _deid_note(old), _deid_note(new)
    for i, (original, _) in enumerate(ITEMS):
        if original not in ("92", "02114", "1992"):  # policy renderings are not keyed
            assert replaced(a, i) != replaced(b, i), original
    assert old.date_offset("p1") != new.date_offset("p1")
    assert old.key_fingerprint != new.key_fingerprint


def _date_of(text: str) -> dt.date:
    parsed = parse_date(text)
    assert parsed is not None and parsed.month and parsed.day
    return dt.date(parsed.year or REF_YEAR, parsed.month, parsed.day)


def test_dates_of_a_patient_keep_their_intervals_across_notes_and_formats(
    deid: Deidentifier,
) -> None:
    first = "Admitted 7/22/2019."
    second = "Discharged on August 1st, 2019; f/u 2019-08-15."
    r1 = deid.deidentify(first, "p9", mark(first, ("7/22/2019", "DATE")))
    r2 = deid.deidentify(
        second, "p9", mark(second, ("August 1st, 2019", "DATE"), ("2019-08-15", "DATE"))
    )
    admitted, discharged, follow_up = (
        _date_of(replaced(r1, 0)), _date_of(replaced(r2, 0)), _date_of(replaced(r2, 1)),
    )  # fmt: skip
    assert (discharged - admitted).days == 10
    assert (follow_up - admitted).days == 24
    assert (admitted - dt.date(2019, 7, 22)).days == deid.date_offset("p9")
    assert re.fullmatch(r"[A-Z][a-z]+ \d{1,2}(st|nd|rd|th), \d{4}", replaced(r2, 0))


def test_safe_harbor_keeps_ages_up_to_89(deid: Deidentifier) -> None:
    text = "45 yo man; father died at 95"
    result = deid.deidentify(text, "p1", mark(text, ("45", "AGE"), ("95", "AGE")))
    assert result.text == "45 yo man; father died at 90+"
    assert [s.operator for s in result.spans] == ["keep", "generalize"]
    assert phi_counts(result) == {"AGE": 1}
    assert result.spans[0].start == 0 and result.spans[1].end == len(result.text)


def test_strict_policy_redacts_every_date_element_and_age() -> None:
    deid = make_deid(policy="strict")
    text = "45 yo, MI 1992, seen 7/22 and in July; ZIP 02114"
    spans = mark(
        text, ("45", "AGE"), ("1992", "DATE"), ("7/22", "DATE"), ("July", "DATE"),
        ("02114", "ZIP_CODE"),
    )  # fmt: skip
    result = deid.deidentify(text, "p1", spans)
    assert result.text == "[AGE] yo, MI [DATE], seen [DATE] and in [DATE]; ZIP 02100"
    assert result.policy == "strict"


def test_modes_per_entity_type() -> None:
    deid = make_deid(default_mode="tag", modes={"PHONE_NUMBER": "mask", "PERSON": "surrogate"})
    text = "Call HEALEY at 617-555-0134 on 7/22"
    spans = mark(text, ("HEALEY", "PERSON"), ("617-555-0134", "PHONE_NUMBER"), ("7/22", "DATE"))
    result = deid.deidentify(text, "p1", spans)
    name = replaced(result, 0)
    assert result.text == f"Call {name} at ***-***-**** on [DATE]"
    assert name.isupper() and name != "HEALEY"
    assert [s.operator for s in result.spans] == ["surrogate", "mask", "tag"]
    masked = make_deid(default_mode="mask", mask_char="#").deidentify(text, "p1", spans)
    assert masked.text == "Call ###### at ###-###-#### on #/##"


def test_overlapping_injected_spans_are_merged(deid: Deidentifier) -> None:
    text = "Dr. John Healey"
    spans = [Span(4, 8, "PERSON", 0.9), Span(4, 15, "PERSON", 0.8), Span(9, 15, "PERSON", 0.7)]
    result = deid.deidentify(text, "p1", spans)
    assert len(result.spans) == 1 and (result.spans[0].orig_start, result.spans[0].orig_end) == (
        4,
        15,
    )
    assert "John" not in result.text and "Healey" not in result.text


def test_span_beyond_text_is_an_error_without_text(deid: Deidentifier) -> None:
    with pytest.raises(ValueError) as err:
        deid.deidentify("secret-ish", "p1", [Span(0, 50, "PERSON")])
    assert "secret-ish" not in str(err.value)


def test_no_spans_returns_text_unchanged(deid: Deidentifier) -> None:
    result = deid.deidentify("nothing here", "p1", [])
    assert result.text == "nothing here" and result.spans == ()


def test_output_never_contains_a_real_value_of_another_patient(deid: Deidentifier) -> None:
    notes = {
        "p1": ("Dr. Healey saw Vasquez at Kernan", ("Healey", "Vasquez", "Kernan")),
        "p2": ("Dr. Rizzo saw Souza at Calvert", ("Rizzo", "Souza", "Calvert")),
    }
    outputs = {}
    for patient, (text, values) in notes.items():
        kinds = ("PERSON", "PERSON", "HOSPITAL")
        outputs[patient] = deid.deidentify(
            text, patient, mark(text, *zip(values, kinds, strict=True))
        ).text
    for values in (v for _, v in notes.values()):
        for out in outputs.values():
            assert not any(value.casefold() in out.casefold() for value in values)


class _FakeDetector:
    """Detects 'Healey' as PERSON; records how it was called."""

    def __init__(self) -> None:
        self.calls: list[int] = []  # batch_size of each detect_batch call

    def detect(self, text: str) -> list[Span]:
        return next(self.detect_batch([text]))

    def detect_batch(self, texts: Iterable[str], batch_size: int = 64) -> Iterator[list[Span]]:
        self.calls.append(batch_size)
        for text in texts:  # lazily, one at a time, as the real one streams
            i = text.find("Healey")
            yield [Span(i, i + 6, "PERSON")] if i >= 0 else []


def test_batch_streams_through_one_detection_call_and_keeps_order() -> None:
    detector = _FakeDetector()
    deid = Deidentifier(key=KEY, detector=detector)  # type: ignore[arg-type]
    records = [(f"note {i} by Healey", f"p{i % 2}") for i in range(5)]
    consumed = []

    def stream() -> Iterator[tuple[str, str]]:
        for record in records:
            consumed.append(record)
            yield record

    it = deid.deidentify_batch(stream(), batch_size=2)
    first = next(it)
    assert len(consumed) == 1  # no read-ahead beyond what detection asks for
    results = [first, *it]
    assert detector.calls == [2]  # one call (one memory zone per 2,048 notes), spaCy batches of 2
    assert [r.text.split(" by ")[0] for r in results] == [f"note {i}" for i in range(5)]
    assert all("Healey" not in r.text for r in results)
    assert results[0].text.split(" by ")[1] == results[2].text.split(" by ")[1]  # same patient
    single = deid.deidentify("note 0 by Healey", "p0")
    assert single == results[0]


def test_batch_with_given_spans() -> None:
    deid = Deidentifier(key=KEY)
    texts = ["Healey", "Rizzo"]
    spans = [[Span(0, 6, "PERSON")], [Span(0, 5, "PERSON")]]
    results = list(deid.deidentify_batch([(t, "p1") for t in texts], spans=spans))
    assert [r.text for r in results] == [
        deid.deidentify(t, "p1", s).text for t, s in zip(texts, spans, strict=True)
    ]


def test_deidentify_jsonl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEIDFLOW_KEY", "jsonl-test-key-0123456789")
    monkeypatch.setattr(
        "deid.anonymization.deidentifier.Deidentifier.detector",
        property(lambda self: _FakeDetector()),
    )
    src = tmp_path / "notes.jsonl"
    rows = [
        {"note_id": "n2", "patient_id": 7, "text": "Seen by Healey."},
        {"note_id": "n1", "patient_id": "8", "text": "No PHI here. Ünïcode ok."},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert deidentify_jsonl(src, out) == 2
    lines = out.read_text(encoding="utf-8").splitlines()
    objs = [json.loads(line) for line in lines]
    assert [list(o) for o in objs] == [["note_id", "text"], ["note_id", "text"]]
    assert [o["note_id"] for o in objs] == ["n2", "n1"]
    assert "Healey" not in objs[0]["text"] and objs[0]["text"].startswith("Seen by ")
    assert objs[1]["text"] == rows[1]["text"]
    again = tmp_path / "again.jsonl"
    deidentify_jsonl(src, again, DeidConfig())
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.parametrize(
    ("line", "message"),
    [("not json", "bad.jsonl:1: not valid JSON"), ('["a"]', "bad.jsonl:1: expected a JSON object"),
     ('{"note_id": "n", "text": "secret text"}', "bad.jsonl:1: missing field 'patient_id'"),
     # A null or blank patient is not the patient "None": its notes would share surrogates.
     ('{"note_id": "n", "patient_id": null, "text": "secret text"}', "bad.jsonl:1: field 'patient_id' is null"),
     ('{"note_id": "n", "patient_id": " ", "text": "secret text"}', "bad.jsonl:1: field 'patient_id' is null"),
     ('{"note_id": "n", "patient_id": [1], "text": "secret text"}', "bad.jsonl:1: field 'patient_id' is null")],
)  # fmt: skip
def test_deidentify_jsonl_errors_name_lines_not_content(
    tmp_path: Path, line: str, message: str
) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as err:
        deidentify_jsonl(src, tmp_path / "out.jsonl", key=KEY)
    assert message in str(err.value) and "secret text" not in str(err.value)
    assert not (tmp_path / "out.jsonl").exists()
    assert not (tmp_path / "out.jsonl.tmp").exists()


def test_adjacent_spans_are_replaced_separately(deid: Deidentifier) -> None:
    text = "JohnSMITH0134"
    spans = [Span(0, 4, "PERSON"), Span(4, 9, "PERSON"), Span(9, 13, "ID_NUMBER")]
    result = deid.deidentify(text, "p1", spans)
    assert len(result.spans) == 3
    first, last, number = (replaced(result, i) for i in range(3))
    assert first.istitle() and last.isupper() and number.isdigit() and len(number) == 4
    assert result.text == first + last + number


@pytest.mark.parametrize(
    "settings",
    [{"mask_char": "x"}, {"mask_char": "**"}, {"date_shift_days": (-20, -1)},
     {"surrogate_cache_size": -1}, {"unknown_option": 1}],
)  # fmt: skip
def test_anonymization_config_is_validated(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_deid(**settings)


def test_a_range_without_usable_offsets_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="no usable offset"):
        make_deid(date_shift_days=(365, 366))


def test_bare_years_can_be_shifted_instead_of_kept() -> None:
    deid = make_deid(keep_bare_years=False)
    text = "MI 1992, CABG '04, 1980s"
    spans = mark(text, ("1992", "DATE"), ("'04", "DATE"), ("1980s", "DATE"))
    result = deid.deidentify(text, "p1", spans)
    assert result.text == "MI 1991, CABG '03, 1970s"  # default offsets are under a year back
    assert [s.operator for s in result.spans] == ["date_shift"] * 3
