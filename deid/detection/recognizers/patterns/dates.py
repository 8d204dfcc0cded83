"""DATE recognizers tuned on nursing notes.

Nursing notes are full of numbers that look like dates and are not: blood pressures
(``120/80``), blood gases (``7.40/35/64/22``), ventilator settings (``PSV 10/5``),
fractions (``1/2 NS``), pain scores (``c/o 3/10``), ranges (``2-3 times``) and clock
times (``2130``).  A regex alone cannot tell them apart, so each candidate is parsed and
then judged by the words around it on the same line.  That logic lives in code rather
than in Presidio's context enhancer, which can only raise scores and only looks back.

Two recognizers, each reporting what kind of date a span holds (``deid.entities.DateKind``,
as the span's ``kind``):

* ``ClinicalDateRecognizer`` (name ``"deid.dates"``): calendar dates and date elements more specific
  than a year -- ``7/22``, ``7/22/93``, ``2019-07-22``, ``July 22nd``, ``22-Jul-2019``,
  ``July 2019``, ``on the 3rd``, ``Friday 9/17``, holidays, weekday-anchored relative
  dates (``last Friday``, ``next Tuesday``, ``this past Monday``: with the note's date
  they pin one day), dates glued to a word or a dot (``fx4/97``, ``.8/31``) and lists of
  days after a date word (``on 4/2/3/5``).  Pure intervals (``last week``, ``3 days
  ago``, ``yesterday``) are not reported: Safe Harbor removes dates directly related to
  an individual, and an interval without an anchor names no date.
* ``YearRecognizer`` (name ``"deid.dates.year"``): years standing alone -- ``1992``, ``'92``,
  ``CA'88``, ``MI 92``, ``CABG 81, 84``, ``CVA 74'``, ``quit smoking 62'``, ``1980s``, kind ``DateKind.YEAR`` (only this
  recognizer reports it).  Safe Harbor lets a bare year stay; the policy tells them
  apart by the span's kind.

Every result has ``recognition_metadata[deid.spans.KIND_KEY]``, a ``DateKind``.

Speed: patterns run case-sensitively on a lower-cased copy of the note and start with a
literal, a digit or a small letter set, so the regex engine can skip ahead; boundary
look-behinds come after that first character.  Detailed patterns run only at those
anchors.  All patterns are linear: bounded separators, no nested or overlapping
repetition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from deid import entities
from deid.entities import DateKind
from deid.spans import KIND_KEY

DATE = entities.DATE.name
DATE_RECOGNIZER_NAME = "deid.dates"
YEAR_RECOGNIZER_NAME = "deid.dates.year"

# Scores.  The Detector keeps >= 0.5; lower ones are reported but dropped there.
SCORE_FULL = 0.95
SCORE_MONTH_DAY = 0.85
SCORE_MONTH_YEAR = 0.75
SCORE_NAMED = 0.6  # month name alone, ordinal day, holiday
SCORE_AMBIGUOUS_MONTH_DAY = 0.5  # "May 5", "Dec 2": month words that are also clinical words
SCORE_WEAK = 0.35  # fraction-like 1/2, range-like 7-8, without date context
SCORE_WEAK_WITH_CONTEXT = 0.6  # "admitted 1/3", "on 7-8"
SCORE_YEAR_QUOTED = 0.7  # '92
SCORE_YEAR = 0.6  # 1992, MI 92, CVA 74'
SCORE_YEAR_WEAK = 0.4  # 74' without an event word before it


def _words(text: str) -> frozenset[str]:
    """A word set written as one space-separated string (keeps long lists compact)."""
    return frozenset(text.split())


# --- vocabulary ------------------------------------------------------------------------

# Month words that are everyday clinical words (may; MAR = medication record; dec =
# decreased; aug = augmented): a date only with a day or year attached, and then unsure.
_MONTH_WORDS_AMBIGUOUS = _words("may mar dec aug")
# Never a date on its own: those, and "jan", which is more often a name.
_MONTH_WORDS_NEVER_ALONE = _MONTH_WORDS_AMBIGUOUS | {"jan"}
# ... except these two right after a word that introduces a month ("in aug.", "since dec").
_MONTH_WORDS_ALONE_AFTER_CUE = _words("aug dec")
_MONTH_FULL_NAMES = _words(
    "january february march april june july august september october november december"
)
# Before a month abbreviation standing alone ("in sept.", "since nov").
_WORDS_BEFORE_LONE_MONTH = _words(
    "in since of during early late mid until till from last next this by before after"
)
_ORD = r"(?:st|nd|rd|th)"
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"

# Before an a/b pair: blood pressure, haemodynamics, gases, ventilator, labs, murmurs.
_BLOCK_BEFORE = _words(
    "bp b/p sbp abg vbg pa pap pas pad pcwp cvp co ci co/ci c.o svr psv ps cpap bipap "
    "bi-pap peep imv simv ips vent ventilation a/c cmv flowby settings mode trial ratio "
    "i:e h/h hct/hgb bun/cr bun/creat bun/cre bun/crea strength murmur sem grade tv vt "
    "cpap/ps cpap/psv psv/cpap ps/peep cpap+ps"
)
# After an a/b pair (or any part of a compound like "psv/cpap"): doses, vent, murmurs.
_BLOCK_AFTER = _words(
    "ns nss str strength amp amps way gallon tab tabs cup cups peep psv bipap cpap ps ips "
    "fio2 sem hsm murmur rate assist ratio %"
)
_FRACTION_NOUNS = _words("hr hrs hour hours of up bilat bilaterally")
_PAIN_WORDS = _words("pain cp c/o angina discomfort pressure scale ache incisional #")
# A unit after a number makes it a quantity, not a date or a year.
_UNITS = _words(
    "cc ml l lpm liter liters mg mcg g gm gms units u meq mmol kg lb lbs kcal cal min "
    "mins minutes sec mm cm mmhg bpm beats times x mcg/kg/min ml/hr cc/hr %"
)
# Right before a weak candidate (1/2, 7-8), these make it a date.
_DATE_WORDS_BEFORE = _words(
    "on since until till thru dated admitted readmitted extubated intubated placed "
    "started dob born due cath cathed"
)
# Words that may follow a weak candidate ("on 7-8 for coiling"); any other word after
# it marks a count ("on 1-2 pillows").
_FUNCTION_WORDS_AFTER = _words(
    "for with at and in by to when after before via from am pm a p s/p until or then"
)
_WORDS_BEFORE_ORDINAL = _words("on since until till by before after from")
# "the 3rd floor", "the 2nd dose": an ordinal followed by these is not a date.
_ORDINAL_NOUNS = _words(
    "time times dose doses day days attempt attempts try unit units bag bags set sets "
    "episode episodes hour hours liter floor ics intercostal rib ribs toe toes finger "
    "digit grade cycle round week weeks month months trimester line lumen stage "
    "position person party cranial ventricle percentile generation"
)
# A two-digit number right after these is a year ("MI 92", "CABG 81", "CVA in 94").
_EVENT_WORDS = _words(
    "mi ami imi nstemi stemi cabg redo ptca pci stent stents stented cva tia avr mvr dx "
    "dx'd diagnosed chole cholecystectomy appy appendectomy repair surgery replacement "
    "ablation cardioversion pacer pacemaker ppm aicd hysterectomy mastectomy mastectomies "
    "lobectomy nephrectomy colectomy thyroidectomy turp tah/bso xrt chemo dvt mva "
    "transplant resection bypass angioplasty endarterectomy cea hernia herniorrhaphy fx "
    "fracture stroke infarct arrest"
)
_YEAR_WORDS_BEFORE = _words("in of year yr yrs born dob circa")
# Before a two-digit year written with a trailing quote ("quit smoking 62'", "since 88'"):
# life events that are dated by their year.  ("HOB 30'" is an angle.)
_LIFE_EVENT_WORDS = _words(
    "smoking smoked quit stopped since until married divorced widowed retired moved "
    "immigrated emigrated sober died passed deceased started"
)
# Measurements that run to four digits: "u/o 1975", "SVR 1980", "PLT 1990" are not years.
_MEASURE_WORDS_BEFORE = _words(
    "u/o uo i/o io intake output out total net los svr pvr plt plts wbc tv vt bs fs bg "
    "glucose cpk ck ldh bnp fib fibrinogen amylase lipase ammonia pao2 po2 weight wt"
)

# --- patterns --------------------------------------------------------------------------

# A run of numbers joined by / . - (7/22, 7.40/35/64, 94-113/42-51).  Each repetition
# starts with a separator that \d+ cannot consume, so matching is linear.
# A dot may precede it when no digit precedes the dot (".8/31" after a sentence, not "7.40/35").
_NUMERIC_RUN = re.compile(r"\d(?<![\d/']\d)(?<!\d\.\d)\d*(?:[/.\-]\d+)+")
_SEPARATOR = re.compile(r"([/.\-])")
_COMPOUND = re.compile(r"[/+]")
# The first letter is consumed before the look-behinds so the engine can skip ahead to it.
_MONTH_WORD = re.compile(
    r"[adfjmnos](?<![a-z].)(?:(?<=j)an(?:uary)?|(?<=f)eb(?:ruary)?|(?<=m)ar(?:ch)?"
    r"|(?<=a)pr(?:il)?|(?<=m)ay|(?<=j)une?|(?<=j)uly?|(?<=a)ug(?:ust)?|(?<=s)ep(?:t(?:ember)?)?"
    r"|(?<=o)ct(?:ober)?|(?<=n)ov(?:ember)?|(?<=d)ec(?:ember)?)(?![a-z])"
)
# After a month word: "[.] 22nd[, 2019]", "-22", " 2019", " of 1993", ", 96"
_AFTER_MONTH = re.compile(
    r"\.?(?:[ \t]{0,2}[,\-/][ \t]{0,2}|[ \t]{1,3}(?:of[ \t]{1,3})?)"
    rf"(?P<num>\d{{1,4}})(?P<ord>{_ORD})?(?![a-z0-9])"
    r"(?P<sep>[ \t]{0,2},[ \t]{0,2}|[ \t]{1,3}|-)?(?P<year>'\d{2}|\d{4}|\d{2})?(?![\w'])"
)
# Before a month word: "22 ", "3rd of ", "22-", "1->2 "
_DAY_BEFORE_MONTH = re.compile(
    rf"(?<![\w./\-])(?P<day>\d{{1,2}})(?P<ord>{_ORD})?"
    r"(?:[ \t]{0,2}(?:->?|to|thru|through|&|and)[ \t]{0,2}"
    rf"(?P<day2>\d{{1,2}})(?P<ord2>{_ORD})?)?"
    r"(?:[ \t]{1,3}of[ \t]{1,3}|[ \t]{0,2}-[ \t]{0,2}|[ \t]{1,3})\Z"
)
# After "22 July": "[.][,] 2019", " '19", ", 96"
_YEAR_AFTER_MONTH = re.compile(
    r"\.?(?P<sep>[ \t]{0,2}[,\-][ \t]{0,2}|[ \t]{1,3})(?P<year>'\d{2}|\d{4}|\d{2})(?![\w'])"
)
_ORDINAL_DAY = re.compile(rf"the[ \t]{{1,3}}(?P<day>\d{{1,2}}){_ORD}(?![a-z0-9])")
_HOLIDAY = re.compile(
    r"(?:christmas(?:[ \t](?:eve|day))?|xmas|thanksgiving(?:[ \t]day)?"
    r"|new[ \t]years?'?s?(?:[ \t](?:eve|day))?|easter(?:[ \t]sunday)?|halloween"
    r"|independence[ \t]day|fourth[ \t]of[ \t]july|memorial[ \t]day|labor[ \t]day"
    r"|valentine'?s(?:[ \t]day)?|mother'?s[ \t]day|father'?s[ \t]day|mlk[ \t]day"
    r"|martin[ \t]luther[ \t]king(?:[ \t]jr\.?)?[ \t]day|presidents'?[ \t]day|columbus[ \t]day"
    r"|veterans'?[ \t]day|good[ \t]friday|yom[ \t]kippur|rosh[ \t]hashanah|hanukkah"
    r"|chanukah|passover|kwanzaa)(?![a-z])"
)
# Substrings every holiday name holds: a cheap test before running _HOLIDAY.
_HOLIDAY_STEMS = (
    "christmas", "xmas", "thanksgiving", "new year", "easter", "halloween", "independence",
    "of july", "s day", "s' day", "memorial", "labor", "mlk", "king", "columbus", "friday",
    "kippur", "hashanah", "hanukkah", "chanukah", "passover", "kwanzaa",
)  # fmt: skip
_WEEKDAY_BEFORE = re.compile(rf"(?<![a-z]){_WEEKDAY},?[ \t]{{1,3}}\Z")
# "last Friday", "next tuesday", "this past Monday", "this coming Sat": one day, given the
# note's date.  Not "last week", "3 days ago": intervals name no date.
_RELATIVE_WEEKDAY = re.compile(
    r"(?:last|next|this(?:[ \t]{1,3}(?:past|coming))?|past|coming)[ \t]{1,3}"
    rf"(?:{_WEEKDAY}|(?:mon|tues?|wed|thu(?:rs?)?|fri|sat|sun))(?![a-z])"
)
_RELATIVE_CUES = ("last", "next", "this", "past", "coming")
_NEXT_WORD = re.compile(r"[ \t]{0,3}([a-z][a-z/']*)")
# Words on the same line: a token starts with a letter or digit; '#', '%', '(' count too.
_TOKEN = re.compile(r"[a-z0-9][a-z0-9/'+.&\-]*|[#%(]")

_YEAR_QUOTED = re.compile(r"'\d\d(?![\w'])")  # '92
_YEAR_TWO_DIGIT = re.compile(r"\d(?<![\w.'/\-]\d)\d'?(?![\w'%/]|[.,]\d)")  # 92, 74'
_YEAR_FOUR = re.compile(r"[12](?<![\w'./:+#$\-][12])\d{3}(?:'?s)?(?![a-z0-9])")  # 1992, 1980s
_YEAR_LIST_GAP = re.compile(r"'?[ \t]{0,2}(?:,|&|and)[ \t]{0,3}'?")  # "94 and 00", "81, 84"


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    score: float
    kind: DateKind


# --- text helpers ----------------------------------------------------------------------


def lowered(text: str) -> str:
    """``text.lower()`` with the same length (offsets stay valid for any Unicode)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _line_before(low: str, start: int, width: int = 48) -> str:
    window = low[max(0, start - width) : start]
    return window[window.rfind("\n") + 1 :]


