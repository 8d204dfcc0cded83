"""Public lexicons vendored from pinned, licensed sources: names, places, hospitals.

Data files live in ``deid/lexicons/data/`` (provenance, licences and row counts in its
``PROVENANCE.md``); ``tools/build_lexicons.py`` rebuilds them. Nothing here needs the
packages they came from at run time, and nothing comes from annotated notes.

Every loader reads its file on first call and keeps the result for the process (workers
load each table once); large tables hold columns and build a record per lookup. Keys
are lower-case: :func:`name_key` for person names (letters only: "O'Connor" ->
"oconnor"), :func:`place_key` for places and hospital forms ("St. Louis" -> "saint
louis"). Mappings are read-only.

Names
    :func:`surnames` key -> :class:`Surname` (rank, count) · :func:`first_names` key ->
    :class:`FirstName` (rank, count, share_female, sex) · :func:`extra_first_names`
    (rare names, no sex) · :func:`surname`, :func:`first_name` (look up any spelling).
Places
    :func:`us_places` key -> all :class:`USPlace` so named (population, state, county,
    source) · :func:`us_counties` · :func:`us_states`, :func:`us_state` ·
    :func:`countries` · :func:`foreign_cities` · :func:`zip_codes`.
Hospitals
    :func:`hospitals` · :func:`hospital_forms` (short-form key -> forms) ·
    :func:`hospitals_by_name` (full or short form -> hospitals) · :func:`forms_of` ·
    :func:`hospital_words` (generic words by kind, with counts) ·
    :func:`hospital_word_kinds` · :func:`analyse_hospital_name`
    (pattern and short forms of any hospital name, by the rules used for the list).
Ambiguity
    :func:`is_ambiguous`, :func:`ambiguous`: entries that are also common English words
    or medical terms ("white", "hope", "foley"); kept in their lexicons, they need context.
Samplers (for surrogates and augmentation; deterministic given the ``random.Random``)
    :func:`sample_first_name` (by sex, frequency-weighted) · :func:`sample_surname` ·
    :func:`sample_us_city` (population-weighted, near a size, in a state;
    :func:`us_city_name_sampler` draws the same names with the band found once) ·
    :func:`sample_us_county` · :func:`sample_foreign_city` · :func:`sample_hospital`.
"""

from deid.lexicons._keys import fold, name_key, place_key
from deid.lexicons.ambiguity import Ambiguity, ambiguous, is_ambiguous
from deid.lexicons.hospital_names import HospitalName, analyse_hospital_name
from deid.lexicons.hospitals import (
    Hospital,
    HospitalForm,
    HospitalWord,
    forms_of,
    hospital_forms,
    hospital_word_kinds,
    hospital_words,
    hospitals,
    hospitals_by_name,
    sample_hospital,
)
from deid.lexicons.names import (
    FirstName,
    Surname,
    extra_first_names,
    first_name,
    first_names,
    sample_first_name,
    sample_surname,
    surname,
    surnames,
)
from deid.lexicons.places import (
    Country,
    County,
    ForeignCity,
    State,
    USPlace,
    ZipCode,
    countries,
    foreign_cities,
    sample_foreign_city,
    sample_us_city,
    sample_us_county,
    us_city_name_sampler,
    us_counties,
    us_places,
    us_state,
    us_states,
    zip_codes,
)

__all__ = [
    "Ambiguity",
    "Country",
    "County",
    "FirstName",
    "ForeignCity",
    "Hospital",
    "HospitalForm",
    "HospitalName",
    "HospitalWord",
    "State",
    "Surname",
    "USPlace",
    "ZipCode",
    "ambiguous",
    "analyse_hospital_name",
    "countries",
    "extra_first_names",
    "first_name",
    "first_names",
    "fold",
    "foreign_cities",
    "forms_of",
    "hospital_forms",
    "hospital_word_kinds",
    "hospital_words",
    "hospitals",
    "hospitals_by_name",
    "is_ambiguous",
    "name_key",
    "place_key",
    "sample_first_name",
    "sample_foreign_city",
    "sample_hospital",
    "sample_surname",
    "sample_us_city",
    "us_city_name_sampler",
    "sample_us_county",
    "surname",
    "surnames",
    "us_counties",
    "us_places",
    "us_state",
    "us_states",
    "zip_codes",
]
