"""Dates: parse a detected date, shift it by the patient's offset, render it in its own format.

The parser reads the formats clinical notes use -- ``7/22``, ``7/22/19``, ``07-22-2019``,
``2019-07-22``, ``22-Jul-2019``, ``July 22, 2019``, ``Jul 22nd``, ``the 3rd``, ``July``,
``8/87`` (month/year), ``'92``, ``1980s``, holidays -- and records where each field
sits, so rendering changes the numbers and names but keeps padding, separators, order,
spelling style, case and two- versus four-digit years.

Shifting keeps intervals: every full date and month/day of a patient moves by the same
number of days; dates known only to the month move by the same whole number of months
(never a multiple of 12, so the month always changes).  Dates without a year are shifted
on the calendar of ``REF_YEAR`` (a leap year, so 2/29 parses).  Day-only mentions,
holidays and anything unparseable get a keyed surrogate date instead -- never the
original text.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Literal

from faker import Faker

from deid.anonymization.keys import SecretKey
from deid.anonymization.surrogates.casing import match_case
from deid.anonymization.surrogates.source import NO_AVOID, AvoidSet, Draw

DateKind = Literal["full", "month_day", "month_year", "month", "year", "day", "holiday"]
FieldRole = Literal["year", "month", "monthname", "day", "ord", "weekday"]

REF_YEAR = 2000
TWO_DIGIT_PIVOT = 50  # "49" -> 2049, "50" -> 1950
_SURROGATE_RANGE = (dt.date(1990, 1, 1).toordinal(), dt.date(2030, 12, 31).toordinal())

MONTH_NAMES = tuple(calendar.month_name[1:])
WEEKDAY_NAMES = tuple(calendar.day_name)

# --- patterns (fullmatch on the whole span; no nested quantifiers) -----------------------
_MONTH = (
    r"(?P<monthname>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])\.?"
)
_WEEKDAY = (
    r"(?:(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun)\.?,?\s+)?"
)
_TIME = (
    r"(?:(?:,?\s*(?:at\s*|@\s*)?|t)\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?"
    r"|,?\s*\d{1,2}\s*[ap]\.?m\.?)?"
)
_ORD = r"(?P<ord>st|nd|rd|th)"
_YEAR = r"'?(?P<year>\d{4}|\d{2})"

_BODIES: tuple[tuple[str, str], ...] = (
    ("iso", r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})"),
    ("mdy", r"(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.]" + _YEAR),
    ("md", r"(?P<a>\d{1,2})[-/.](?P<b>\d{4}|\d{1,2})"),
    (
        "d_month",
        r"(?:the\s+)?(?P<day>\d{1,2})"
        + _ORD
        + r"?(?:\s+of)?[\s.-]*"
        + _MONTH
        + r"(?:,?[\s.-]*"
        + _YEAR
        + r")?",
    ),
    ("month_y", _MONTH + r"(?:\s+of)?(?P<comma>,)?[\s-]*" + _YEAR),
    (
        "month_d",
        _MONTH + r"[\s,/-]*(?P<day>\d{1,2})" + _ORD + r"?(?:(?:,\s*|[\s-]+)" + _YEAR + r")?",
    ),
    ("month", _MONTH),
    ("ordinal", r"(?:the\s+)?(?P<day>\d{1,2})" + _ORD),
    ("year", r"'?(?P<year>\d{4}|\d{1,2})(?P<decade>'?s)?'?"),
)
_PATTERNS = tuple(
    (name, re.compile(_WEEKDAY + body + _TIME, re.IGNORECASE)) for name, body in _BODIES
)
MAX_DATE_LEN = 80
"""Longer text is no single date mention: it is not parsed (and gets a surrogate)."""
_HOLIDAY_RE = re.compile(
    r"(?:the\s+)?(?:christmas(?:\s+(?:eve|day))?|x-?mas|thanksgiving(?:\s+day)?"
    r"|new\s+years?'?s?(?:\s+(?:eve|day))?|easter(?:\s+(?:sunday|monday))?|good\s+friday"
    r"|hallowe'?en|labou?r\s+day|memorial\s+day|independence\s+day|(?:fourth|4th)\s+of\s+july"
    r"|valentine'?s(?:\s+day)?|st\.?\s+patrick'?s(?:\s+day)?|mother'?s\s+day|father'?s\s+day"
    r"|veterans'?\s+day|columbus\s+day|presidents'?\s+day|(?:mlk|martin\s+luther\s+king)"
    r"(?:\s+jr\.?)?\s+day|juneteenth|hanukkah|chanukah|yom\s+kippur|rosh\s+hashanah"
    r"|passover|ramadan|kwanzaa)",
    re.IGNORECASE,
)
_DIGITS_RE = re.compile(r"\d+")


@dataclass(frozen=True)
class DateField:
    """Where one date element sits in the original text."""

    start: int
    end: int
    role: FieldRole


@dataclass(frozen=True)
class ParsedDate:
    """What a date mention says (``None`` for unknown parts) and where each part is written."""

    kind: DateKind
    year: int | None
    month: int | None
    day: int | None
    fields: tuple[DateField, ...]
    decade: bool = False
    zero_pad: bool = False  # numeric month/day written with two digits ("07/02", ISO)


# --- parsing -------------------------------------------------------------------------------
def parse_date(text: str) -> ParsedDate | None:
    """Parse a date mention; ``None`` when no known format fits or the date is invalid."""
    core = text.strip()
    if not core or len(core) > MAX_DATE_LEN:
        return None
    if _HOLIDAY_RE.fullmatch(core):
        return ParsedDate("holiday", None, None, None, ())
    lead = text.index(core[0])
    for name, pattern in _PATTERNS:
        m = pattern.fullmatch(core)
        if m is None:
            continue
        parsed = _interpret(name, m)
        if parsed is not None:
            fields = tuple(DateField(f.start + lead, f.end + lead, f.role) for f in parsed.fields)
            zero_pad = _zero_padded(text, fields, name == "iso")
            return dataclasses.replace(parsed, fields=fields, zero_pad=zero_pad)
    return None


def _interpret(name: str, m: re.Match[str]) -> ParsedDate | None:
    g = m.groupdict()
    fields: list[DateField] = []

    def add(group: str, role: FieldRole) -> None:
        if g.get(group) is not None:
            fields.append(DateField(m.start(group), m.end(group), role))

    add("weekday", "weekday")
    add("ord", "ord")
    year = _year(g.get("year"))
    month = _month_number(g["monthname"]) if g.get("monthname") else None
    if month is not None:
        add("monthname", "monthname")
    day: int | None = None

    if name == "iso":
        month, day = int(g["month"]), int(g["day"])
        add("month", "month")
        add("day", "day")
    elif name in ("mdy", "md"):
        a, b = int(g["a"]), g["b"]
        if name == "md" and (len(b) == 4 or (a <= 12 and int(b) > 31)):
            # "7/2019", "8/87": month/year
            if not 1 <= a <= 12:
                return None
            year = _year(b)
            fields.append(DateField(m.start("a"), m.end("a"), "month"))
            fields.append(DateField(m.start("b"), m.end("b"), "year"))
            return _checked("month_year", year, a, None, fields)
        a_role: FieldRole = "month" if a <= 12 else "day"
        b_role: FieldRole = "day" if a_role == "month" else "month"
        month, day = (a, int(b)) if a_role == "month" else (int(b), a)
        fields.append(DateField(m.start("a"), m.end("a"), a_role))
        fields.append(DateField(m.start("b"), m.end("b"), b_role))
    elif name == "month_y":
        # "July 2019", "July '19", "nov, 96"; but "July 22" is a day (next pattern).
        digits = g["year"]
        if len(digits) == 2 and "'" not in m.group() and not g["comma"] and int(digits) <= 31:
            return None
    elif name in ("d_month", "month_d", "ordinal"):
        day = int(g["day"])
        add("day", "day")
    elif name == "year":
        if len(g["year"]) <= 2 and not g.get("decade") and "'" not in m.group():
            value = int(g["year"])
            if 1 <= value <= 31:  # "21" alone: a day of the month, not a year
                fields.append(DateField(m.start("year"), m.end("year"), "day"))
                return ParsedDate("day", None, None, value, tuple(fields))
        if len(g["year"]) == 4 and not 1000 <= int(g["year"]) <= 2999:
            return None
        if len(g["year"]) == 1 and "'" not in m.group():
            return None  # "0"
        add("year", "year")
        return ParsedDate("year", year, None, None, tuple(fields), decade=bool(g.get("decade")))
    add("year", "year")

    if day is None:
        kind: DateKind = "month_year" if year is not None else "month"
    elif month is None:
        kind = "day"
    else:
        kind = "full" if year is not None else "month_day"
    return _checked(kind, year, month, day, fields)


def _checked(
    kind: DateKind, year: int | None, month: int | None, day: int | None, fields: list[DateField]
) -> ParsedDate | None:
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None:
        last = calendar.monthrange(year or REF_YEAR, month or 1)[1] if month else 31
        if not 1 <= day <= last:
            return None
    return ParsedDate(kind, year, month, day, tuple(sorted(fields, key=lambda f: f.start)))


def _zero_padded(text: str, fields: tuple[DateField, ...], iso: bool) -> bool:
    numeric = [text[f.start : f.end] for f in fields if f.role in ("month", "day")]
    return iso or any(len(v) == 2 and v.startswith("0") for v in numeric)


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    value = int(text)
    if len(text) <= 2:
        value += 2000 if value < TWO_DIGIT_PIVOT else 1900
    return value


def _month_number(name: str) -> int:
    low = name.casefold()[:3]
    return next(i for i, full in enumerate(MONTH_NAMES, 1) if full.casefold().startswith(low))


# --- shifting ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def allowed_offsets(low: int, high: int, min_abs: int = 1) -> tuple[int, ...]:
    """Offsets in [low, high] that move every date: |offset| >= min_abs, not a whole year.

    A shift of 365 or 366 days (or k years plus up to ceil(k/4) leap days) would leave
    "7/22" as "7/22"; those are left out.
    """
    allowed = []
    for off in range(low, high + 1):
        k = round(abs(off) / 365.25)
        if abs(off) < max(min_abs, 1) or (k >= 1 and 365 * k <= abs(off) <= 365 * k + -(-k // 4)):
            continue
        allowed.append(off)
    if not allowed:
        raise ValueError(
            f"date_shift_days ({low}, {high}) with minimum |offset| {min_abs} "
            "leaves no usable offset (0 and whole years are never used)"
        )
    return tuple(allowed)


def patient_offset_days(
    key: SecretKey, patient_id: str, low: int, high: int, min_abs: int = 1
) -> int:
    """The patient's date offset in days: keyed, in [low, high], |offset| >= min_abs, never 0."""
    allowed = allowed_offsets(low, high, min_abs)
    digest = key.derive("deidflow/date-shift/v1", patient_id)
    return allowed[int.from_bytes(digest[:8], "big") % len(allowed)]


