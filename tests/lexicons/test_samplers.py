"""Samplers: deterministic given the generator, weighted by frequency, filters kept."""

from __future__ import annotations

import random

import pytest

from deid import lexicons


def _draws(seed: int) -> list[object]:
    rng = random.Random(seed)
    return [
        lexicons.sample_first_name(rng, "F"),
        lexicons.sample_first_name(rng, "M"),
        lexicons.sample_surname(rng),
        lexicons.sample_us_city(rng, population_near=10_000, state="MD"),
        lexicons.sample_foreign_city(rng),
        lexicons.sample_us_county(rng),
        lexicons.sample_hospital(rng),
    ]


def test_same_seed_same_draws() -> None:
    assert _draws(7) == _draws(7)
    assert _draws(7) != _draws(8)


def test_first_names_keep_the_requested_sex() -> None:
    rng = random.Random(1)
    for _ in range(300):
        assert lexicons.first_names()[lexicons.sample_first_name(rng, "F")].sex == "F"
        assert lexicons.first_names()[lexicons.sample_first_name(rng, "M")].sex == "M"


def test_draws_follow_frequency() -> None:
    rng = random.Random(2)
    draws = [lexicons.sample_surname(rng) for _ in range(4_000)]
    surnames = lexicons.surnames()
    top = sum(s.people for s in surnames.values() if s.rank <= 100)
    share = top / sum(s.people for s in surnames.values())
    drawn = sum(surnames[w].rank <= 100 for w in draws) / len(draws)
    assert abs(drawn - share) < 0.03  # ~0.16 either way; a uniform draw would give ~0.0006


def test_us_cities_near_a_size_and_in_a_state() -> None:
    rng = random.Random(3)
    for _ in range(200):
        city = lexicons.sample_us_city(rng, population_near=20_000, state="OH")
        assert city.state == "OH" and city.population is not None
        assert 10_000 <= city.population <= 40_000
        assert city.source == "geonames"


def test_a_metropolis_gets_a_large_city() -> None:
    rng = random.Random(4)
    city = lexicons.sample_us_city(rng, population_near=8_000_000)
    assert city.population is not None and city.population > 1_000_000


@pytest.mark.parametrize(("near", "state"), [(None, None), (3_000, "MA"), (8_000_000, "NY")])
def test_city_name_sampler_draws_what_sample_us_city_draws(
    near: int | None, state: str | None
) -> None:
    sampler = lexicons.us_city_name_sampler(population_near=near, state=state)
    a, b = random.Random(7), random.Random(7)
    names = [sampler(b) for _ in range(50)]
    assert names == [
        lexicons.sample_us_city(a, population_near=near, state=state).name for _ in range(50)
    ]
    assert len(set(names)) > 5
