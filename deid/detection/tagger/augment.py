"""Notes with every gold span replaced by a fresh value of the same shape.

Two uses, one mechanism:

* **augmentation** (PHICON-style): training copies of annotated notes in which names and
  places are drawn anew from the public lexicons (``deid.lexicons``), so the tagger learns
  the *contexts* PHI sits in rather than the few surrogate names of its corpus;
* **leave-names-out** evaluation: test notes whose names and places are values the
  training data never held (``exclude``), so cross-validation measures notes with new
  people and places, as a new hospital's notes are.

The text around gold spans is kept character for character; each replaced value takes
the case style of what it replaces (upper, lower, title) and its structure: initials stay
initials, first names stay first names (of the same sex when the original has a clear
one), surnames stay surnames, hyphenated names stay hyphenated, hospitals keep their form
(an acronym, "St. X", the distinctive part before "Hospital", a full name), wards stay one
word before their number, cities stay cities (US places large and small, counties,
foreign cities), states and countries stay states and countries. Dates, phones, ages and
identifiers get fresh values in the same format. Adjacent gold spans of one name or place
("Holy" "Cross", "Dan" "A." "Forman-Lyons") are replaced as one mention; the new value gets
one gold span per word.

Nothing is learned from the gold text: it is read only to see a value's shape (case,
initial, hyphen, a first name or a surname by the Census tables, the words around it).
Deterministic: the same notes, seed and exclusions give the same output.
"""

from __future__ import annotations

import calendar
import math
import re
import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from random import Random

from deid import lexicons
from deid.detection.lexicon import zipf
from deid.evaluation.corpora import Note
from deid.spans import Span

NAME_CATEGORIES = frozenset({"HCPName", "RelativeProxyName", "PTName", "PTNameInitial", "PERSON"})
PLACE_CATEGORIES = frozenset({"Location", "HOSPITAL", "LOCATION", "STREET_ADDRESS"})
DATE_CATEGORIES = frozenset({"Date", "DATE"})
YEAR_CATEGORIES = frozenset({"DateYear"})
PHONE_CATEGORIES = frozenset({"Phone", "PHONE_NUMBER", "FAX_NUMBER"})
AGE_CATEGORIES = frozenset({"Age", "AGE"})

# Titles before a surname: "Dr. X", "Mrs X", "DR'S X".
_TITLE_BEFORE = re.compile(r"(?i)\b(?:drs?|dr's|mrs?|ms|miss|mister|prof|doctor)\.?\s*$")
# Words that make the place before them part of a facility: "X Hospital", "X 2", "X MICU".
_UNIT_WORDS = frozenset(
    [
        "hosp",
        "hospiatal",
        "hospital",
        "rehab",
        "er",
        "ed",
        "ew",
        "icu",
        "micu",
        "sicu",
        "ccu",
        "cvicu",
        "nicu",
        "picu",
        "csru",
        "vicu",
        "cath",
        "house",
        "home",
        "nh",
        "nursing",
        "clinic",
        "campus",
        "center",
        "ctr",
        "med",
        "medical",
        "memorial",
        "regional",
        "general",
        "adventist",
        "health",
        "healthcare",
        "institute",
        "infirmary",
        "facility",
        "va",
    ]
)
_NEXT_WORD = re.compile(r"[\s\-(/]*([A-Za-z]+|\d)")
_WORD = re.compile(r"\S+")
_EDGE_PUNCT = '()[]{},;:!?"/'
_GAP_IN_MENTION = re.compile(r"[ \t.'\-]{0,3}")
_SAINT_WORDS = {"st": "saint", "saint": "saint", "ste": "saint", "mt": "mount", "mount": "mount"}
_MONTHS = [month.lower() for month in calendar.month_name[1:]]
_DATE_NUMERIC = re.compile(r"(\d{1,2})([/\-.])(\d{1,2})(?:([/\-.])(\d{2}|\d{4}))?")


class Family(Enum):
    """What a gold category is, for choosing its replacement."""

    NAME = "name"
    PLACE = "place"
    DATE = "date"
    YEAR = "year"
    PHONE = "phone"
    AGE = "age"
    OTHER = "other"