def month_delta(offset_days: int) -> int:
    """Whole months a month-level date moves for a day offset; never a multiple of 12."""
    months = round(offset_days / 30.436875)
    if months % 12 == 0:
        months += -1 if offset_days < 0 else 1
    return months


def shift_parsed(parsed: ParsedDate, offset_days: int) -> tuple[int, int, int]:
    """The shifted (year, month, day) of a shiftable date (year is REF_YEAR-based if unknown)."""
    if parsed.kind in ("full", "month_day"):
        assert parsed.month is not None and parsed.day is not None
        new = dt.date(parsed.year or REF_YEAR, parsed.month, parsed.day)
        new += dt.timedelta(days=offset_days)
        return new.year, new.month, new.day
    if parsed.kind in ("month_year", "month"):
        assert parsed.month is not None
        index = (parsed.year or REF_YEAR) * 12 + parsed.month - 1 + month_delta(offset_days)
        return index // 12, index % 12 + 1, 1
    if parsed.kind == "year":
        assert parsed.year is not None
        years = round(offset_days / 365.2425) or (-1 if offset_days < 0 else 1)
        if parsed.decade:
            years = 10 * (round(years / 10) or (-1 if offset_days < 0 else 1))
        return parsed.year + years, 1, 1
    raise ValueError(f"a {parsed.kind} date cannot be shifted")