def _line_after(low: str, end: int, width: int = 40) -> str:
    window = low[end : end + width]
    cut = window.find("\n")
    return window if cut < 0 else window[:cut]


def _tokens_before(low: str, start: int, count: int) -> list[str]:
    return [t.rstrip(".,;:") for t in _TOKEN.findall(_line_before(low, start))[-count:]]


def _tokens_after(low: str, end: int, count: int) -> list[str]:
    return [t.rstrip(".,;:") for t in _TOKEN.findall(_line_after(low, end))[:count]]


def _word_right_after(low: str, end: int) -> str:
    """The word after ``end`` past blanks only; '' if punctuation or a digit comes first."""
    m = _NEXT_WORD.match(low, end)
    return m.group(1) if m else ""


def _word_before(low: str, pos: int) -> tuple[str, int]:
    """The word ending right before ``pos`` (blanks skipped) and where it starts."""
    i = pos
    while i > 0 and low[i - 1] in " \t":
        i -= 1
    j = i
    while j > 0 and (low[j - 1].isalpha() or low[j - 1] in "/'"):
        j -= 1
    return low[j:i], j


def _quantity_follows(low: str, end: int) -> bool:
    nxt = _tokens_after(low, end, 1)
    return bool(nxt) and nxt[0] in _UNITS


