"""Place lexicons: US places with state, county and size; counties; states; ZIPs."""

from __future__ import annotations

from deid import lexicons


def test_small_us_places_are_there_with_state_county_and_population() -> None:
    places = lexicons.us_places()["white marsh"]
    md = next(p for p in places if p.state == "MD")
    assert md.name == "White Marsh" and md.county == "Baltimore County"
    assert md.population is not None and 5_000 < md.population < 20_000
    assert md.source == "geonames"


def test_place_keys_spell_saints_and_mounts_alike() -> None:
    assert lexicons.place_key("St. Louis") == lexicons.place_key("SAINT LOUIS") == "saint louis"
    assert lexicons.place_key("Mt. Shasta") == "mount shasta"
    assert lexicons.place_key("Winston-Salem") == "winston salem"
    louis = lexicons.us_places()[lexicons.place_key("St Louis")]
    assert any(p.state == "MO" and (p.population or 0) > 250_000 for p in louis)


def test_zip_local_names_are_places_too() -> None:
    sources = {p.source for ps in lexicons.us_places().values() for p in ps}
    assert sources == {"geonames", "zip_city", "zip_alias", "zip_local"}


def test_counties_are_found_by_full_name_and_base() -> None:
    full = lexicons.us_counties()["baltimore county"]
    assert [(c.name, c.state) for c in full] == [("Baltimore County", "MD")]
    assert {c.name for c in lexicons.us_counties()["baltimore"]} == {
        "Baltimore County",
        "Baltimore city",
    }


def test_states_by_name_or_code() -> None:
    assert lexicons.us_state("Maryland") == lexicons.us_state("md")
    md = lexicons.us_state("MD")
    assert md is not None and md.name == "Maryland"
    assert len(lexicons.us_states()) == 51


def test_foreign_cities_and_countries() -> None:
    (rome,) = [c for c in lexicons.foreign_cities()["rome"] if c.country == "IT"]
    assert rome.population > 1_000_000
    assert all(c.population >= 15_000 for cs in lexicons.foreign_cities().values() for c in cs)
    assert lexicons.countries()["germany"].iso == "DE"


def test_zip_codes_give_city_state_county() -> None:
    z = lexicons.zip_codes()["21162"]
    assert (z.city, z.state, z.county, z.active) == ("White Marsh", "MD", "Baltimore County", True)