def shift_date_text(text: str, offset_days: int, draw: Draw, avoid: AvoidSet = NO_AVOID) -> str:
    """``text`` with its date shifted by ``offset_days`` in the same format.

    Day-only mentions, holidays and unparseable text get a keyed surrogate date, and so
    does a date whose shifted form contains a value of ``avoid`` (another real date of
    the same note).
    """
    parsed = parse_date(text)
    if parsed is None:
        pair = _split_pair(text)
        if pair is not None:
            (left, pl), sep, (right, pr) = pair
            left_new = _shifted(left, pl, offset_days, draw, avoid)
            return left_new + sep + _shifted(right, pr, offset_days, draw, avoid)
    if parsed is None or parsed.kind in ("day", "holiday"):
        return surrogate_date_text(text, parsed, draw)
    return _shifted(text, parsed, offset_days, draw, avoid)


def _shifted(text: str, parsed: ParsedDate, offset_days: int, draw: Draw, avoid: AvoidSet) -> str:
    rendered = render(parsed, text, shift_parsed(parsed, offset_days))
    if rendered.casefold() == text.casefold() or avoid.hit(rendered):
        return surrogate_date_text(text, None, draw)
    return rendered


_SHIFTABLE = ("full", "month_day", "month_year", "month")
_PAIR_SEP_RE = re.compile(r"\s*(?:[-/,&]|\b(?:and|to|thru|through)\b)\s*", re.IGNORECASE)
_MAX_PAIR_LEN = 64