def _letter_before(low: str, pos: int) -> bool:
    return pos > 0 and low[pos - 1].isalpha()


def _valid_month_day(month: int, day: int) -> bool:
    # The day is not checked against the month: surrogate notes hold dates like 2/31.
    return 1 <= month <= 12 and 1 <= day <= 31


def _valid_year(digits: str) -> bool:
    if len(digits) == 2:
        return True
    return len(digits) == 4 and 1900 <= int(digits) <= 2099


def _results(hits: list[_Hit]) -> list[RecognizerResult]:
    """Merge overlapping hits (widest extent, best score) into Presidio results."""
    out: list[RecognizerResult] = []
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        last = out[-1] if out else None
        if last is not None and hit.start < last.end:
            last.end = max(last.end, hit.end)
            if hit.score > last.score:
                last.score = hit.score
                last.recognition_metadata[KIND_KEY] = hit.kind
            continue
        meta = {KIND_KEY: hit.kind}
        out.append(RecognizerResult(DATE, hit.start, hit.end, hit.score, recognition_metadata=meta))
    return out


# --- numeric dates -----------------------------------------------------------------------

_Candidate = tuple[int, int, float, DateKind, bool]  # start, end, score, kind, weak


def _numeric_dates(text: str, low: str, match: re.Match[str]) -> list[_Hit]:
    start, end = match.span()
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if before == "#" or after in ("/", "%"):
        return []  # "#4/10" pain score; "10/5/.40", "5/30%" ventilator settings
    run = match.group()
    parts = _SEPARATOR.split(run)
    nums, seps = parts[0::2], parts[1::2]
    if before == "." and len(nums) == 2 and len(nums[1]) < 2:
        return []  # ".5/1": a decimal written without its zero, not ".8/31"

    candidates: list[_Candidate] = []
    if "." in seps:
        # Decimals: labs and gases, except the dotted dates 11.21.93 and 11/21.93.
        dotted = seps in ([".", "."], ["/", "."]) and len(nums[0]) <= 2 and len(nums[1]) <= 2
        if dotted and _valid_month_day(int(nums[0]), int(nums[1])) and _valid_year(nums[2]):
            candidates.append((start, end, SCORE_FULL, DateKind.FULL, False))
    elif "/" in seps and "-" in seps:
        # "8/2-8/10" is a date range, "94-113/42-51" a blood-pressure range: a slash
        # pair counts only when the piece before it (if any) also holds a slash.
        pieces = run.split("-")
        offset = start
        for i, piece in enumerate(pieces):
            if "/" in piece and (i == 0 or "/" in pieces[i - 1]):
                candidates.extend(_slash_date(piece.split("/"), offset, offset + len(piece)))
            offset += len(piece) + 1
    elif "/" in seps:
        if len(nums) in (2, 3):
            candidates.extend(_slash_date(nums, start, end))
        elif len(nums) == 4:  # "10/03/10/04": two month/day pairs
            mid = start + len(nums[0]) + len(nums[1]) + 2
            first = _slash_date(nums[:2], start, mid - 1)
            second = _slash_date(nums[2:], mid, end)
            if first and second and not first[0][4] and not second[0][4]:
                candidates.append((start, end, SCORE_MONTH_DAY, DateKind.MONTH_DAY, False))
        if not candidates and len(nums) >= 3 and _day_list(nums):
            # "on 4/2/3/5": a month and its days -- a date only after a date word (weak)
            candidates.append((start, end, SCORE_WEAK, DateKind.MONTH_DAY, True))
    else:
        candidates.extend(_dash_date(nums, start, end))

    hits = []
    for c_start, c_end, score, kind, weak in candidates:
        score = _judge_context(low, c_start, c_end, score, kind, weak)
        if score > 0:
            hits.append(_Hit(_extend_weekday(low, c_start), c_end, score, kind))
    return hits


