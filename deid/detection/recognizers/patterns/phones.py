"""PHONE_NUMBER and FAX_NUMBER recognizer for clinical notes.

Full numbers (``(617) 555-0199``, ``617-555-0199``, ``617.555.0199``, ``617 555 0199``,
``+1 617 555 0199``, ``617- 555- 0199``, ``617 5550199``, ``617/555/0199``) are found on
their shape alone.  A 7-digit local number written ``555-1234`` counts on its own too
unless it reads as a range or a pair of clock times (``575-1000``, ``900-1300``,
``700-1900``: the upper bound at most twice the lower, both round, or both valid
times) or follows a measurement word (``SVR 954-1183``).  Other short numbers -- 4-5
digit pagers and extensions (``Pager #54321``, ``beeper number 55037``, ``PG 33445``,
``x4521``, ``ext. 4521``) -- look like any other number in a nursing note (volumes,
ranges, clock times), so they count only after a phone word on the same line.
When the phone word nearest the number is ``fax``, the number is a FAX_NUMBER.

Each result has ``recognition_metadata[deid.spans.KIND_KEY]``: ``"full"``, ``"local"``
(7 digits), ``"short"`` (pager or internal extension) or ``"extension"`` (``x4521``).

Speed: the scan anchors on "3 digits, separator, 4-5 digits" and on 4-5 digit runs;
area codes, extensions and phone words are then read around each anchor.
"""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from deid import entities
from deid.detection.recognizers.patterns.dates import lowered
from deid.spans import KIND_KEY

PHONE = entities.PHONE_NUMBER.name
FAX = entities.FAX_NUMBER.name
PHONE_RECOGNIZER_NAME = "deid.phones"

SCORE_WITH_LABEL = 0.85  # any shape right after a phone word
SCORE_FULL = 0.75  # 617-555-0199, (617) 555-0199, 617.555.0199
SCORE_FULL_PLAIN = 0.55  # 617 555 0199; 555-0199 with a leading-zero line number
SCORE_EXTENSION_X = 0.55  # "x4521" without a phone word
SCORE_UNLABELLED = 0.3  # 555-1234 or a pager-like number without a phone word: reported, dropped


def _words(text: str) -> frozenset[str]:
    """A word set written as one space-separated string (keeps long lists compact)."""
    return frozenset(text.split())


# _EXCHANGE_LINE and _SHORT scan whole notes, so they open with a single digit class
# (``\d\d\d``, not ``\d{3}``; no optional group first): ``re`` then skips ahead to the
# next digit instead of trying the pattern at every position (5x faster for _SHORT).

# exchange + line: "555-0199", "555 0199", "273 45166" (a stray fifth digit happens).
# A slash may follow ("617-555-1212/pager") but not a slash and a digit (a ratio or date).
# A blank may stand beside the dash or dot: "476- 8356" (typed or OCR'd).
_EXCHANGE_LINE = re.compile(r"\d\d\d(?:[ \t]?[.\-][ \t]?|[ \t])\d{4,5}(?![\w\-]|[./]\d)")
# what may precede the exchange: "+1 617 ", "(617) ", "617-", "617- ", "617" (glued:
# "240444-1243")
_AREA_BEFORE = re.compile(
    r"(?:\+?1[ \t.\-]{1,2})?(?:\((?P<paren>\d{3})\)[ \t]{0,2}"
    r"|\d{3}(?P<sep>[ \t]?[.\-][ \t]?|[ \t]?))\Z"
)
# Area code and the seven digits run together ("202 2671093") or slashes throughout
# ("201/324/1423"; a date or ratio never has three-digit parts).  Area code and exchange
# never start with 0 or 1.
_AREA_SEVEN = re.compile(r"[2-9]\d\d[ \t.\-][2-9]\d{6}(?![\w\-]|[./]\d)")
_SLASHED = re.compile(r"[2-9]\d\d/[ \t]?[2-9]\d\d/[ \t]?\d{4}(?![\w\-]|[./]\d)")
# Right before a local number, these make it a measurement range ("SVR 954-1183").
_MEASURE_BEFORE = _words(
    "sbp dbp bp map hr rr svr pvr svri co ci cvp pa pap pcwp u/o uo i/o io plt plts wbc "
    "glucose bs fs bg range ranges between from vt tv peep ml cc"
)
_EXTENSION_AFTER = re.compile(
    r"[ \t]{0,2},?[ \t]{0,2}(?:x|ext\.?|extension)[ \t]{0,2}\d{1,5}(?![a-z0-9])"
)
# After a phone word: pager / internal number ("54321", "4-5521"), or 7 / 10 digits
# written without separators.  Boundaries are checked in code.
# Alternatives in the order of ``(?:\d-)?\d{4,5}|\d{7}(?:\d{3})?``.
_SHORT = re.compile(r"\d(?:-\d{4,5}|\d{3,4}|\d{6}(?:\d{3})?)(?![\w\-/%]|[.,:]\d)")
_EXTENSION = re.compile(r"(?:(?P<x>x)|ext\.?|extension)[ \t]{0,2}(?P<num>\d{3,5})(?![a-z0-9])")

