"""ZIP_CODE: US ZIP codes (5 digits or ZIP+4), only where an address says so.

Five-digit numbers are everywhere in notes (platelets 150000, volumes 10000), so a ZIP
needs one of:

* "City, ST 02114" — a capitalised place, a comma and a state abbreviation;
* a state abbreviation or name right before it ("MA 02114", "Massachusetts 02114"),
  where the ZIP's first three digits must belong to that state — so "PA 15000" from
  a pulmonary-artery reading would need to be a Pennsylvania ZIP to count;
* a town right before it ("Springfield 01103", "Lee, 01238"): the number must be a
  real ZIP code (``deid.lexicons``) and the town a US place written with a capital, or
  the ZIP's own town in any case ("lee 01238") -- or a street address must come before
  the town ("12 Oak St, Apt 5, lee 01238");
* a "zip" / "zip code" / "postal code" label;
* an APO/FPO/DPO military address ("FPO AA 34035").
"""

from __future__ import annotations

from functools import lru_cache

import regex

from deid import entities
from deid.detection.recognizers.patterns._structured import (
    PHI_GROUP,
    StructuredRecognizer,
    labelled,
)
from deid.lexicons import place_key
from deid.lexicons.places import us_places, zip_codes

# First-three-digit ranges of each state's ZIP codes (USPS), a little generous at edges.
ZIP_PREFIXES: dict[str, tuple[tuple[int, int], ...]] = {
    "AL": ((350, 369),), "AK": ((995, 999),), "AZ": ((850, 865),), "AR": ((716, 729),),
    "CA": ((900, 966),), "CO": ((800, 816),), "CT": ((60, 69),), "DE": ((197, 199),),
    "DC": ((200, 205), (569, 569)), "FL": ((320, 349),), "GA": ((300, 319), (398, 399)),
    "HI": ((967, 968),), "ID": ((832, 838),), "IL": ((600, 629),), "IN": ((460, 479),),
    "IA": ((500, 528),), "KS": ((660, 679),), "KY": ((400, 427),), "LA": ((700, 714),),
    "ME": ((39, 49),), "MD": ((206, 219),), "MA": ((10, 27), (55, 55)),
    "MI": ((480, 499),), "MN": ((550, 567),), "MS": ((386, 397),), "MO": ((630, 658),),
    "MT": ((590, 599),), "NE": ((680, 693),), "NV": ((889, 898),), "NH": ((30, 38),),
    "NJ": ((70, 89),), "NM": ((870, 884),), "NY": ((5, 5), (63, 63), (100, 149)),
    "NC": ((270, 289),), "ND": ((580, 588),), "OH": ((430, 459),), "OK": ((730, 749),),
    "OR": ((970, 979),), "PA": ((150, 196),), "RI": ((28, 29),), "SC": ((290, 299),),
    "SD": ((570, 577),), "TN": ((370, 385),), "TX": ((733, 733), (750, 799), (885, 885)),
    "UT": ((840, 847),), "VT": ((50, 59),), "VA": ((201, 201), (220, 246)),
    "WA": ((980, 994),), "WV": ((247, 268),), "WI": ((530, 549),), "WY": ((820, 831),),
    "PR": ((6, 9),), "VI": ((8, 8),), "GU": ((969, 969),), "AS": ((967, 967),),
    "MP": ((969, 969),), "AA": ((340, 340),), "AE": ((90, 98),), "AP": ((962, 966),),
}  # fmt: skip

STATE_NAMES: dict[str, str] = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ",
    "new mexico": "NM", "new york": "NY", "north carolina": "NC", "north dakota": "ND",
    "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "rhode island": "RI", "south carolina": "SC", "south dakota": "SD", "tennessee": "TN",
    "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR",
}  # fmt: skip

_ZIP = r"[0-9]{5}(?:-[0-9]{4})?(?![\w-]|\.[0-9])"
_ABBREVIATIONS = "|".join(sorted(ZIP_PREFIXES))
_NAMES = "|".join(sorted((n.replace(" ", r"\s{1,3}") for n in STATE_NAMES), key=len, reverse=True))
_PLACE_WORD = r"[A-Z][A-Za-z'.-]{1,24}"