def _slash_date(nums: list[str], start: int, end: int) -> list[_Candidate]:
    """Read "a/b" or "a/b/c" as a date, or as nothing (longer slash chains are not dates)."""
    if not all(nums) or len(nums) not in (2, 3):
        return []
    if len(nums) == 3:
        a, b, c = nums
        if len(a) <= 2 and len(b) <= 2 and _valid_month_day(int(a), int(b)) and _valid_year(c):
            return [(start, end, SCORE_FULL, DateKind.FULL, False)]
        if len(a) == 4 and len(b) <= 2 and _valid_year(a) and _valid_month_day(int(b), int(c)):
            return [(start, end, SCORE_FULL, DateKind.FULL, False)]
        return []
    a, b = nums
    if len(a) > 2 or not 1 <= int(a) <= 12:
        return []
    if len(b) == 4:
        return (
            [(start, end, SCORE_MONTH_YEAR, DateKind.MONTH_YEAR, False)] if _valid_year(b) else []
        )
    if len(b) > 2:
        return []
    if len(b) == 2 and (b[0] == "0" or int(b) > 31):
        # "3/02", "8/87": month/year (or a zero-padded day: a date either way)
        return [(start, end, SCORE_MONTH_YEAR, DateKind.MONTH_YEAR, False)]
    month, day = int(a), int(b)
    if not _valid_month_day(month, day):
        return []
    fraction_like = month < day <= 4  # 1/2, 1/3, 2/3, 3/4
    return [
        (
            start,
            end,
            SCORE_WEAK if fraction_like else SCORE_MONTH_DAY,
            DateKind.MONTH_DAY,
            fraction_like,
        )
    ]


