"""Surrogates that hide in plain sight: real names of the original's sex, real places,
hospitals that keep their frame -- and nothing written that no lexicon holds."""

from __future__ import annotations

import importlib.util
import re
import sys
from types import ModuleType

import pytest

from deid import lexicons
from deid.anonymization.surrogates import NoteContext, SurrogateSource
from deid.anonymization.surrogates.names import person_surrogate
from deid.anonymization.surrogates.places import (
    hospital_surrogate,
    place_surrogate,
    street_address_surrogate,
)
from deid.anonymization.surrogates.vocabulary import MEDICAL_ABBREVIATIONS
from tests.deid.anonymization.helpers import KEY, OTHER_KEY, make_deid, mark, replaced
from tests.paths import REPO

FEMALE = ["Mary", "Patricia", "Jennifer", "Agnes", "Linda", "Barbara", "Susan", "Margaret"]
MALE = ["Robert", "John", "Michael", "James", "William", "David", "Thomas", "Edward"]


def _load_benchmark() -> ModuleType:
    path = REPO / "benchmarks" / "plain_sight.py"
    spec = importlib.util.spec_from_file_location("plain_sight", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("plain_sight", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def _sex(word: str) -> str | None:
    record = lexicons.first_name(word)
    return record.sex if record is not None else None


@pytest.mark.parametrize("patient", [f"p{i}" for i in range(5)])
def test_given_names_keep_a_clear_sex(patient: str, source: SurrogateSource) -> None:
    draw = source.for_patient(patient)
    for name in FEMALE:
        first, last = person_surrogate(f"{name} Smith", draw).split()
        assert _sex(first) == "F" and last.casefold() in lexicons.surnames()
    for name in MALE:
        assert _sex(person_surrogate(f"{name} SMITH", draw).split()[0]) == "M"


def test_unclear_given_name_follows_the_note(source: SurrogateSource) -> None:
    assert _sex("Pat") is None  # Census: held by women and men alike
    she = source.for_patient("p1", context=NoteContext({"pat": "F"}))
    he = source.for_patient("p1", context=NoteContext({"pat": "M"}))
    assert _sex(person_surrogate("Pat Smith", she).split()[0]) == "F"
    assert _sex(person_surrogate("Pat Smith", he).split()[0]) == "M"


def test_deidentifier_reads_sex_from_pronouns_and_relations() -> None:
    deid = make_deid()
    for name in ("Pat", "Jordan", "Casey"):
        text = f"Spoke with his wife {name} today; she will call back."
        result = deid.deidentify(text, "p1", mark(text, (name, "PERSON")))
        assert _sex(replaced(result, 0)) == "F"
        text = f"Spoke with her son {name}; he will visit."
        result = deid.deidentify(text, "p1", mark(text, (name, "PERSON")))
        assert _sex(replaced(result, 0)) == "M"


def test_name_structure_is_kept(source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    assert re.fullmatch(
        r"[A-Z][A-Z]+, [A-Z][A-Z]+ [A-Z]\.", person_surrogate("SMITH, JOHN A.", draw)
    )
    assert re.fullmatch(r"O'[A-Z][a-z]+", person_surrogate("O'Brien", draw))
    assert re.fullmatch(r"Mc[A-Z][a-z]+", person_surrogate("McDonald", draw))
    hyphen = person_surrogate("Mary Smith-Jones", draw)
    assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+-[A-Z][a-z]+", hyphen)
    assert " van " in person_surrogate("Ludwig van Beethoven", draw)
    assert person_surrogate("Dr. Smith, MD", draw).startswith("Dr. ")
    assert person_surrogate("Dr. Smith, MD", draw).endswith(", MD")
    assert re.fullmatch(r"[A-Z]\.[A-Z]\.", person_surrogate("J.S.", draw))


def test_saint_and_mount_spellings_stay(source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    for original, head in (
        ("St. Mary's Hospital", "St. "),
        ("Saint Joseph Medical Center", "Saint "),
        ("ST AGNES HOSPITAL", "ST "),
        ("Mt. Sinai Hospital", "Mt. "),
    ):
        new = hospital_surrogate(original, draw)
        assert new.startswith(head) and new != original
        assert new.split()[-1] == original.split()[-1]
    assert hospital_surrogate("St. Mary's Hospital", draw).split()[1].endswith("'s")


@pytest.mark.parametrize("acronym", ["GH", "UMMC", "GBMC", "UCSF", "MGH"])
def test_acronyms_keep_their_length_and_are_no_word(acronym: str, source: SurrogateSource) -> None:
    for patient in ("p1", "p2", "p3"):
        new = hospital_surrogate(f"{acronym} Medical Center", source.for_patient(patient))
        head = new.split()[0]
        assert len(head) == len(acronym) and head.isupper() and head != acronym
        assert head.casefold() not in MEDICAL_ABBREVIATIONS
        assert not lexicons.is_ambiguous(head) and lexicons.us_state(head) is None


@pytest.mark.parametrize("state", ["MD", "CA", "TX", "VT"])
def test_city_surrogate_is_a_real_place_in_the_named_state(
    state: str, source: SurrogateSource
) -> None:
    for city in ("Springfield", "Baltimore", "Franklin", "Quartermain"):
        new_city, new_state = place_surrogate(f"{city}, {state}", source.for_patient("p1")).split(
            ", "
        )
        assert new_state == state and new_city != city
        assert any(p.state == state for p in lexicons.us_places()[lexicons.place_key(new_city)])


def test_counties_foreign_cities_and_addresses_are_real(source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    county = place_surrogate("Baltimore County", draw)
    assert county.endswith("County") and lexicons.place_key(county) in lexicons.us_counties()
    foreign = place_surrogate("Munich", draw)
    assert any(c.country == "DE" for c in lexicons.foreign_cities()[lexicons.place_key(foreign)])
    address = street_address_surrogate("45 North Elm St., Towson, MD 21204", draw)
    m = re.fullmatch(r"(\d\d) North ([A-Z][a-z]+) St\., ([A-Za-z ]+), MD (\d{5})", address)
    assert m is not None
    record = lexicons.zip_codes()[m.group(4)]
    assert record.state == "MD" and record.city.casefold() == m.group(3).casefold()


def test_a_span_that_is_no_place_gets_no_invented_town(source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    bench = _load_benchmark()
    for text in ("African American", "transfuse", "Thomas Green", "Quartermain", "QUARTERMAIN"):
        assert not bench.invented(place_surrogate(text, draw))
        assert not bench.invented(person_surrogate(text, draw))
    # A LOCATION that reads as a person's name gets a person's name.
    first, last = place_surrogate("Thomas Green", draw).split()
    assert _sex(first) == "M" and last.casefold() in lexicons.surnames()


SAMPLES = [
    ("PERSON", "John Healey"), ("PERSON", "AGNES MUNROE"), ("PERSON", "Dr. O'Connor"),
    ("PERSON", "j. mcmillan"), ("LOCATION", "Catonsville"), ("LOCATION", "Baltimore, MD"),
    ("LOCATION", "MILFORD MILL"), ("LOCATION", "Los Angeles"), ("LOCATION", "gh"),
    ("LOCATION", "Sacred"), ("HOSPITAL", "Kernan Hospital"),
    ("HOSPITAL", "St. Mary's Hospital"), ("HOSPITAL", "UCSF Medical Center"),
    ("HOSPITAL", "Johns Hopkins Bayview Medical Center"), ("HOSPITAL", "MICU"),
    ("HOSPITAL", "Ellison 11"), ("STREET_ADDRESS", "12 Beacon Street, Apt 4"),
]  # fmt: skip


def test_no_name_or_place_surrogate_writes_a_word_outside_the_lexicons() -> None:
    from deid.entities import entity

    bench = _load_benchmark()
    for patient in range(30):
        draw = SurrogateSource(KEY).for_patient(f"p{patient}")
        for entity_type, text in SAMPLES:
            new = entity(entity_type).surrogate(text, draw)
            assert not bench.invented(new), (entity_type, patient)


def test_consistent_across_notes_deterministic_keyed_and_never_the_original() -> None:
    one, two = "Seen by Dr. Healey at Kernan Hospital in Baltimore, MD.", "Healey called."
    a = make_deid().deidentify(
        one, "p1", mark(one, ("Healey", "PERSON"), ("Kernan Hospital", "HOSPITAL"),
                        ("Baltimore, MD", "LOCATION"))
    )  # fmt: skip
    b = make_deid().deidentify(two, "p1", mark(two, ("Healey", "PERSON")))
    assert replaced(a, 0) == replaced(b, 0) != "Healey"
    assert a.text == make_deid().deidentify(one, "p1", mark(one, ("Healey", "PERSON"),
        ("Kernan Hospital", "HOSPITAL"), ("Baltimore, MD", "LOCATION"))).text  # fmt: skip
    rotated = make_deid(OTHER_KEY).deidentify(two, "p1", mark(two, ("Healey", "PERSON")))
    other_patient = make_deid().deidentify(two, "p2", mark(two, ("Healey", "PERSON")))
    assert replaced(rotated, 0) != replaced(b, 0) or replaced(other_patient, 0) != replaced(b, 0)
    for i in range(3):
        assert replaced(a, i).casefold() != ["healey", "kernan hospital", "baltimore, md"][i]


def test_city_state_zip_stay_one_real_triple(source: SurrogateSource) -> None:
    new = place_surrogate("San Diego, CA 92101", source.for_patient("p1"))
    m = re.fullmatch(r"([A-Za-z ]+), CA (\d{5})", new)
    assert m is not None and m.group(2) != "92101"
    record = lexicons.zip_codes()[m.group(2)]
    assert record.state == "CA" and record.city.casefold() == m.group(1).casefold()


@pytest.mark.parametrize("text", ["0", "Ward 0", "#0 x", "7", "Zürich", "St.", "Dr."])
def test_odd_spans_get_a_different_surrogate(text: str, source: SurrogateSource) -> None:
    from deid.entities import entity

    for entity_type in ("PERSON", "LOCATION", "HOSPITAL", "STREET_ADDRESS"):
        new = entity(entity_type).surrogate(text, source.for_patient("p1"))
        assert new.casefold() != text.casefold()