# The state (and city) sit in a lookbehind that only five-digit numbers reach: scanning
# for 50 abbreviations and names at every position costs ten times more.
BARE_ZIP = (
    rf"(?<![\w.,/:#-])(?=[0-9]{{5}})"
    rf"(?<=(?<!\w)(?:(?P<city>{_PLACE_WORD}(?:[ \t]{_PLACE_WORD}){{0,2}}),[ \t]{{0,3}})?"
    rf"(?:(?P<abbr>{_ABBREVIATIONS})|(?P<name>(?i:{_NAMES})))\.?,?[ \t]{{1,3}})"
    rf"{_ZIP}"
)
# A town (one to three words) right before the ZIP, in a lookbehind as above.
_TOWN_WORD = r"[A-Za-z][A-Za-z'.-]{1,24}"
TOWN_ZIP = (
    rf"(?<![\w.,/:#-])(?=[0-9]{{5}})"
    rf"(?<=(?<![\w'.-])(?P<town>{_TOWN_WORD}(?:[ \t]{_TOWN_WORD}){{0,2}}),?[ \t]{{1,3}})"
    rf"{_ZIP}"
)
LABELLED_ZIP = labelled(r"zip(?:\s{0,2}code)?|zipcode|postal\s{1,3}code", _ZIP)
MILITARY_ZIP = rf"\b(?:APO|FPO|DPO)[ \t]{{1,3}}(?:AA|AE|AP)[ \t]{{1,3}}(?P<{PHI_GROUP}>{_ZIP})"


def zip_in_state(zip_code: str, state: str) -> bool:
    """Whether the ZIP's three-digit prefix is one the state uses."""
    prefix = int(zip_code[:3])
    return any(lo <= prefix <= hi for lo, hi in ZIP_PREFIXES.get(state, ()))


class ZipCodeRecognizer(StructuredRecognizer):
    """US ZIP codes after a city and state, a matching state, or a ZIP label."""

    ENTITY = entities.ZIP_CODE.name
    NAME = "deid.zip_codes"
    PATTERNS = (
        ("zip_state", BARE_ZIP, 0.9),
        ("zip_labelled", LABELLED_ZIP, 0.9),
        ("zip_military", MILITARY_ZIP, 0.9),
        ("zip_town", TOWN_ZIP, 0.85),
    )

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        value = text[start:end]
        if value.startswith("00000"):
            return None
        if match.re.pattern == TOWN_ZIP and (
            _after_state(match.group("town"))  # zip_state's case: one result, not two
            or _UNIT_AFTER.match(text, end)
            or not (
                town_and_zip(match.group("town"), value)
                or _ADDRESS_BEFORE.search(text, max(0, start - 90), start)
            )
        ):
            return None
        if match.re.pattern == BARE_ZIP and match.group("city") is None:
            state = match.group("abbr") or STATE_NAMES[_normalise(match.group("name"))]
            if not zip_in_state(value, state):
                return None
        return start, end, score


def _after_state(town: str) -> bool:
    words = town.split()
    last = words[-1].rstrip(".")
    if last in ZIP_PREFIXES:
        return True
    return any(_normalise(" ".join(words[-n:])) in STATE_NAMES for n in (1, 2, 3))


# "I live at 12 Oak St, Apt 5, Springfield 01103": a house number and street (a street
# word, or "live at" before it), a comma, then the town: the five digits after it are
# the ZIP (the town need not be in any list).
_STREET_WORDS = (
    r"st|street|ave|avenue|rd|road|dr|drive|ln|lane|blvd|boulevard|way|ct|court|pl|place"
    r"|ter|terrace|cir|circle|pkwy|parkway|hwy|highway|loop|trl|trail|sq|square|row|pike"
)
_ADDRESS_BEFORE = regex.compile(
    r"(?i:(?<![a-z])(?:live[sd]?|living|resides?|address)[ \t]{1,3}(?:at|is|:)?[ \t]{0,3}"
    r"[0-9]{1,6}[ \t]{1,3}[a-z][a-z'. \t-]{1,40}"
    rf"|(?<![\w-])[0-9]{{1,6}}[ \t]{{1,3}}[a-z][a-z'. \t-]{{0,40}}(?<![a-z])(?:{_STREET_WORDS})\.?)"
    r",(?:[ \t]{0,3}[A-Za-z0-9'. -]{1,30},)?[ \t]{0,3}[A-Za-z][A-Za-z'. \t-]{1,40}\Z",
    regex.REVERSE,  # matched from the ZIP backwards: one attempt, not one per position
)


# "Given 10001 units": a quantity after a word that happens to be a town.
_UNIT_AFTER = regex.compile(r"(?i)[ \t]{0,2}(?:units?|u|mg|mcg|ml|cc|g|gm|kg|mmol|meq|%)\b")


@lru_cache(maxsize=4096)
def town_and_zip(town: str, zip_code: str) -> bool:
    """Whether ``town`` (its last one to three words) is a place for a real ``zip_code``:
    the ZIP's own town in any case, or a capitalised US place name."""
    record = zip_codes().get(zip_code[:5])
    if record is None:
        return False
    words = town.split()
    for n in range(min(3, len(words)), 0, -1):
        name = " ".join(words[-n:])
        key = place_key(name)
        if key == place_key(record.city):
            return True
        if name[0].isupper() and key in us_places():
            return True
    return False


def _normalise(name: str) -> str:
    return " ".join(name.lower().split())


RECOGNIZERS = [ZipCodeRecognizer]
