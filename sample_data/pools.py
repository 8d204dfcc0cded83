"""Word pools the generator draws from: Faker's name and address data plus a few hand lists.

Built once per process from a Faker instance with a fixed seed, so pools are identical
across processes and runs; per-note variety comes from the caller's seeded ``Random``.
None of these lists comes from the development corpus's gold annotations.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from random import Random

from faker import Faker

# Faker's en_US data is the bulk; other locales add surnames that US notes also contain.
_EXTRA_NAME_LOCALES = ("en_IE", "es_MX", "it_IT", "de_DE", "en_IN", "pt_BR", "vi_VN", "fr_FR")
_POOL_SEED = 20240601


@dataclass(frozen=True)
class Place:
    """A city/town with its state, county and a ZIP code in that state."""

    city: str
    state: str  # two-letter abbreviation
    state_name: str
    county: str
    zip_code: str


@dataclass(frozen=True)
class Pools:
    female_first: tuple[str, ...]
    male_first: tuple[str, ...]
    last: tuple[str, ...]
    street_names: tuple[str, ...]
    places: tuple[Place, ...]
    places_by_state: dict[str, tuple[Place, ...]]
    email_domains: tuple[str, ...]


# Real towns and cities (public geography), with their counties.  Places that occur in the
# development corpus are left out, so that training on these notes cannot leak into its score.
_REAL_PLACES: tuple[tuple[str, str, str], ...] = (
    ("Boston", "MA", "Suffolk"), ("Cambridge", "MA", "Middlesex"),
    ("Somerville", "MA", "Middlesex"), ("Quincy", "MA", "Norfolk"), ("Brockton", "MA", "Plymouth"),
    ("Haverhill", "MA", "Essex"), ("Worcester", "MA", "Worcester"),
    ("Framingham", "MA", "Middlesex"), ("Lynn", "MA", "Essex"), ("Salem", "MA", "Essex"),
    ("Peabody", "MA", "Essex"), ("Revere", "MA", "Suffolk"), ("Chelsea", "MA", "Suffolk"),
    ("Dorchester", "MA", "Suffolk"), ("Braintree", "MA", "Norfolk"), ("Waltham", "MA", "Middlesex"),
    ("Newton", "MA", "Middlesex"), ("Plymouth", "MA", "Plymouth"), ("Fall River", "MA", "Bristol"),
    ("New Bedford", "MA", "Bristol"), ("Springfield", "MA", "Hampden"),
    ("Pittsfield", "MA", "Berkshire"), ("Hyannis", "MA", "Barnstable"),
    ("Providence", "RI", "Providence"), ("Warwick", "RI", "Kent"), ("Nashua", "NH", "Hillsborough"),
    ("Manchester", "NH", "Hillsborough"), ("Portland", "ME", "Cumberland"),
    ("Bangor", "ME", "Penobscot"), ("Burlington", "VT", "Chittenden"),
    ("Hartford", "CT", "Hartford"), ("New Haven", "CT", "New Haven"),
    ("Stamford", "CT", "Fairfield"), ("Albany", "NY", "Albany"), ("Yonkers", "NY", "Westchester"),
    ("Brooklyn", "NY", "Kings"), ("Buffalo", "NY", "Erie"), ("Gaithersburg", "MD", "Montgomery"),
    ("Frederick", "MD", "Frederick"), ("Salisbury", "MD", "Wicomico"),
    ("Bethesda", "MD", "Montgomery"), ("Silver Spring", "MD", "Montgomery"),
    ("Philadelphia", "PA", "Philadelphia"), ("Scranton", "PA", "Lackawanna"),
    ("Newark", "NJ", "Essex"), ("Trenton", "NJ", "Mercer"), ("Richmond", "VA", "Henrico"),
    ("Norfolk", "VA", "Norfolk"), ("Raleigh", "NC", "Wake"), ("Durham", "NC", "Durham"),
    ("Atlanta", "GA", "Fulton"), ("Orlando", "FL", "Orange"), ("Tampa", "FL", "Hillsborough"),
    ("Miami", "FL", "Miami-Dade"), ("Cleveland", "OH", "Cuyahoga"), ("Dayton", "OH", "Montgomery"),
    ("Detroit", "MI", "Wayne"), ("Chicago", "IL", "Cook"), ("Madison", "WI", "Dane"),
    ("Houston", "TX", "Harris"), ("Phoenix", "AZ", "Maricopa"), ("Denver", "CO", "Denver"),
    ("Portland", "OR", "Multnomah"), ("Tacoma", "WA", "Pierce"), ("Sacramento", "CA", "Sacramento"),
    ("Fresno", "CA", "Fresno"),
)  # fmt: skip

_STATE_NAMES = {
    "MA": "Massachusetts", "RI": "Rhode Island", "NH": "New Hampshire", "ME": "Maine",
    "VT": "Vermont", "CT": "Connecticut", "NY": "New York", "MD": "Maryland",
    "PA": "Pennsylvania", "NJ": "New Jersey", "VA": "Virginia", "NC": "North Carolina",
    "GA": "Georgia", "FL": "Florida", "OH": "Ohio", "MI": "Michigan", "IL": "Illinois",
    "WI": "Wisconsin", "TX": "Texas", "AZ": "Arizona", "CO": "Colorado", "OR": "Oregon",
    "WA": "Washington", "CA": "California",
}  # fmt: skip

COUNTRIES = (
    "Haiti", "Ireland", "Portugal", "Brazil", "Vietnam", "the Dominican Republic", "India",
    "Italy", "Guatemala", "Cape Verde", "China", "Puerto Rico", "Mexico", "Greece", "Canada",
)  # fmt: skip

# Everyday street names that Faker's generated ones (mostly "<Name> <Suffix>") lack.
_COMMON_STREETS = (
    "Main St", "Main Street", "Elm St", "Maple Ave", "Oak Street", "Pleasant St", "Park Ave",
    "Washington St", "High Street", "Highland Ave", "Summer St", "School St", "Water Street",
    "Centre St", "Union St", "Chestnut Hill Ave", "Beacon St", "Broadway", "Commonwealth Ave",
    "Prospect St", "Spring St", "Pine Rd", "Cedar Dr", "Lake Shore Dr", "Harbor View Rd",
    "Mill Pond Rd", "Church St", "Franklin St", "Central Ave", "Route 9",
)  # fmt: skip


def _ascii_name(name: str) -> str | None:
    """Fold accents away; drop names that still are not plain Latin letters."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ok = folded and folded[0].isalpha() and all(c.isalpha() or c in "-' " for c in folded)
    if not ok or len(folded) < 2 or len(folded) != len(unicodedata.normalize("NFC", name)):
        return None
    return folded