def _day_list(nums: list[str]) -> bool:
    """ "4/2/3/5": a month, then days in increasing order (not "140/104/22", "10/5/5")."""
    if any(len(n) > 2 or not n for n in nums) or not 1 <= int(nums[0]) <= 12:
        return False
    days = [int(n) for n in nums[1:]]
    return all(1 <= d <= 31 for d in days) and all(
        a < b for a, b in zip(days, days[1:], strict=False)
    )


def _dash_date(nums: list[str], start: int, end: int) -> list[_Candidate]:
    """Read "7-22-93", "2019-07-22" or (weakly) "7-8" as a date."""
    if len(nums) == 3:
        a, b, c = nums
        if len(a) <= 2 and len(b) <= 2 and _valid_month_day(int(a), int(b)) and _valid_year(c):
            return [(start, end, SCORE_FULL, DateKind.FULL, False)]
        if len(a) == 4 and len(b) <= 2 and _valid_year(a) and _valid_month_day(int(b), int(c)):
            return [(start, end, SCORE_FULL, DateKind.FULL, False)]
    elif len(nums) == 2 and max(map(len, nums)) <= 2 and _valid_month_day(*map(int, nums)):
        # "7-8" is far more often a range ("2-3 times") than a date
        return [(start, end, SCORE_WEAK, DateKind.MONTH_DAY, True)]
    return []