# Phone words (on lower-cased text).  The nearest one before the number decides phone vs fax.
_LABEL = re.compile(
    r"(?<![a-z])(?P<word>phone|ph|tel|telephone|cell|cellphone|mobile|home|work|office|pager"
    r"|page|pg|pgr|beeper|beep|bpr|ext|extension|contact|call|reach|reached|number|num|no|fax"
    r"|facsimile|telefax)(?![a-z])|#"
)
# Words that make a short number a phone number ("number", "no" or "#" alone do not).
_STRONG_LABELS = _words(
    "phone ph tel telephone cell cellphone mobile pager page pg pgr beeper beep bpr ext extension "
    "contact call reach reached fax facsimile telefax home work office"
)
# Labels strong enough for a 4-digit number, which is otherwise a clock time ("call at 2130").
_FOUR_DIGIT_LABELS = _words("pager page pg pgr beeper beep bpr ext extension tel phone")
_FAX_LABELS = _words("fax facsimile telefax")
# A '#' after these is a record, account or room number, not a phone.
_OTHER_ID_BEFORE = re.compile(
    r"(?<![a-z])(?:mrn|mr|record|acct|account|id|ssn|room|rm|bed|unit|ref|order|lot|serial"
    r"|policy|member)[ \t]{0,2}#?[ \t]{0,2}\Z"
)
# What may stand between a phone word and the number: punctuation and these words.
_FILLER_WORDS = re.compile(r"(?<![a-z])(?:number|num|no|is|at|or|and)(?![a-z])")
_FILLER_CHARS = frozenset(" \t:#.=-(),/")


def _is_filler(gap: str, max_len: int) -> bool:
    gap = _FILLER_WORDS.sub(" ", gap)
    return len(gap) <= max_len and set(gap) <= _FILLER_CHARS


def _label_before(low: str, start: int) -> tuple[str | None, bool]:
    """(phone word governing the number at ``start``, whether it is a strong one).

    The nearest phone word on the same line within 40 characters counts when only
    punctuation and filler words separate it from the number ("Pager: #", "beeper
    number", "cell# ", "number is").  Words chained to it the same way count too.
    """
    window = low[max(0, start - 40) : start]
    window = window[window.rfind("\n") + 1 :]
    labels = list(_LABEL.finditer(window))
    if not labels or not _is_filler(window[labels[-1].end() :], 20):
        return None, False
    chained = [labels[-1].group("word") or "#"]
    for prev, cur in zip(reversed(labels[:-1]), reversed(labels[1:]), strict=True):
        if not _is_filler(window[prev.end() : cur.start()], 6):
            break
        chained.append(prev.group("word") or "#")
    strong = next((w for w in chained if w in _STRONG_LABELS), None)
    return (strong or chained[0]), strong is not None


def _result(label: str | None, start: int, end: int, score: float, kind: str) -> RecognizerResult:
    entity = FAX if label in _FAX_LABELS else PHONE
    return RecognizerResult(entity, start, end, score, recognition_metadata={KIND_KEY: kind})


def _punctuated(area: re.Match[str], number: re.Match[str]) -> bool:
    """Written like a phone number: "(617) 555-0199", "617-555-0199", "617 555-0199".

    All-blank ("617 555 0199"), glued ("240444-1243") or 5-digit line numbers are
    identifiers too, but less surely phones.
    """
    digits_and_sep = number.group().replace(" ", "").replace("\t", "")
    if len(digits_and_sep) != 8:
        return False
    if area.group("paren") is not None:
        return True
    area_sep, exchange_sep = area.group("sep").strip(), digits_and_sep[3]
    return area_sep in ("-", ".") or (area_sep == "" and exchange_sep in "-.")


def _clock(value: str) -> bool:
    """ "700", "1930": a valid 24-hour clock time."""
    number = int(value)
    return number <= 2400 and number % 100 < 60


def _local_number(low: str, m: re.Match[str]) -> bool:
    """Whether an unlabelled ``555-1234`` (dash, no blanks) reads as a phone number, not a
    range of volumes or clock times, nor a measurement."""
    exchange, sep, line = low[m.start() : m.start() + 3], low[m.start() + 3], m.group()[4:]
    if line[0] == "0":
        return True  # a range never starts its upper bound with 0
    if sep != "-" or len(line) != 4 or exchange[0] in "01":
        return False
    low_bound, high_bound = int(exchange), int(line)
    if high_bound <= 2 * low_bound:  # "575-1000", "954-1183"
        return False
    if exchange.endswith("0") and line.endswith("0"):  # "200-1000", "150-4000"
        return False
    if _clock(exchange) and _clock(line):  # "715-1915": a shift
        return False
    before = low[max(0, m.start() - 24) : m.start()].split()
    if before and before[-1].rstrip(":=") in _MEASURE_BEFORE:
        return False
    after = low[m.end() : m.end() + 8].split()
    return not (after and after[0].strip(".,;)") in _UNITS_AFTER)


