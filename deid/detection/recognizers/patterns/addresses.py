"""STREET_ADDRESS: house number + street name + suffix (+ unit), and PO boxes.

"12 Beacon St", "1777 Kramer Court Apt. 4B", "48 N. Main Street, Suite 200",
"3835 Route 9", "197 Broadway", "P.O. Box 123".  The street name is one to four
capitalised words (or an ordinal, "5th"); the suffix is one of the USPS street suffixes.

* Common suffixes (Street, Ave, Rd, Blvd, Lane, Drive, Court, Way, ...) stand on their
  own.  The rarer USPS ones ("Ports", "Knoll", "Station", "Rest", ...) are ordinary
  words too, so they need evidence: a unit ("Apt 3"), a following "City, ST", or an
  address word before ("lives at", "address").
* "Dr" and "St" are also titles ("Dr. Smith", "St. Mary's"): followed by a capitalised
  word they need the same evidence, so "gave 2 Percocet Dr Smith aware" is no address.
* In all-capitals text only full suffix words and unambiguous abbreviations count
  ("12 MAIN STREET", "12 ELM AVE", not "2 HEAD CT").
* After an "address:" / "lives (alone) at" label, any case and any USPS suffix counts.
"""

from __future__ import annotations

import regex

from deid import entities
from deid.detection.recognizers.patterns._structured import PHI_GROUP, StructuredRecognizer
from deid.detection.recognizers.patterns.zip_codes import STATE_NAMES, ZIP_PREFIXES

COMMON_SUFFIXES = (
    "Street", "St", "Avenue", "Ave", "Av", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln",
    "Drive", "Dr", "Court", "Ct", "Place", "Pl", "Terrace", "Ter", "Terr", "Parkway", "Pkwy",
    "Highway", "Hwy", "Circle", "Cir", "Square", "Sq", "Trail", "Trl", "Turnpike", "Tpke",
    "Pike", "Way", "Alley", "Aly", "Expressway", "Expy", "Freeway", "Fwy", "Plaza", "Plz",
    "Row", "Path", "Walk", "Loop", "Crescent", "Cres", "Wharf", "Broadway",
)  # fmt: skip
# USPS Publication 28 suffixes that are also everyday words (Faker draws from these).
RARE_SUFFIXES = (
    "Bend", "Branch", "Bridge", "Brook", "Brooks", "Burg", "Burgs", "Bypass", "Camp",
    "Canyon", "Cape", "Causeway", "Center", "Centers", "Circles", "Cliff", "Cliffs", "Club",
    "Common", "Commons", "Corner", "Corners", "Course", "Courts", "Cove", "Coves", "Creek",
    "Crest", "Crossing", "Crossroad", "Curve", "Dale", "Dam", "Divide", "Drives", "Estate",
    "Estates", "Extension", "Extensions", "Fall", "Falls", "Ferry", "Field", "Fields",
    "Flat", "Flats", "Ford", "Fords", "Forest", "Forge", "Forges", "Fork", "Forks", "Fort",
    "Garden", "Gardens", "Gateway", "Glen", "Glens", "Green", "Greens", "Grove", "Groves",
    "Harbor", "Harbors", "Haven", "Heights", "Hill", "Hills", "Hollow", "Inlet", "Island",
    "Islands", "Isle", "Junction", "Junctions", "Key", "Keys", "Knoll", "Knolls", "Lake",
    "Lakes", "Land", "Landing", "Light", "Lights", "Loaf", "Lock", "Locks", "Lodge", "Mall",
    "Manor", "Manors", "Meadow", "Meadows", "Mews", "Mill", "Mills", "Mission", "Motorway",
    "Mount", "Mountain", "Mountains", "Neck", "Orchard", "Oval", "Overpass", "Park",
    "Parks", "Parkways", "Pass", "Passage", "Pine", "Pines", "Plain", "Plains", "Point",
    "Points", "Port", "Ports", "Prairie", "Radial", "Ramp", "Ranch", "Rapid", "Rapids",
    "Rest", "Ridge", "Ridges", "River", "Roads", "Route", "Rue", "Run", "Shoal", "Shoals",
    "Shore", "Shores", "Skyway", "Spring", "Springs", "Spur", "Spurs", "Squares", "Station",
    "Stravenue", "Stream", "Streets", "Summit", "Throughway", "Trace", "Track",
    "Trafficway", "Tunnel", "Underpass", "Union", "Unions", "Valley", "Valleys", "Via",
    "Viaduct", "View", "Views", "Village", "Villages", "Ville", "Vista", "Walks", "Wall",
    "Ways", "Well", "Wells",
)  # fmt: skip
# Suffixes that are also titles: "Dr. Smith", "St. Mary's".
TITLE_LIKE = frozenset({"Dr", "St"})
# In capitals these are clinical shorthand or common words ("HEAD CT", "3 WAY", "IN PLACE").
_UPPER_AMBIGUOUS = frozenset(
    {"ST", "DR", "CT", "PL", "AV", "TER", "CIR", "SQ", "WAY", "ROW", "PATH", "WALK", "LOOP",
     "PIKE", "TRL", "ALY", "PLZ", "CRES", "PLACE"}
)  # fmt: skip


def _alternation(words: tuple[str, ...], *, upper: bool) -> str:
    forms = set(words)
    if upper:
        forms |= {w.upper() for w in words if w.upper() not in _UPPER_AMBIGUOUS}
    return "|".join(sorted(forms, key=len, reverse=True))


_COMMON = _alternation(COMMON_SUFFIXES, upper=True)
_RARE = _alternation(RARE_SUFFIXES, upper=False)