def _judge_context(low: str, start: int, end: int, score: float, kind: str, weak: bool) -> float:
    """Score a numeric date candidate by the words around it; 0 rejects it."""
    if kind == DateKind.FULL:
        return score
    prev = _tokens_before(low, start, 3)
    nxt = _tokens_after(low, end, 3)
    # A letter glued on ("ps10/5", "1/2ns") marks a setting or dose, unless it is "on", an
    # event or date word ("fx4/97", "dx8/02", "adm7/22") or the date holds a year ("x4/97").
    if _letter_before(low, start) and not (prev and _glued_date_word(prev[-1], kind, low, end)):
        return 0.0
    if end < len(low) and low[end].isalpha() and not (nxt and nxt[0] in ("am", "pm", "a", "p")):
        return 0.0
    if any(t in _BLOCK_BEFORE for t in prev) or any(_blocks_after(t) for t in nxt[:2]):
        return 0.0
    if nxt and nxt[0] in _UNITS:
        return 0.0
    pain_words = (t in _PAIN_WORDS for t in _tokens_before(low, start, 5) + nxt)
    if low[start:end].endswith("/10") and any(pain_words):  # "c/o 3/10", "4/10 cp"
        return 0.0
    if weak:
        if nxt and nxt[0] in _FRACTION_NOUNS:
            return 0.0
        if prev and prev[-1].isdigit():  # mixed number "1 1/2"
            return 0.0
        next_word = _word_right_after(low, end)
        if next_word and next_word not in _FUNCTION_WORDS_AFTER:
            return 0.0
        if prev and prev[-1] in _DATE_WORDS_BEFORE:
            return SCORE_WEAK_WITH_CONTEXT
    return score


def _glued_date_word(token: str, kind: str, low: str, end: int) -> bool:
    """Whether a date glued to the end of ``token`` stays a date ("on7/22", "fx4/97")."""
    word = token.rstrip("0123456789/.-")
    if word.endswith("on") or word in _EVENT_WORDS or word in _DATE_WORDS_BEFORE:
        return True
    if kind != DateKind.MONTH_YEAR:
        return False
    year = low[low.rfind("/", 0, end) + 1 : end]
    return year.isdigit() and (len(year) == 4 or int(year) >= 40)


def _blocks_after(token: str) -> bool:
    # "psv/cpap", "cpap+ps": any part of a compound counts
    return token in _BLOCK_AFTER or any(p in _BLOCK_AFTER for p in _COMPOUND.split(token))


def _extend_weekday(low: str, start: int) -> int:
    m = _WEEKDAY_BEFORE.search(low, max(0, start - 16), start)
    return m.start() if m else start


# --- month names, ordinals, holidays -----------------------------------------------------


def _month_dates(low: str, match: re.Match[str]) -> list[_Hit]:
    """Dates built around one month word: month first, day first, or the month alone."""
    start, end = match.span()
    word = match.group()
    ambiguous = word in _MONTH_WORDS_AMBIGUOUS
    hits: list[_Hit] = []

    after = _AFTER_MONTH.match(low, end)
    if after is not None:
        hit = _month_first(low, start, after, ambiguous)
        if hit is not None:
            hits.append(hit)

    before = _DAY_BEFORE_MONTH.search(low, max(0, start - 24), start)
    if before is not None:
        hit = _day_first(low, before, end, ambiguous)
        if hit is not None:
            hits.append(hit)

    if not hits and (word not in _MONTH_WORDS_NEVER_ALONE or word in _MONTH_WORDS_ALONE_AFTER_CUE):
        prev, _ = _word_before(low, start)
        if prev in _WORDS_BEFORE_LONE_MONTH or (
            word in _MONTH_FULL_NAMES and word not in _MONTH_WORDS_NEVER_ALONE
        ):
            hits.append(_Hit(start, end, SCORE_NAMED, DateKind.MONTH))
    return hits