_UNITS_AFTER = _words("cc ml mg mcg units u l lpm kcal cal g gm kg ml/hr cc/hr mmhg %")


def _boundary_ok(low: str, start: int) -> bool:
    """Nothing number-like is glued to the left of ``start``."""
    if start == 0:
        return True
    before = low[start - 1]
    if before.isalnum() or before in "_+./":
        return False
    return not (before == "-" and start > 1 and low[start - 2].isdigit())


class ClinicalPhoneRecognizer(EntityRecognizer):
    """Telephone, pager, extension and fax numbers."""

    def __init__(self) -> None:
        super().__init__(
            supported_entities=[PHONE, FAX], name=PHONE_RECOGNIZER_NAME, supported_language="en"
        )

    def load(self) -> None:  # patterns are compiled at import
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """PHONE_NUMBER / FAX_NUMBER results with kind metadata."""
        wanted = set(entities) & {PHONE, FAX} if entities else {PHONE, FAX}
        if not wanted:
            return []
        low = lowered(text)
        found = (
            self._numbers(low)
            + self._run_together(low)
            + self._short_numbers(low)
            + self._extensions(low)
        )
        return [r for r in found if r.entity_type in wanted]

    @staticmethod
    def _numbers(low: str) -> list[RecognizerResult]:
        """Full (area code) and local (7-digit) numbers."""
        found = []
        for m in _EXCHANGE_LINE.finditer(low):
            start, end = m.span()
            area = _AREA_BEFORE.search(low, max(0, start - 12), start)
            if area is not None and _boundary_ok(low, area.start()):
                start = area.start()
                kind = "full"
            elif _boundary_ok(low, start):
                kind = "local"
            else:
                continue  # inside a longer number: "1200-1500", a ZIP+4
            ext = _EXTENSION_AFTER.match(low, end)
            if ext is not None:
                end = ext.end()
            label, strong = _label_before(low, start)
            if strong:
                score = SCORE_WITH_LABEL
            elif kind == "local":
                score = SCORE_FULL_PLAIN if _local_number(low, m) else SCORE_UNLABELLED
            else:
                assert area is not None  # a full number: its area code was found
                score = SCORE_FULL if _punctuated(area, m) else SCORE_FULL_PLAIN
            found.append(_result(label, start, end, score, kind))
        return found

    @staticmethod
    def _run_together(low: str) -> list[RecognizerResult]:
        """ "202 2671093" and "201/324/1423": full numbers in less usual writing."""
        found = []
        for pattern in (_AREA_SEVEN, _SLASHED):
            for m in pattern.finditer(low):
                start, end = m.span()
                if not _boundary_ok(low, start) or (start and low[start - 1] == "-"):
                    continue
                ext = _EXTENSION_AFTER.match(low, end)
                if ext is not None:
                    end = ext.end()
                label, strong = _label_before(low, start)
                score = SCORE_WITH_LABEL if strong else SCORE_FULL_PLAIN
                found.append(_result(label, start, end, score, "full"))
        return found

    @staticmethod
    def _short_numbers(low: str) -> list[RecognizerResult]:
        """Pagers, internal extensions and unseparated numbers right after a phone word."""
        found = []
        for m in _SHORT.finditer(low):
            start, end = m.span()
            if not _boundary_ok(low, start) or low[start - 1 : start] == "-":
                continue
            label, strong = _label_before(low, start)
            if label is None or _OTHER_ID_BEFORE.search(low, max(0, start - 24), start):
                continue
            if end - start == 4 and label not in _FOUR_DIGIT_LABELS:
                continue  # "call at 2130" is a time
            score = SCORE_WITH_LABEL if strong else SCORE_UNLABELLED
            found.append(_result(label, start, end, score, "short"))
        return found

    @staticmethod
    def _extensions(low: str) -> list[RecognizerResult]:
        """ "x4521", "ext. 4521", "extension 452"."""
        found = []
        for m in _EXTENSION.finditer(low):
            if m.start() and low[m.start() - 1].isalnum():
                continue
            label, strong = _label_before(low, m.start())
            if m.group("x"):
                if len(m.group("num")) < 4 or m.start("num") != m.end("x"):
                    continue  # "x 700" is a ventilator volume, "x3" a count
                score = SCORE_WITH_LABEL if strong else SCORE_EXTENSION_X
            else:
                score = SCORE_WITH_LABEL
            found.append(_result(label, m.start(), m.end(), score, "extension"))
        return found


RECOGNIZERS = [ClinicalPhoneRecognizer]