def _split_pair(text: str) -> tuple[tuple[str, ParsedDate], str, tuple[str, ParsedDate]] | None:
    """Two shiftable dates in one span ("10/03/10/04", "8/2-8/10"), split at a separator."""
    if len(text) > _MAX_PAIR_LEN:
        return None
    for m in _PAIR_SEP_RE.finditer(text):
        left, right = text[: m.start()], text[m.end() :]
        if not left or not right:
            continue
        pl, pr = parse_date(left), parse_date(right)
        if pl is not None and pr is not None and pl.kind in _SHIFTABLE and pr.kind in _SHIFTABLE:
            return (left, pl), m.group(), (right, pr)
    return None


# --- surrogates ----------------------------------------------------------------------------
def date_surrogate(text: str, draw: Draw) -> str:
    """A keyed surrogate date for ``text``, in a plausible format (``surrogate_date_text``)."""
    return surrogate_date_text(text, parse_date(text), draw)


def surrogate_date_text(text: str, parsed: ParsedDate | None, draw: Draw) -> str:
    """A keyed surrogate for a date that cannot be shifted, in a plausible format."""
    if parsed is not None and parsed.kind == "day":
        assert parsed.day is not None
        new_day = draw("DATE/day", str(parsed.day), _surrogate_day)
        return render(parsed, text, (REF_YEAR, 1, int(new_day)))
    key = " ".join(text.casefold().split())
    return draw("DATE/surrogate", key, lambda fake: _surrogate_full_date(fake, text))


def _surrogate_day(fake: Faker) -> str:
    return str(fake.random_int(1, 28))


def _surrogate_full_date(fake: Faker, text: str) -> str:
    d = dt.date.fromordinal(fake.random_int(*_SURROGATE_RANGE))
    groups = _DIGITS_RE.findall(text)
    four_digit_year = any(len(g) == 4 for g in groups)
    if any(c.isalpha() for c in text):
        out = f"{MONTH_NAMES[d.month - 1]} {d.day}" + (f", {d.year}" if four_digit_year else "")
        return out.upper() if text.isupper() else out
    if four_digit_year:
        return f"{d.month}/{d.day}/{d.year}"
    if len(groups) >= 3:
        return f"{d.month}/{d.day}/{d.year % 100:02d}"
    return f"{d.month}/{d.day}"


# --- rendering -----------------------------------------------------------------------------
def render(parsed: ParsedDate, text: str, new: tuple[int, int, int]) -> str:
    """``text`` with each date field rewritten for ``new`` = (year, month, day)."""
    year, month, day = new
    out: list[str] = []
    pos = 0
    for f in parsed.fields:
        out.append(text[pos : f.start])
        out.append(_render_field(f.role, text[f.start : f.end], parsed, year, month, day))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def _render_field(
    role: FieldRole, orig: str, parsed: ParsedDate, year: int, month: int, day: int
) -> str:
    if role == "year":
        return f"{year:04d}" if len(orig) == 4 else f"{year % 100:02d}"
    if role in ("month", "day"):
        value = month if role == "month" else day
        return f"{value:02d}" if parsed.zero_pad else str(value)
    if role == "monthname":
        full = MONTH_NAMES[month - 1]
        is_full = orig.casefold() in {n.casefold() for n in MONTH_NAMES}
        return match_case(full if is_full else full[:3], orig)
    if role == "ord":
        suffix = _ordinal_suffix(day)
        return suffix.upper() if orig.isupper() else suffix
    # weekday: only meaningful when the year is known
    if parsed.kind != "full":
        return orig
    name = WEEKDAY_NAMES[dt.date(year, month, day).weekday()]
    is_full = orig.casefold() in {n.casefold() for n in WEEKDAY_NAMES}
    return match_case(name if is_full else name[:3], orig)


def _ordinal_suffix(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