def _month_first(low: str, start: int, after: re.Match[str], ambiguous: bool) -> _Hit | None:
    """ "July 22nd", "Jul 22, 2019", "July 2019", "MARCH OF 1993", "nov, 96"."""
    start = _extend_weekday(low, start)
    num, ordinal = after.group("num"), after.group("ord")
    if ordinal or (len(num) <= 2 and num[0] != "0" and int(num) <= 31):
        if not 1 <= int(num) <= 31:
            return None
        if _year_acceptable(low, after):
            return _Hit(start, after.end("year"), SCORE_FULL, DateKind.FULL)
        day_end = after.end("ord" if ordinal else "num")
        if ambiguous and not ordinal:
            # "May 5" is a date; "MAR 2 doses", "dec 2 mg" are not: nothing but a
            # function word or punctuation may follow, and the score stays at the threshold.
            next_word = _word_right_after(low, day_end)
            if (next_word and next_word not in _FUNCTION_WORDS_AFTER) or _quantity_follows(
                low, day_end
            ):
                return None
            return _Hit(start, day_end, SCORE_AMBIGUOUS_MONTH_DAY, DateKind.MONTH_DAY)
        return _Hit(start, day_end, SCORE_MONTH_DAY, DateKind.MONTH_DAY)
    # the number is the year
    if _quantity_follows(low, after.end("num")):
        return None
    if len(num) == 4 and _valid_year(num):
        return _Hit(start, after.end("num"), SCORE_MONTH_YEAR, DateKind.MONTH_YEAR)
    if len(num) == 2 and "," in low[after.start() : after.start("num")] and not ambiguous:
        return _Hit(start, after.end("num"), SCORE_MONTH_YEAR, DateKind.MONTH_YEAR)
    return None


def _day_first(low: str, before: re.Match[str], month_end: int, ambiguous: bool) -> _Hit | None:
    """ "22 July 2019", "22-Jul-2019", "3rd of July", "21 Apr, 21", "1->2 nov, 96"."""
    day, day2 = before.group("day"), before.group("day2")
    if not 1 <= int(day) <= 31 or (day2 and not 1 <= int(day2) <= 31):
        return None
    year = _YEAR_AFTER_MONTH.match(low, month_end)
    if year is not None and _year_acceptable(low, year):
        return _Hit(before.start(), year.end("year"), SCORE_FULL, DateKind.FULL)
    if ambiguous and not (before.group("ord") or before.group("ord2")):
        return None  # "2 may need", "4 dec"
    return _Hit(before.start(), month_end, SCORE_MONTH_DAY, DateKind.MONTH_DAY)


def _year_acceptable(low: str, match: re.Match[str]) -> bool:
    """A year after a day: 4 digits, '93, or 93 after a comma; never a quantity."""
    year = match.group("year")
    if not year or not _valid_year(year.lstrip("'")):
        return False
    if _quantity_follows(low, match.end("year")):
        return False
    return len(year) != 2 or "," in (match.group("sep") or "")


def _ordinal_day(low: str, match: re.Match[str]) -> _Hit | None:
    """ "on the 3rd", "it's the 11th." -- not "the 3rd floor"."""
    if _letter_before(low, match.start()) or not 1 <= int(match.group("day")) <= 31:
        return None
    next_word = _word_right_after(low, match.end())
    if next_word in _ORDINAL_NOUNS:
        return None
    prev, _ = _word_before(low, match.start())
    if prev not in _WORDS_BEFORE_ORDINAL and next_word and next_word != "of":
        return None  # "the 2nd attempt": a word after makes it a count
    return _Hit(match.start("day"), match.end(), SCORE_NAMED, DateKind.DAY)


# --- years -----------------------------------------------------------------------------


