"""Per-entity surrogate generators and the keyed surrogate source (deid.anonymization.surrogates)."""

from __future__ import annotations

import re

import pytest

from deid import lexicons
from deid.anonymization.surrogates import Draw, SurrogateSource
from deid.anonymization.surrogates.names import normalize_name, person_surrogate
from deid.anonymization.surrogates.places import place_surrogate, street_address_surrogate
from deid.anonymization.surrogates.source import AvoidSet
from deid.entities import ENTITY_NAMES, entity
from tests.deid.anonymization.helpers import KEY, OTHER_KEY
from tests.timing import assert_costs_like_benign

FIRST_NAMES = lexicons.first_names()
LAST_NAMES = lexicons.surnames()

SAMPLES = {
    "PERSON": "John Healey",
    "HOSPITAL": "Kernan Hospital",
    "LOCATION": "Catonsville",
    "STREET_ADDRESS": "12 Beacon Street",
    "ZIP_CODE": "02114",
    "DATE": "7/22/2019",
    "AGE": "92",
    "PHONE_NUMBER": "(617) 555-0134",
    "FAX_NUMBER": "617-555-0199",
    "EMAIL_ADDRESS": "j.healey@mgh.harvard.edu",
    "US_SSN": "123-45-6789",
    "MRN": "MR-00412",
    "HEALTH_PLAN_ID": "XQH123456789",
    "ACCOUNT_NUMBER": "ACCT 0099812",
    "LICENSE_NUMBER": "DEA BH1234563",
    "VEHICLE_ID": "1HGCM82633A004352",
    "DEVICE_ID": "SN-44-A9-1187",
    "URL": "https://www.healeyclinic.org/patients",
    "IP_ADDRESS": "192.168.14.7",
    "ID_NUMBER": "8336652",
}


def surrogate_for(entity_type: str, text: str, draw: Draw) -> str:
    """The entity's own surrogate (``EntityType.surrogate``)."""
    return entity(entity_type).surrogate(text, draw)


def _shape(text: str) -> str:
    return re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", text)))


def test_every_entity_type_has_a_sample() -> None:
    assert set(SAMPLES) == set(ENTITY_NAMES)


@pytest.mark.parametrize("entity_type", sorted(SAMPLES))
def test_surrogate_for_every_entity_type(entity_type: str, source: SurrogateSource) -> None:
    original = SAMPLES[entity_type]
    new = surrogate_for(entity_type, original, source.for_patient("p1"))
    assert new and new.casefold() != original.casefold()
    # consistent: a fresh source with the same key gives the same surrogate
    assert new == surrogate_for(entity_type, original, SurrogateSource(KEY).for_patient("p1"))
    # keyed: another key (or patient) gives another one
    assert new != surrogate_for(entity_type, original, SurrogateSource(OTHER_KEY).for_patient("p1"))


@pytest.mark.parametrize(
    "entity_type",
    ["MRN", "HEALTH_PLAN_ID", "ACCOUNT_NUMBER", "LICENSE_NUMBER", "VEHICLE_ID", "DEVICE_ID",
     "ID_NUMBER", "PHONE_NUMBER", "FAX_NUMBER", "US_SSN", "ZIP_CODE"],
)  # fmt: skip
def test_codes_and_numbers_keep_length_and_character_classes(
    entity_type: str, source: SurrogateSource
) -> None:
    original = SAMPLES[entity_type]
    new = surrogate_for(entity_type, original, source.for_patient("p1"))
    assert _shape(new) == _shape(original)


@pytest.mark.parametrize(
    "phone",
    ["(617) 555-0134", "617-555-0134", "617.555.0134", "1-617-555-0134", "555-0134", "x83554",
     "(240444-1243)", "301 944-5032"],
)  # fmt: skip
def test_phone_numbers_keep_their_format(phone: str, source: SurrogateSource) -> None:
    new = surrogate_for("PHONE_NUMBER", phone, source.for_patient("p1"))
    assert _shape(new) == _shape(phone) and new != phone
    digits = re.sub(r"\D", "", new)
    if len(digits) == 10:
        assert digits[0] in "23456789" and digits[3] in "23456789"
    if len(digits) == 11:
        assert digits[0] == "1" and digits[1] in "23456789"