def family_of(category: str) -> Family:
    """The family a gold category belongs to (unknown categories: ``OTHER``)."""
    for family, categories in (
        (Family.NAME, NAME_CATEGORIES),
        (Family.PLACE, PLACE_CATEGORIES),
        (Family.DATE, DATE_CATEGORIES),
        (Family.YEAR, YEAR_CATEGORIES),
        (Family.PHONE, PHONE_CATEGORIES),
        (Family.AGE, AGE_CATEGORIES),
    ):
        if category in categories:
            return family
    return Family.OTHER


# ------------------------------------------------------------------------------ case


def case_style(text: str) -> str:
    """``"upper"``, ``"lower"`` or ``"title"``: how the letters of ``text`` are written."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "title"
    if all(c.isupper() for c in letters):
        return "upper" if len(letters) > 1 else "title"
    if all(c.islower() for c in letters):
        return "lower"
    return "title"


def in_style(value: str, style: str) -> str:
    """``value`` (written as it is displayed, e.g. "St. Luke's") in case ``style``."""
    if style == "upper":
        return value.upper()
    if style == "lower":
        return value.lower()
    return value


def _title(word: str) -> str:
    """A lower-case lexicon word as a name is written: "mcneil" -> "Mcneil", "st" -> "St"."""
    return "-".join(p[:1].upper() + p[1:] for p in word.split("-"))


# ----------------------------------------------------------------------------- pools


@dataclass(frozen=True)
class _Pools:
    """Lexicon values grouped for drawing (built once per process)."""

    surnames: tuple[str, ...]  # rank order
    first_names: tuple[str, ...]
    extra_first_names: tuple[str, ...]
    ambiguous_surnames: tuple[str, ...]
    ambiguous_first_names: tuple[str, ...]
    us_place_names: tuple[str, ...]  # one display name per key, incl. small ZIP places
    acronyms: tuple[str, ...]  # hospital acronyms as written ("GBMC")
    saint_forms: tuple[str, ...]  # "St. Luke's", "Mt. Sinai"
    base_forms: tuple[str, ...]  # distinctive part before the generic tail: "Johns Hopkins"
    full_names: tuple[str, ...]  # display names without campus qualifier
    state_names: tuple[str, ...]
    state_codes: tuple[str, ...]
    countries: tuple[str, ...]


@cache
def _pools() -> _Pools:
    ambiguous = lexicons.ambiguous()
    forms: dict[str, list[str]] = {"acronym": [], "saint": [], "base": []}
    for entries in lexicons.hospital_forms().values():
        for form in entries:
            kind = "acronym" if form.kind.startswith("acronym") else form.kind
            if kind in forms and form.form.isascii():
                forms[kind].append(form.form)
    places = lexicons.us_places()
    states = list(lexicons.us_states().values())
    return _Pools(
        surnames=tuple(lexicons.surnames()),
        first_names=tuple(lexicons.first_names()),
        extra_first_names=tuple(sorted(lexicons.extra_first_names())),
        ambiguous_surnames=tuple(w for w, a in ambiguous.items() if "surname" in a.lexicons),
        ambiguous_first_names=tuple(w for w, a in ambiguous.items() if "first_name" in a.lexicons),
        us_place_names=tuple(places[key][0].name for key in places),
        acronyms=tuple(sorted(set(forms["acronym"]))),
        saint_forms=tuple(sorted(set(forms["saint"]))),
        base_forms=tuple(sorted(set(forms["base"]))),
        full_names=tuple(sorted({h.display for h in lexicons.hospitals() if h.display.isascii()})),
        state_names=tuple(s.name for s in states),
        state_codes=tuple(s.code for s in states),
        countries=tuple(c.name for c in lexicons.countries().values() if c.name.isascii()),
    )


@cache
def _distinctive_stop() -> frozenset[str]:
    """Words of a place value that need not be new: generic hospital words and the like."""
    generic = set(lexicons.hospital_word_kinds())
    return frozenset(generic | {"saint", "mount", "st", "mt", "ste", "fort", "ft", "county"})


# ------------------------------------------------------------------------ substituter


@dataclass
class Substituter:
    """Draws replacement values; ``exclude`` holds name keys (``lexicons.name_key``) of
    words no drawn name or place may contain (leave-names-out)."""

    rng: Random
    exclude: frozenset[str] = frozenset()
    # Dates, phones, ages and IDs draw from their own generator, so that they come out
    # the same whatever the names drew (leave-names-out runs with other exclusions).
    shape_rng: Random | None = None
    rare_share: float = 0.3  # names drawn uniformly from the whole list (mostly rare ones)
    ambiguous_share: float = 0.12  # names that are also English words ("Bone", "Rich")
    tries: int = 60

    # -- names ---------------------------------------------------------------------
    def surname(self) -> str:
        return self._fresh(self._surname_once)

    def first_name(self, sex: str | None = None) -> str:
        return self._fresh(lambda: self._first_name_once(sex))

    def _surname_once(self) -> str:
        r, pools = self.rng.random(), _pools()
        if r < self.ambiguous_share:
            return self.rng.choice(pools.ambiguous_surnames)
        if r < self.ambiguous_share + self.rare_share:
            return self.rng.choice(pools.surnames)
        return lexicons.sample_surname(self.rng)

    def _first_name_once(self, sex: str | None) -> str:
        r, pools = self.rng.random(), _pools()
        if r < self.ambiguous_share + self.rare_share:
            if r < self.ambiguous_share:
                pool = pools.ambiguous_first_names
            elif sex is None and r > self.ambiguous_share + self.rare_share * 0.7:
                pool = pools.extra_first_names  # rare names of unknown sex
            else:
                pool = pools.first_names
            for _ in range(self.tries):  # a name of the same sex, if the original has one
                value = self.rng.choice(pool)
                found = lexicons.first_name(value)
                if sex is None or (found is not None and found.sex == sex):
                    return value
        return lexicons.sample_first_name(self.rng, sex)  # type: ignore[arg-type]

    def _fresh(self, draw: Callable[[], str]) -> str:
        value = draw()
        for _ in range(self.tries):
            if self._is_fresh(value):
                return value
            value = draw()
        return value

    def _is_fresh(self, value: str) -> bool:
        if not self.exclude:
            return True
        stop = _distinctive_stop()
        for word in re.findall(r"[A-Za-z']+", value):
            key = lexicons.name_key(word)
            if len(key) >= 2 and key not in stop and key in self.exclude:
                return False
        return True

    def initial(self) -> str:
        return self.rng.choice("ABCDEFGHIJKLMNOPRSTW")

    def letters(self, n: int) -> str:
        """A fresh string of ``n`` capital letters that is no English word (an acronym)."""
        value = ""
        for _ in range(self.tries):
            value = "".join(self.rng.choice(string.ascii_uppercase) for _ in range(n))
            if self._is_fresh(value) and zipf(value.lower()) < 3.0:
                break
        return value

    # -- places --------------------------------------------------------------------
    def city(self, words: int | None = None) -> str:
        return self._matching(self._city_once, words)

    def _city_once(self) -> str:
        r, pools = self.rng.random(), _pools()
        if r < 0.4:
            return lexicons.sample_us_city(self.rng).name
        if r < 0.7:  # a small town: log-uniform between 500 and 50,000 people
            near = int(math.exp(self.rng.uniform(math.log(500), math.log(50_000))))
            return lexicons.sample_us_city(self.rng, population_near=near).name
        if r < 0.82:
            return self.rng.choice(pools.us_place_names)
        if r < 0.9:
            return lexicons.sample_us_county(self.rng).name.removesuffix(" County")
        return lexicons.sample_foreign_city(self.rng).name

    def hospital_base(self, words: int | None = None) -> str:
        return self._matching(lambda: self.rng.choice(_pools().base_forms), words)

    def hospital_full(self, words: int | None = None) -> str:
        return self._matching(lambda: self.rng.choice(_pools().full_names), words)

    def hospital_acronym(self, length: int) -> str:
        pools = _pools()
        if length >= 3 and self.rng.random() < 0.6:
            for _ in range(self.tries):
                value = self.rng.choice(pools.acronyms)
                if abs(len(value) - length) <= 1 and value.isalpha() and self._is_fresh(value):
                    return value
        return self.letters(length)

    def saint(self, kind: str) -> str:
        """The name after "St." (``kind`` "saint") or "Mt." ("mount") of a hospital form."""
        value = ""
        for _ in range(self.tries):
            value = self._fresh(lambda: self.rng.choice(_pools().saint_forms))
            head, _, rest = value.partition(" ")
            if _SAINT_WORDS.get(head.lower().rstrip("."), "saint") == kind:
                return rest
        return value.partition(" ")[2]

    def ward(self) -> str:
        if self.rng.random() < 0.6:
            return _title(self.surname())
        return self.hospital_base(words=1)

    def _matching(self, draw: Callable[[], str], words: int | None) -> str:
        """A fresh value, with ``words`` words if one turns up within a few draws."""
        best = ""
        for _ in range(self.tries):
            value = draw()
            if not value.isascii() or not self._is_fresh(value):
                continue
            if words is None or len(value.split()) == words:
                return value
            if not best or abs(len(value.split()) - words) < abs(len(best.split()) - words):
                best = value
        return best or draw()

    # -- digits --------------------------------------------------------------------
    @property
    def shapes(self) -> Random:
        return self.shape_rng or self.rng

    def digits(self, shape: str, *, lead_nonzero: bool = False) -> str:
        """``shape`` with every digit and letter redrawn (letters keep their case)."""
        out = []
        prev_digit = False
        for ch in shape:
            if ch.isdigit():
                low = 2 if lead_nonzero and not prev_digit else 0
                out.append(str(self.shapes.randint(low, 9)))
            elif ch.isalpha() and ch.isascii():
                letter = self.shapes.choice(string.ascii_lowercase)
                out.append(letter.upper() if ch.isupper() else letter)
            else:
                out.append(ch)
            prev_digit = ch.isdigit()
        return "".join(out)


# ------------------------------------------------------------------------- mentions


@dataclass(frozen=True)
class _Mention:
    """Adjacent gold spans of one name or place, or a single other gold span."""

    start: int
    end: int
    category: str
    family: Family


def _mentions(note: Note) -> list[_Mention]:
    mentions: list[_Mention] = []
    for span in sorted(note.gold, key=lambda s: (s.start, -s.end)):
        if mentions and span.start < mentions[-1].end:
            continue  # overlapping gold: the first one wins
        family = family_of(span.entity_type)
        if mentions and family in (Family.NAME, Family.PLACE):
            last = mentions[-1]
            gap = note.text[last.end : span.start]
            if last.family == family and _GAP_IN_MENTION.fullmatch(gap):
                mentions[-1] = _Mention(last.start, span.end, last.category, family)
                continue
        mentions.append(_Mention(span.start, span.end, span.entity_type, family))
    return mentions


def _word_spans(text: str, offset: int, category: str) -> Iterator[Span]:
    """One gold span per word of a replaced value (edge punctuation left out)."""
    for m in _WORD.finditer(text):
        word = m.group()
        left = len(word) - len(word.lstrip(_EDGE_PUNCT))
        right = len(word.rstrip(_EDGE_PUNCT + "."))
        if right - left <= 0 or not any(c.isalnum() for c in word[left:right]):
            continue
        yield Span(offset + m.start() + left, offset + m.start() + right, category, 1.0, "gold")


# --------------------------------------------------------------------- replacements


def _is_first_name(word: str) -> bool:
    """Is ``word`` more often a first name than a surname (Census counts)?"""
    first, last = lexicons.first_name(word), lexicons.surname(word)
    if first is None:
        return False
    return last is None or first.people >= last.people


def _replace_name(text: str, before: str, sub: Substituter) -> str:
    words = list(_WORD.finditer(text))
    cores = [m.group().strip(".,;:()") for m in words]
    full = [i for i, c in enumerate(cores) if len(c) > 1]
    titled = bool(_TITLE_BEFORE.search(before))
    out, pos = [], 0
    for i, m in enumerate(words):
        out.append(text[pos : m.start()])
        out.append(_replace_name_word(m.group(), i, full, titled, sub))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _replace_name_word(word: str, i: int, full: list[int], titled: bool, sub: Substituter) -> str:
    lead = len(word) - len(word.lstrip(".,;:()"))
    end = len(word.rstrip(".,;:()"))
    core = word[lead:end]
    if not core:
        return word
    if len(core) == 1:  # an initial
        letter = sub.initial()
        return word[:lead] + (letter.lower() if core.islower() else letter) + word[end:]
    style = case_style(core)
    possessive = ""
    if core.lower().endswith("'s"):
        core, possessive = core[:-2], core[-2:]
    if "-" in core.strip("-"):
        value = "-".join(_title(sub.surname()) for p in core.split("-") if p)
    else:
        last = i == full[-1] if full else True
        if titled or (len(full) > 1 and last):
            value = _title(sub.surname())
        elif len(full) > 1 or _is_first_name(core):
            first = lexicons.first_name(core)
            value = _title(sub.first_name(first.sex if first else None))
        else:
            value = _title(sub.surname())
        if core.lower().startswith("o'") and len(core) > 3:
            value = "O'" + value
    return word[:lead] + in_style(value + possessive, style) + word[end:]


def _next_word(text: str, end: int) -> str:
    m = _NEXT_WORD.match(text, end)
    return m.group(1).lower() if m else ""


def _replace_place(text: str, note: Note, end: int, sub: Substituter) -> str:
    style = case_style(text)
    words = text.split()
    following = _next_word(note.text, end)
    stripped = text.strip(".")
    if any(ch.isdigit() for ch in text):  # an address or a ward with its number
        return " ".join(_replace_mixed(w, style, sub) for w in words)
    if (
        len(words) == 1
        and stripped.isalpha()
        and 2 <= len(stripped) <= 5
        and (text.isupper() or text.islower())
        and _acronym_like(stripped)
    ):
        return in_style(sub.hospital_acronym(len(stripped)), style)
    if len(words) == 1 and following.isdigit():  # "Quartermain 2": a ward or building
        return in_style(sub.ward(), style)
    head = lexicons.fold(words[0]).rstrip(".")
    if head in _SAINT_WORDS and len(words) > 1:  # "St. Agnes", "ST MARY'S": keep "St."
        second = list(_WORD.finditer(text))[1].start()
        return text[:second] + in_style(sub.saint(_SAINT_WORDS[head]), style)
    if lexicons.us_state(text) is not None:
        pools = _pools()
        pool = pools.state_codes if len(stripped) == 2 else pools.state_names
        return in_style(sub.rng.choice(pool), style)
    if lexicons.place_key(text) in lexicons.countries():
        return in_style(sub.rng.choice(_pools().countries), style)
    kinds = lexicons.hospital_word_kinds()
    folded = [lexicons.fold(w).rstrip(".") for w in words]
    if len(words) > 1 and (folded[-1] in kinds or folded[-1] in _UNIT_WORDS):
        return in_style(sub.hospital_full(len(words)), style)  # "Sacred Heart Memorial"
    if following in _UNIT_WORDS or following in kinds:
        return in_style(sub.hospital_base(len(words)), style)  # "[Calvert] Hospital"
    if any(kinds.get(w) in ("religious", "institution", "qualifier") for w in folded):
        return in_style(sub.hospital_base(len(words)), style)  # "Holy Cross"
    return in_style(sub.city(len(words)), style)


def _replace_mixed(word: str, style: str, sub: Substituter) -> str:
    """A word of an address or ward: digits redrawn, letter runs replaced by a name."""
    if word.isdigit():
        return sub.digits(word)
    return re.sub(r"[A-Za-z]{2,}", lambda m: in_style(sub.ward(), style), sub.digits(word))


def _acronym_like(word: str) -> bool:
    """A short letter string that is no name, place or common word ("GH", "gbmc")."""
    low = word.lower()
    if lexicons.is_ambiguous(low):
        return False
    named = lexicons.surname(low) or lexicons.first_name(low) or low in lexicons.us_places()
    return not named or not any(c in "aeiouy" for c in low)


def _replace_date(text: str, sub: Substituter) -> str:
    rng = sub.shapes
    m = _DATE_NUMERIC.fullmatch(text)
    if m:
        month, sep, day, sep2, year = m.groups()
        out = _like(month, rng, 12) + sep + _like(day, rng, 28)
        return out + (sep2 + _year_near(year, rng) if year else "")
    if re.fullmatch(r"\d{1,2}(?:/\d{1,2}){3,}", text):  # a list of days: "11/20/21/22"
        month, *days = text.split("/")
        return "/".join([_like(month, rng, 12), *(_like(d, rng, 28) for d in days)])
    m = re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?", text, flags=re.IGNORECASE)
    if m:  # a day ("24", "3rd")
        day = _like(m.group(1), rng, 28)
        suffix = m.group(2)
        if suffix and suffix.lower() in ("st", "nd", "rd", "th"):
            n = int(day)
            proper = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
            suffix = proper.upper() if suffix.isupper() else proper
        return day + (suffix or "")
    word = text.rstrip(".")
    low = word.lower()
    if len(low) >= 3 and any(month.startswith(low) for month in _MONTHS):
        new = rng.choice(_MONTHS)
        value = new if low in _MONTHS else new[:3]  # a full name, or a 3-letter abbreviation
        return in_style(value.capitalize(), case_style(word)) + text[len(word) :]
    return sub.digits(text)


def _year_near(year: str, rng: Random) -> str:
    """A year within ten of ``year``, written with as many digits."""
    value = int(year) + rng.choice([d for d in range(-10, 11) if d])
    if len(year) == 4:
        return str(min(max(value, 1900), 2029))
    return f"{value % 100:02d}"


def _like(shape: str, rng: Random, top: int) -> str:
    """A number from 1 to ``top`` written with as many digits as ``shape`` ("07", "7", "17")."""
    if len(shape) == 1:
        return str(rng.randint(1, 9))
    if shape.startswith("0"):
        return f"0{rng.randint(1, 9)}"
    return str(rng.randint(10, top))


def _replace_other(family: Family, text: str, sub: Substituter) -> str:
    if family is Family.DATE:
        return _replace_date(text, sub)
    if family is Family.YEAR:
        m = re.search(r"\d{4}|\d{2}", text)
        if m:
            return text[: m.start()] + _year_near(m.group(), sub.shapes) + text[m.end() :]
        return sub.digits(text)
    if family is Family.PHONE:
        return sub.digits(text, lead_nonzero=True)
    if family is Family.AGE and text.isdigit() and len(text) in (2, 3):
        return str(sub.shapes.randint(90, 99) if len(text) == 2 else sub.shapes.randint(100, 109))
    return sub.digits(text)


def replace_gold(note: Note, sub: Substituter) -> Note:
    """``note`` with every gold span replaced by a value ``sub`` draws (see module doc)."""
    parts: list[str] = []
    gold: list[Span] = []
    pos = 0
    length = 0
    for mention in _mentions(note):
        kept = note.text[pos : mention.start]
        parts.append(kept)
        length += len(kept)
        old = note.text[mention.start : mention.end]
        if mention.family is Family.NAME:
            new = _replace_name(old, note.text[max(0, mention.start - 12) : mention.start], sub)
        elif mention.family is Family.PLACE:
            new = _replace_place(old, note, mention.end, sub)
        else:
            new = _replace_other(mention.family, old, sub)
        new = new or old
        gold.extend(_word_spans(new, length, mention.category))
        parts.append(new)
        length += len(new)
        pos = mention.end
    parts.append(note.text[pos:])
    return Note(
        note.note_id, note.patient_id, "".join(parts), tuple(gold), note.note_type, note.note_date
    )


def _substituter(seed: int, note: Note, variant: int, **options: object) -> Substituter:
    key = f"{seed}|{note.patient_id}|{note.note_id}|{variant}"
    return Substituter(Random(key), shape_rng=Random(key + "|shapes"), **options)  # type: ignore[arg-type]


def augment(notes: Iterable[Note], variants: int, seed: int = 0, **options: float) -> list[Note]:
    """``variants`` copies of each note that has gold spans, every span replaced anew.

    Copies keep their note's IDs (so folds by patient keep them with their note).
    ``options`` go to :class:`Substituter` (``rare_share``, ``ambiguous_share``).
    """
    return [
        replace_gold(note, _substituter(seed, note, v, **options))
        for note in notes
        if note.gold
        for v in range(variants)
    ]


def leave_names_out(notes: Iterable[Note], exclude: frozenset[str], seed: int = 1) -> list[Note]:
    """Each note with every gold span replaced; no name or place word in ``exclude``."""
    return [
        replace_gold(note, _substituter(seed, note, -1, exclude=exclude)) if note.gold else note
        for note in notes
    ]


def gold_words(notes: Sequence[Note]) -> frozenset[str]:
    """Name keys of every word inside the notes' gold spans (what a model trained on them
    has seen as PHI)."""
    words: set[str] = set()
    for note in notes:
        for span in note.gold:
            for word in re.findall(r"[A-Za-z']+", note.text[span.start : span.end]):
                key = lexicons.name_key(word)
                if key:
                    words.add(key)
    return frozenset(words)
