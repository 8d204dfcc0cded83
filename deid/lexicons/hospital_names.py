"""Hospital names taken apart by rule: their pattern, distinctive part and short forms.

A hospital name is a few distinctive words (a place, a person, a saint) set in a frame of
generic words: "Saint {X} Medical Center", "{X} Memorial Hospital", "University of {X}
Medical Center". :func:`analyse_hospital_name` finds the frame (the *template*, with each
run of distinctive words as ``{X}``) and derives the forms people write instead of the full
name: the name without its generic tail ("Johns Hopkins"), the saint alone ("St. Luke's"),
"St."/"Saint" and "Mt."/"Mount" spellings, acronyms ("GBMC") and acronyms already in the
name ("UPMC"). The build (``tools/build_lexicons.py``) runs it over the CMS hospital list;
surrogate generation can run it over a detected span to keep that span's pattern.

Which words are generic comes from the vocabulary (``hospital_words()``): word -> kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

# Kinds of generic word in a hospital name (the vocabulary's second column).
INSTITUTION = "institution"  # what kind of place: Hospital, Medical, Center, Health, Clinic
QUALIFIER = "qualifier"  # Memorial, General, Regional, Community, University, County, VA
RELIGIOUS = "religious"  # Saint, Mercy, Baptist, Good Samaritan, Holy, Sacred
DIRECTION = "direction"  # North, Southeast, Greater, Central
CONNECTOR = "connector"  # of, the, and, at, for
KINDS = (INSTITUTION, QUALIFIER, RELIGIOUS, DIRECTION, CONNECTOR)

# Abbreviations in names, spelled out before anything else looks at a word.
_ABBREVIATIONS = {
    "CTR": "CENTER",
    "CNTR": "CENTER",
    "HOSP": "HOSPITAL",
    "MED": "MEDICAL",
    "MEM": "MEMORIAL",
    "REG": "REGIONAL",
    "RGNL": "REGIONAL",
    "UNIV": "UNIVERSITY",
    "HLTH": "HEALTH",
    "HLTHCARE": "HEALTHCARE",
    "SYS": "SYSTEM",
    "GEN": "GENERAL",
    "CMTY": "COMMUNITY",
    "PSYCH": "PSYCHIATRIC",
    "CHILDRENS": "CHILDREN'S",
    "WOMENS": "WOMEN'S",
}
# Written short or long ("St. Mary's", "Saint Mary's"); spelled out when a word follows.
_TITLES = {"ST": "SAINT", "STE": "SAINTE", "MT": "MOUNT", "FT": "FORT"}
# The spellings of each, the one notes use most first.
TITLE_SPELLINGS = {
    "SAINT": ("St.", "St", "Saint"),
    "SAINTE": ("Ste.", "Ste", "Sainte"),
    "MOUNT": ("Mt.", "Mt", "Mount"),
    "FORT": ("Ft.", "Ft", "Fort"),
}
_LEGAL_SUFFIX = re.compile(
    r"(?:[\s,]+(?:INC|LLC|L\.L\.C|LP|LLP|LTD|PLLC|CORP|CORPORATION|CO|PC)\.?)+\s*$", re.IGNORECASE
)
_QUALIFIER_SPLIT = re.compile(r"\s+-\s*|\s*-\s+|\s*\(|/")
_VOWELS = frozenset("AEIOU")
_LOWER_IN_TITLE = frozenset({"of", "the", "and", "at", "for", "in", "on", "de", "del", "la"})
_UPPER_IN_TITLE = frozenset({"VA", "US", "USA"})

# Pattern labels, first match wins: (label, test on the template and words).
_PATTERNS: tuple[tuple[str, Callable[[str, tuple[str, ...]], bool]], ...] = (
    ("va", lambda t, w: "VA" in w or "VETERANS" in w),
    ("university_of_x", lambda t, w: "University of {X}" in t),
    ("x_university", lambda t, w: "UNIVERSITY" in w),
    ("saint_x", lambda t, w: "Saint {X}" in t or "Sainte {X}" in t),
    ("mount_x", lambda t, w: "Mount {X}" in t),
    ("childrens", lambda t, w: "CHILDREN'S" in w or "CHILDREN" in w),
    ("x_memorial", lambda t, w: "MEMORIAL" in w),
    ("x_general", lambda t, w: "GENERAL" in w),
    ("x_regional", lambda t, w: "REGIONAL" in w),
    ("x_community", lambda t, w: "COMMUNITY" in w),
    ("x_county", lambda t, w: "COUNTY" in w),
    ("x_medical_center", lambda t, w: "Medical Center" in t),
    ("x_hospital", lambda t, w: "HOSPITAL" in w or "HOSPITALS" in w),
    ("x_health", lambda t, w: "HEALTH" in w or "HEALTHCARE" in w),
)


@dataclass(frozen=True, slots=True)
class HospitalName:
    """A hospital name taken apart (see the module docstring)."""

    words: tuple[str, ...]  # the main part's words, upper-case, abbreviations spelled out
    qualifier: str  # campus or town after " - ", "/" or in parentheses ("" if none)
    template: str  # e.g. "Saint {X} Medical Center"; no "{X}" when all words are generic
    pattern: str  # label of the template: saint_x, x_memorial, university_of_x, ...
    display: str  # the main part in title case, "St." spelling: "St. Luke's Medical Center"
    short_forms: tuple[
        tuple[str, str], ...
    ]  # (form, kind): kind base|saint|spelling|acronym|acronym_in_name|hyphen_part


def looks_like_acronym(word: str) -> bool:
    """Default test for an acronym inside a name ("UPMC", "UCSF"): 2-5 letters, at most one
    vowel (or four letters), and no name, place or ambiguous word of the lexicons."""
    if not (2 <= len(word) <= 5 and word.isalpha()):
        return False
    if sum(c in _VOWELS for c in word.upper()) > 1 and len(word) > 4:
        return False
    from deid import lexicons

    key = word.lower()
    return not (
        key in lexicons.surnames()
        or key in lexicons.first_names()
        or key in lexicons.us_places()
        or lexicons.is_ambiguous(key)
    )


def analyse_hospital_name(
    name: str,
    vocabulary: Mapping[str, str] | None = None,
    *,
    is_acronym: Callable[[str], bool] = looks_like_acronym,
    is_first_name: Callable[[str], bool] = lambda word: False,
) -> HospitalName:
    """Take ``name`` apart. ``vocabulary`` maps lower-case generic words to their kind
    (default: the vendored ``hospital_words``).

    ``is_acronym`` tells whether an upper-case word that is not generic is an acronym;
    ``is_first_name`` (given a lower-case word) restores saints' apostrophes: "ST LUKES"
    is "St. Luke's" because "luke" is a first name.
    """
    if vocabulary is None:
        from deid.lexicons.hospitals import hospital_word_kinds

        vocabulary = hospital_word_kinds()
    main, qualifier = _split(name)
    words = _canonical_words(main, is_first_name)
    kinds = [_kind(w, words, i, vocabulary) for i, w in enumerate(words)]
    acronyms = {w for w, k in zip(words, kinds, strict=True) if k is None and is_acronym(w)}
    template = _template(words, kinds)
    pattern = next((label for label, test in _PATTERNS if test(template, tuple(words))), "other")
    display = _display(words, acronyms)
    forms = _short_forms(words, kinds, acronyms, display)
    return HospitalName(tuple(words), qualifier, template, pattern, display, forms)


def _split(name: str) -> tuple[str, str]:
    text = _LEGAL_SUFFIX.sub("", " ".join(name.replace(",", " ").split()))
    parts = _QUALIFIER_SPLIT.split(text, maxsplit=1)
    main = _LEGAL_SUFFIX.sub("", parts[0]).strip(" -")
    qualifier = parts[1].strip(" -()") if len(parts) > 1 else ""
    return (main or text), _LEGAL_SUFFIX.sub("", qualifier).strip()


def _canonical_words(main: str, is_first_name: Callable[[str], bool]) -> list[str]:
    raw = [w.strip(".-").upper() for w in main.split()]
    raw = [w for w in raw if w]
    words: list[str] = []
    for i, w in enumerate(raw):
        w = _ABBREVIATIONS.get(w, w)
        if w in _TITLES and i + 1 < len(raw):
            w = _TITLES[w]
        elif (
            words
            and words[-1] in TITLE_SPELLINGS
            and w.endswith("S")
            and "'" not in w
            and is_first_name(w[:-1].lower())
        ):
            w = w[:-1] + "'S"
        words.append(w)
    return words


def _kind(word: str, words: list[str], i: int, vocabulary: Mapping[str, str]) -> str | None:
    if word in TITLE_SPELLINGS and i + 1 < len(words):
        return RELIGIOUS if word in ("SAINT", "SAINTE") else DIRECTION
    return vocabulary.get(word.lower())


def _template(words: list[str], kinds: list[str | None]) -> str:
    out: list[str] = []
    for i, (w, k) in enumerate(zip(words, kinds, strict=True)):
        if k is None:
            if not out or out[-1] != "{X}":
                out.append("{X}")
        else:
            out.append(_title_word(w, first=i == 0))
    return " ".join(out)


def _title_word(word: str, *, first: bool = False, acronym: bool = False) -> str:
    if acronym or word in _UPPER_IN_TITLE or (len(word) == 2 and not _VOWELS & set(word)):
        return word  # "UPMC", "VA", "NY"
    if word in TITLE_SPELLINGS:
        return word.title()
    if not first and word.lower() in _LOWER_IN_TITLE:
        return word.lower()
    return "-".join(_title_part(p) for p in word.split("-"))


def _title_part(part: str) -> str:
    if part.startswith("MC") and len(part) > 3 and part[2:].isalpha():
        return "Mc" + part[2:].capitalize()
    head, apostrophe, tail = part.partition("'")
    if not apostrophe:
        return part.capitalize()
    # O'CONNOR -> O'Connor, LUKE'S -> Luke's
    return head.capitalize() + "'" + (tail.lower() if len(tail) <= 1 else tail.capitalize())


def _display(words: Iterable[str], acronyms: set[str], spelling: int = 0) -> str:
    words = list(words)
    out = []
    for i, w in enumerate(words):
        if w in TITLE_SPELLINGS and i + 1 < len(words):
            out.append(TITLE_SPELLINGS[w][spelling])
        else:
            out.append(_title_word(w, first=i == 0, acronym=w in acronyms))
    return " ".join(out)


def _short_forms(
    words: list[str], kinds: list[str | None], acronyms: set[str], display: str
) -> tuple[tuple[str, str], ...]:
    forms: list[tuple[str, str]] = []
    seen = {display.lower()}

    def add(form: str, kind: str) -> None:
        if form and form.lower() not in seen:
            seen.add(form.lower())
            forms.append((form, kind))

    start, end = _base(words, kinds)
    base, base_kinds = words[start:end], kinds[start:end]
    if base:
        add(_display(base, acronyms), "base")
    for i, w in enumerate(words[:-1]):
        if w in ("SAINT", "SAINTE", "MOUNT") and kinds[i + 1] is None:
            add(_display(words[i : i + 2], acronyms), "saint")
    for group in (words, base):
        if group and any(w in TITLE_SPELLINGS for w in group[:-1]):
            for spelling in (1, 2):
                add(_display(group, acronyms, spelling), "spelling")
    for w in words:
        if w in acronyms:
            add(w, "acronym_in_name")
    if not acronyms:
        add(_acronym(words, kinds), "acronym")
        if len(base) >= 3:  # "University of California San Francisco" -> UCSF
            add(_acronym(base, base_kinds), "acronym")
    for w, k in zip(words, kinds, strict=True):
        parts = w.split("-")
        if k is None and len(parts) == 2 and all(len(p) >= 3 and p.isalpha() for p in parts):
            add(_title_part(parts[0]), "hyphen_part")
    return tuple(forms)


def _base(words: list[str], kinds: list[str | None]) -> tuple[int, int]:
    """Where the words before the generic tail are ("JOHNS HOPKINS" of "JOHNS HOPKINS
    HOSPITAL"); an empty range when there is no tail or nothing distinctive before it."""
    end = next((i for i, k in enumerate(kinds) if k == INSTITUTION), len(words))
    start = 1 if words and words[0] == "THE" else 0
    while end > start and kinds[end - 1] == CONNECTOR:
        end -= 1
    if end == len(words) or end <= start:
        return 0, 0
    distinctive = any(k is None or k == RELIGIOUS for k in kinds[start:end])
    return (start, end) if distinctive else (0, 0)


def _acronym(words: list[str], kinds: list[str | None]) -> str:
    if not words:
        return ""
    letters = []
    for w, k in zip(words, kinds, strict=True):
        if k == CONNECTOR or w == "THE":
            continue
        for part in w.split("-"):
            if not part[:1].isalpha():
                return ""
            letters.append(part[0])
    acronym = "".join(letters)
    return acronym if 3 <= len(acronym) <= 6 else ""