def test_codes_are_keyed_on_their_characters(source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    dashed = surrogate_for("US_SSN", "123-45-6789", draw)
    plain = surrogate_for("US_SSN", "123456789", draw)
    assert dashed.replace("-", "") == plain
    assert not dashed.startswith(("000", "666", "9"))
    assert surrogate_for("MRN", "ab12", draw) == surrogate_for("MRN", "AB12", draw).lower()


def test_email_url_ip_are_synthetic(source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    email = surrogate_for("EMAIL_ADDRESS", SAMPLES["EMAIL_ADDRESS"], draw)
    assert re.fullmatch(r"[\w.]+@[\w-]+\.example\.(com|org|net)", email)
    url = surrogate_for("URL", SAMPLES["URL"], draw)
    assert re.match(r"https://www\.[\w-]+\.example\.(com|org|net)/", url)
    ip = surrogate_for("IP_ADDRESS", "192.168.14.7", draw)
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", ip) and ip != "192.168.14.7"
    assert ":" in surrogate_for("IP_ADDRESS", "fe80::1ff:fe23:4567:890a", draw)


# --- names ------------------------------------------------------------------------------
def test_name_case_style_is_kept_and_variants_agree(source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    upper = person_surrogate("HEALEY", draw)
    assert upper.isupper()
    assert person_surrogate("healey", draw) == upper.lower()
    assert person_surrogate("Healey", draw) == upper.title()
    assert upper.casefold() != "healey"


def test_titles_and_possessives_are_normalized_away(source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    smith = person_surrogate("Smith", draw)
    assert person_surrogate("Mr. Smith", draw) == f"Mr. {smith}"
    assert person_surrogate("SMITH", draw) == smith.upper()
    assert person_surrogate("Dr. Smith's", draw) == f"Dr. {smith}'s"
    assert normalize_name("Mr. SMITH's") == "smith"


def test_first_and_last_names_keep_their_roles(source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    full = person_surrogate("John Smith", draw)
    first, last = full.split()
    assert first.casefold() in FIRST_NAMES and last.casefold() in LAST_NAMES
    assert person_surrogate("Smith", draw) == last  # a later "Smith" agrees
    assert person_surrogate("Smith, John", draw) == f"{last}, {first}"
    assert person_surrogate("Mary", draw).casefold() in FIRST_NAMES  # known first name
    assert person_surrogate("Dr. Mary", draw).split()[1].casefold() in LAST_NAMES  # title: surname


def test_initials_stay_initials(source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    new = person_surrogate("J. Smith", draw)
    assert re.fullmatch(r"[A-Z]\. [A-Z][a-z]+", new) and not new.startswith("J.")
    assert (
        re.fullmatch(r"[a-z]", person_surrogate("j", draw)) and person_surrogate("j", draw) != "j"
    )
    assert person_surrogate("S.", draw) != "S."


def test_names_differ_between_patients(source: SurrogateSource) -> None:
    names = {person_surrogate("Healey", source.for_patient(f"p{i}")) for i in range(20)}
    assert len(names) > 10


# --- places -----------------------------------------------------------------------------
def test_hospital_keeps_generic_words_and_agrees_with_location(source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    hospital = place_surrogate("Kernan Hospital", draw)
    word, rest = hospital.split(" ", 1)
    assert rest == "Hospital" and word != "Kernan"
    assert place_surrogate("KERNAN", draw) == word.upper()
    # The frame stays ("St." as written, "Medical Center"); the saint is another saint.
    named = place_surrogate("St. Elsewhere Medical Center", draw)
    assert named.startswith("St. ") and named.endswith(" Medical Center")
    assert "Elsewhere" not in named and named.split()[1].casefold() in FIRST_NAMES


def test_acronyms_states_and_countries(source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    gh = place_surrogate("GH", draw)
    assert re.fullmatch(r"[A-Z]{2}", gh) and gh != "GH"
    assert place_surrogate("gh", draw) == gh.lower()
    state_names = {s.name for s in lexicons.us_states().values()}
    assert place_surrogate("Massachusetts", draw) in state_names - {"Massachusetts"}
    # A state beside a city is kept (Safe Harbor allows states); the city is a real one there.
    city, state = place_surrogate("Boston, MA", draw).split(", ")
    assert city != "Boston" and state == "MA"
    assert any(p.state == "MA" for p in lexicons.us_places()[lexicons.place_key(city)])
    country = place_surrogate("France", draw)
    assert country != "France" and lexicons.place_key(country) in lexicons.countries()


def test_generic_only_place_is_still_replaced(source: SurrogateSource) -> None:
    assert place_surrogate("St", source.for_patient("p1")).casefold() != "st"


def test_street_address_keeps_layout(source: SurrogateSource) -> None:
    new = street_address_surrogate("12 Beacon Street, Apt 4", source.for_patient("p1"))
    assert re.fullmatch(r"\d\d [A-Z][a-z]+ Street, Apt \d", new)
    assert "Beacon" not in new


# --- the source -------------------------------------------------------------------------
def test_source_never_returns_the_original_or_a_superstring(source: SurrogateSource) -> None:
    calls = iter(["Robert", "ROBERTA", "Bob"])
    assert source.draw("p1", "PERSON/first", "robert", lambda fake: next(calls)) == "Bob"


def test_source_respects_the_avoid_set_without_caching_it(source: SurrogateSource) -> None:
    plain = source.draw("p1", "K", "value", lambda fake: fake.last_name())
    avoid = AvoidSet([plain[:-1], "xy"])  # short values are ignored, prefixes are not
    other = source.draw("p1", "K", "value", lambda fake: fake.last_name(), avoid)
    assert other != plain and plain[:-1].casefold() not in other.casefold()
    assert source.draw("p1", "K", "value", lambda fake: fake.last_name()) == plain
    assert "values" in repr(avoid) and plain not in repr(avoid)


def test_source_repr_hides_the_key(source: SurrogateSource) -> None:
    assert "unit-test-key" not in repr(source)


def test_cache_is_bounded(source: SurrogateSource) -> None:
    small = SurrogateSource(KEY, cache_size=5)
    for i in range(20):
        small.draw("p1", "K", f"v{i}", lambda fake: fake.last_name())
    assert "cached=5" in repr(small)


@pytest.mark.parametrize(
    "hostile", ["Aa " * 30_000, "a'" * 50_000, "1" * 100_000, "Dr. " * 25_000, "-," * 50_000]
)
def test_name_and_place_tokenizers_are_linear(hostile: str, source: SurrogateSource) -> None:
    draw = source.for_patient("p1")
    assert_costs_like_benign(
        lambda t: (person_surrogate(t, draw), place_surrogate(t, draw)), hostile
    )