_NUMBER = r"(?<![\w.,/:#-])[0-9]{1,6}[A-Za-z]?(?:-[0-9]{1,6})?"
# Street names do not contain these; shouted notes do: "3 WAY FOLEY IN PLACE".
_FUNCTION_WORDS = r"(?:IN|ON|AT|TO|OF|AND|OR|THE|IS|WAS|WITH|FOR|BY|AS|IF|NO|NOT|PER|FROM)"
_WORD = (
    rf"(?:(?!(?i:{_FUNCTION_WORDS})\b)[A-Z][A-Za-z'.-]{{0,24}}"
    r"|[0-9]{1,3}(?:st|nd|rd|th|ST|ND|RD|TH))"
)
_UNIT_WORDS = r"Apt|Apartment|Suite|Ste|Unit|Rm|Room|Fl|Floor|Bldg|Building|APT|SUITE|STE|UNIT"
_UNIT = (
    rf"(?P<unit>,?[ \t]{{1,2}}(?:(?:{_UNIT_WORDS})\.?[ \t]{{0,2}}\#?|\#)[ \t]{{0,2}}"
    r"[A-Za-z0-9][A-Za-z0-9-]{0,7}(?![\w-]))?"
)
# Streets named by a number or by themselves: "3835 Route 9", "197 Broadway".
_ROAD_WORDS = ("Route", "Rte", "Highway", "Hwy", "Interstate", "State Route", "County Road")
_ROAD_NAMES = "|".join(w.replace(" ", r"[ \t]") for w in (*_ROAD_WORDS, "US"))
_ROAD_NAMES_UPPER = "|".join(w.upper().replace(" ", r"[ \t]") for w in _ROAD_WORDS)
_NUMBERED_ROAD = (
    rf"(?:{_ROAD_NAMES}|{_ROAD_NAMES_UPPER})\.?[ \t-]{{0,2}}[0-9]{{1,4}}[A-Z]?\b|Broadway|BROADWAY"
)
STREET_ADDRESS = (
    rf"{_NUMBER}[ \t]{{1,2}}(?:(?:{_WORD}[ \t]{{1,2}}){{1,4}}"
    rf"(?:(?P<common>{_COMMON})|(?P<rare>{_RARE}))\b\.?"
    rf"|(?:[NSEW]\.?[ \t])?(?:{_NUMBERED_ROAD})){_UNIT}"
)
LABELLED_ADDRESS = (
    r"\b(?i:address|addr|(?:lives|living|resides|residing|stays|staying)\b[^\n0-9]{0,24}?\bat)"
    r"[ \t]{0,3}[:=-]?[ \t]{0,3}"
    rf"(?P<{PHI_GROUP}>(?i:[0-9]{{1,6}}[a-z]?[ \t]{{1,2}}"
    rf"(?:(?:[a-z0-9][a-z'.-]{{0,24}}[ \t]{{1,2}}){{1,4}}(?:{_COMMON}|{_RARE})\b\.?"
    rf"|{_NUMBERED_ROAD}){_UNIT}))"
)
PO_BOX = (
    r"\b(?i:p\.?[ \t]?o\.?[ \t]?box|post[ \t]{1,2}office[ \t]{1,2}box)"
    r"[ \t]{0,2}\#?[ \t]{0,2}[0-9]{1,6}(?!\w)"
)

_STATES = "|".join(sorted(ZIP_PREFIXES))
_STATE_NAMES = "|".join(n.replace(" ", r"\s") for n in STATE_NAMES)
# What may follow a street to show it is one: a unit, a ", City, ST" or a ZIP.
_EVIDENCE_AFTER = regex.compile(
    rf"\.?,?[ \t]{{0,2}}\n?[ \t]{{0,4}}(?:(?:{_UNIT_WORDS})\b|\#[ \t]?[0-9]"
    rf"|[A-Z][A-Za-z'.-]{{1,24}}(?:[ \t][A-Z][A-Za-z'.-]{{1,24}}){{0,2}},[ \t]{{0,2}}"
    rf"(?:(?:{_STATES})\b|(?i:{_STATE_NAMES})\b)|(?:{_STATES})[ \t]{{1,2}}[0-9]{{5}})"
)
_EVIDENCE_BEFORE = regex.compile(
    r"(?i:\b(?:address|addr|lives|living|resides|residing|located|mailing|moved\s+to))"
    r"\b[^\n]{0,16}$"
)
_CAPITALISED_NEXT = regex.compile(r"\.?[ \t]{1,3}[A-Z][A-Za-z]")
_LOOK = 80


class StreetAddressRecognizer(StructuredRecognizer):
    """Street addresses and PO boxes."""

    ENTITY = entities.STREET_ADDRESS.name
    NAME = "deid.addresses"
    PATTERNS = (
        ("street_address", STREET_ADDRESS, 0.8),
        ("street_address_labelled", LABELLED_ADDRESS, 0.85),
        ("po_box", PO_BOX, 0.85),
    )

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        if "rare" not in match.re.groupindex:
            return start, end, score
        suffix = match.group("common") or match.group("rare")
        suffix_end = match.end("common") if match.group("common") else match.end("rare")
        needs_evidence = match.group("rare") is not None or (
            suffix in TITLE_LIKE and _CAPITALISED_NEXT.match(text, suffix_end) is not None
        )
        has_unit = match.group("unit") is not None
        if needs_evidence and not has_unit and not _has_evidence(text, start, end):
            return None
        return start, end, score


def _has_evidence(text: str, start: int, end: int) -> bool:
    if _EVIDENCE_AFTER.match(text[end : end + _LOOK]):
        return True
    return _EVIDENCE_BEFORE.search(text[max(0, start - _LOOK // 2) : start]) is not None


RECOGNIZERS = [StreetAddressRecognizer]
