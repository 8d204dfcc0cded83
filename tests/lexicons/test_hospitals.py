"""Hospital lexicons: CMS names with derived patterns, short forms and vocabulary."""

from __future__ import annotations

from deid import lexicons
from deid.lexicons import analyse_hospital_name


def _forms(name: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for form, kind in analyse_hospital_name(name).short_forms:
        out.setdefault(kind, set()).add(form)
    return out


def test_a_name_without_its_generic_tail_is_a_short_form() -> None:
    parsed = analyse_hospital_name("JOHNS HOPKINS HOSPITAL")
    assert parsed.template == "{X} Hospital" and parsed.pattern == "x_hospital"
    forms = _forms("JOHNS HOPKINS HOSPITAL")
    assert "Johns Hopkins" in forms["base"] and "JHH" in forms["acronym"]


def test_saints_get_their_apostrophe_and_every_spelling() -> None:
    parsed = analyse_hospital_name(
        "ST LUKES MAGIC VALLEY MEDICAL CENTER",
        is_first_name=lambda w: lexicons.first_name(w) is not None,
    )
    assert parsed.display == "St. Luke's Magic Valley Medical Center"
    assert parsed.template == "Saint {X} Medical Center" and parsed.pattern == "saint_x"
    forms = {f for f, _ in parsed.short_forms}
    assert {
        "St. Luke's",
        "Saint Luke's Magic Valley",
        "St Luke's Magic Valley Medical Center",
    } <= forms


def test_patterns_of_common_shapes() -> None:
    words = lexicons.hospital_word_kinds()
    cases = {
        "UNIVERSITY OF MARYLAND MEDICAL CENTER": (
            "University of {X} Medical Center",
            "university_of_x",
        ),
        "MCCURTAIN MEMORIAL HOSPITAL": ("{X} Memorial Hospital", "x_memorial"),
        "JACKSON GENERAL HOSPITAL": ("{X} General Hospital", "x_general"),
        "SALEM VA MEDICAL CENTER": ("{X} VA Medical Center", "va"),
        "KAISER FOUNDATION HOSPITAL - WEST LA": ("{X} Foundation Hospital", "x_hospital"),
    }
    for name, (template, pattern) in cases.items():
        parsed = analyse_hospital_name(name, words)
        assert (parsed.template, parsed.pattern) == (template, pattern), name
    assert (
        analyse_hospital_name("KAISER FOUNDATION HOSPITAL - WEST LA", words).qualifier == "WEST LA"
    )


def test_cms_short_forms_are_derived_for_real_hospitals() -> None:
    forms = lexicons.hospital_forms()
    gbmc = forms["gbmc"]
    assert any(
        f.kind == "acronym"
        and lexicons.hospitals()[f.hospital_id - 1].name == "GREATER BALTIMORE MEDICAL CENTER"
        for f in gbmc
    )
    assert any(f.kind == "hyphen_part" for f in forms["cedars"])
    assert any(f.kind == "acronym_in_name" for f in forms["upmc"])
    # "Mt. Sinai", "Mount Sinai" and "Mt Sinai" share one key
    sinai = lexicons.hospitals_by_name()[lexicons.place_key("Mt. Sinai")]
    assert {h.state for h in sinai} >= {"NY", "FL", "IL"}


def test_every_hospital_has_a_template_and_a_city() -> None:
    hospitals = lexicons.hospitals()
    assert len(hospitals) == 5_381
    assert all(h.template and h.pattern and h.city and len(h.state) == 2 for h in hospitals)
    assert all(hospitals[h.id - 1] is h for h in hospitals)
    assert sum(h.pattern != "other" for h in hospitals) / len(hospitals) > 0.9


def test_hospital_words_have_kinds_and_counts() -> None:
    words = lexicons.hospital_words()
    assert words["memorial"].kind == "qualifier" and words["memorial"].hospitals > 400
    assert words["hospital"].kind == "institution"
    assert words["saint"].kind == "religious"
    assert "jackson" not in words