def _year_hits(text: str, low: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in _YEAR_QUOTED.finditer(text):
        # "'92" alone or glued to a word ("CA'88", "MI'92"): digits never follow a
        # possessive or a contraction's apostrophe.
        if m.start() == 0 or not (text[m.start() - 1].isdigit() or text[m.start() - 1] in "_'"):
            hits.append(_Hit(m.start(), m.end(), SCORE_YEAR_QUOTED, DateKind.YEAR))
    last_year_end = -1
    for m in _YEAR_TWO_DIGIT.finditer(low):
        start, end = m.span()
        gap = _YEAR_LIST_GAP.fullmatch(low, last_year_end, start) if last_year_end >= 0 else None
        if _after_event_word(low, start) or gap is not None:
            if not _quantity_follows(low, end):
                hits.append(_Hit(start, end, SCORE_YEAR, DateKind.YEAR))
                last_year_end = end
        elif m.group().endswith("'"):
            if _word_before(low, start)[0] in _LIFE_EVENT_WORDS:  # "quit smoking 62'"
                hits.append(_Hit(start, end, SCORE_YEAR, DateKind.YEAR))
            else:
                hits.append(_Hit(start, end, SCORE_YEAR_WEAK, DateKind.YEAR))  # "HOB 30'": an angle
    for m in _YEAR_FOUR.finditer(low):
        hit = _four_digit_year(low, m)
        if hit is not None:
            hits.append(hit)
    return hits


def _after_event_word(low: str, pos: int) -> bool:
    """An event word ends right before ``pos``, optionally followed by "in"/"of"."""
    word, word_start = _word_before(low, pos)
    if word in ("in", "of"):
        word, _ = _word_before(low, word_start)
    return word in _EVENT_WORDS


def _four_digit_year(low: str, match: re.Match[str]) -> _Hit | None:
    start, end = match.span()
    value = int(match.group()[:4])
    if not 1900 <= value <= 2039:
        return None
    if end < len(low) - 1 and low[end] in "/:.-" and low[end + 1].isdigit():
        return None
    prev = _tokens_before(low, start, 2)
    if _quantity_follows(low, end) or (prev and prev[-1] in _MEASURE_WORDS_BEFORE):
        return None
    if 1960 <= value <= 1999:  # cannot be a 24-hour clock time (minutes >= 60)
        return _Hit(start, end, SCORE_YEAR, DateKind.YEAR)
    # 1900-1959 and 2000-2039 are also clock times ("at 2000"): need year context.
    if (
        (prev and prev[-1] in _YEAR_WORDS_BEFORE)
        or prev[-2:] == ["it", "is"]
        or prev[-1:] == ["it's"]
    ):
        return _Hit(start, end, SCORE_YEAR, DateKind.YEAR)
    if _after_event_word(low, start):
        return _Hit(start, end, SCORE_YEAR, DateKind.YEAR)
    return None


# --- recognizers -----------------------------------------------------------------------


class ClinicalDateRecognizer(EntityRecognizer):
    """Calendar dates and date parts more specific than a year, in nursing-note formats."""

    def __init__(self) -> None:
        super().__init__(
            supported_entities=[DATE], name=DATE_RECOGNIZER_NAME, supported_language="en"
        )

    def load(self) -> None:  # patterns are compiled at import
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """DATE results with their ``DateKind`` (never ``YEAR``) as metadata."""
        if entities and DATE not in entities:
            return []
        low = lowered(text)
        hits: list[_Hit] = []
        for m in _NUMERIC_RUN.finditer(text):
            hits.extend(_numeric_dates(text, low, m))
        for m in _MONTH_WORD.finditer(low):
            if not _letter_before(low, m.start()):
                hits.extend(_month_dates(low, m))
        for m in _ORDINAL_DAY.finditer(low):
            hit = _ordinal_day(low, m)
            if hit is not None:
                hits.append(hit)
        if any(cue in low for cue in _RELATIVE_CUES):
            for m in _RELATIVE_WEEKDAY.finditer(low):
                if not _letter_before(low, m.start()):
                    hits.append(_Hit(m.start(), m.end(), SCORE_NAMED, DateKind.HOLIDAY))
        if any(stem in low for stem in _HOLIDAY_STEMS):
            for m in _HOLIDAY.finditer(low):
                if not _letter_before(low, m.start()):
                    hits.append(_Hit(m.start(), m.end(), SCORE_NAMED, DateKind.HOLIDAY))
        return _results(hits)


class YearRecognizer(EntityRecognizer):
    """Years standing alone (``1992``, ``'92``, ``MI 92``): kind ``DateKind.YEAR``.

    Safe Harbor keeps bare years, stricter policies do not: the policy reads the kind.
    """

    def __init__(self) -> None:
        super().__init__(
            supported_entities=[DATE], name=YEAR_RECOGNIZER_NAME, supported_language="en"
        )

    def load(self) -> None:  # patterns are compiled at import
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """DATE results of kind ``DateKind.YEAR`` for years standing alone."""
        if entities and DATE not in entities:
            return []
        return _results(_year_hits(text, lowered(text)))


RECOGNIZERS = [ClinicalDateRecognizer, YearRecognizer]