def _fix_mc(name: str) -> str:
    """Faker spells "Mccarthy"; people write "McCarthy"."""
    if name.startswith("Mc") and len(name) > 3 and name[2].islower():
        return "Mc" + name[2].upper() + name[3:]
    return name


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _person_data(locale: str) -> tuple[list[str], list[str], list[str]]:
    provider = Faker(locale).provider("faker.providers.person")
    assert provider is not None
    female = list(getattr(provider, "first_names_female", ()) or ())
    male = list(getattr(provider, "first_names_male", ()) or ())
    last = list(provider.last_names)
    return female, male, last


@lru_cache(maxsize=1)
def pools() -> Pools:
    """The shared pools (built on first use, about 0.2 s)."""
    fake = Faker("en_US", use_weighting=False)
    fake.seed_instance(_POOL_SEED)
    female, male, last = _person_data("en_US")
    extra_last: list[str] = []
    for locale in _EXTRA_NAME_LOCALES:
        f, m, ln = _person_data(locale)
        female += f[:80]
        male += m[:80]
        extra_last += ln
    fold = [n for n in (_ascii_name(x) for x in female) if n]
    female_first = _unique(fold)
    male_first = _unique([n for n in (_ascii_name(x) for x in male) if n])
    # Keep en_US surnames dominant (two thirds) while adding variety.
    rng = Random(_POOL_SEED)
    extra = [n for n in (_ascii_name(x) for x in extra_last) if n and " " not in n]
    extra = rng.sample(extra, k=min(len(extra), len(last) // 2))
    last_names = _unique([_fix_mc(n) for n in (_ascii_name(x) for x in last) if n] + extra)

    # Common names repeat, as they do in real addresses (duplicates act as weights).
    streets = tuple(fake.street_name() for _ in range(1500)) + _COMMON_STREETS * 10

    # Real towns are listed several times so that about half of all mentions are real
    # names (Faker's invented towns have tell-tale endings: "-furt", "Lake ...").
    places = [
        Place(city, st, _STATE_NAMES[st], f"{county} County", fake.zipcode_in_state(st))
        for city, st, county in _REAL_PLACES
    ] * 6
    states = sorted(_STATE_NAMES)
    for _ in range(400):
        st = rng.choice(states)
        county = f"{fake.last_name()} County"
        places.append(Place(fake.city(), st, _STATE_NAMES[st], county, fake.zipcode_in_state(st)))

    domains = _unique(
        [fake.free_email_domain() for _ in range(60)]
        + ["comcast.net", "verizon.net", "aol.com", "outlook.com", "icloud.com", "msn.com"]
    )
    return Pools(
        female_first=female_first,
        male_first=male_first,
        last=last_names,
        street_names=streets,
        places=tuple(places),
        places_by_state={st: tuple(x for x in places if x.state == st) for st in states},
        email_domains=domains,
    )
