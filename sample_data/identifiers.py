"""Synthetic identifiers in the shapes real records use (all random, none real).

Numbers that carry check digits in the real world (DEA numbers, VINs) get valid ones,
so that recognizers which validate them can be tested on this data.
"""

from __future__ import annotations

import datetime as dt
from random import Random

_DIGITS = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_HEX = "0123456789abcdef"


def digits(rng: Random, n: int) -> str:
    return "".join(rng.choices(_DIGITS, k=n))


def letters(rng: Random, n: int) -> str:
    return "".join(rng.choices(_UPPER, k=n))


# --- phones ----------------------------------------------------------------------------

# Plausible area codes, weighted to New England like the development corpus's region.
_AREA_CODES = (
    "617", "781", "508", "978", "413", "857", "339", "401", "603", "207", "802", "860",
    "203", "212", "718", "410", "443", "301", "202", "215", "412", "312", "773", "404",
    "305", "713", "214", "415", "510", "206", "503", "602", "303", "612", "314", "919",
)  # fmt: skip


_STATE_AREA_CODES = {
    "MA": ("617", "781", "508", "978", "413", "857", "339"), "RI": ("401",), "NH": ("603",),
    "ME": ("207",), "VT": ("802",), "CT": ("860", "203"), "NY": ("212", "718", "518", "914"),
    "MD": ("410", "443", "301"), "PA": ("215", "412", "570"), "NJ": ("973", "609"),
    "VA": ("804", "757"), "NC": ("919", "984"), "GA": ("404", "678"), "FL": ("407", "813", "305"),
    "OH": ("216", "937"), "MI": ("313", "248"), "IL": ("312", "773"), "WI": ("608",),
    "TX": ("713", "281"), "AZ": ("602", "480"), "CO": ("303", "720"), "OR": ("503",),
    "WA": ("206", "425"), "CA": ("619", "559"),
}  # fmt: skip


def phone_digits(rng: Random, state: str | None = None) -> str:
    """Ten digits: area code (of ``state`` if given), exchange (never 0/1 first), line."""
    area = rng.choice(_STATE_AREA_CODES.get(state or "", _AREA_CODES))
    return area + str(rng.randint(2, 9)) + digits(rng, 2) + digits(rng, 4)


def format_phone(number: str, rng: Random) -> str:
    """One of the ways people write a ten-digit number."""
    a, e, line = number[:3], number[3:6], number[6:]
    style = rng.random()
    if style < 0.35:
        return f"{a}-{e}-{line}"
    if style < 0.65:
        return f"({a}) {e}-{line}"
    if style < 0.75:
        return f"({a}){e}-{line}"
    if style < 0.85:
        return f"{a}.{e}.{line}"
    if style < 0.92:
        return f"{e}-{line}"
    return f"1-{a}-{e}-{line}"


def pager(rng: Random) -> str:
    return digits(rng, rng.choice((4, 5)))


def extension(rng: Random) -> str:
    return digits(rng, rng.choice((4, 4, 5)))


# --- national and record numbers -------------------------------------------------------


def ssn(rng: Random) -> str:
    """A structurally valid SSN (no 000/666/9xx area, no 00 group, no 0000 serial)."""
    area = rng.randint(1, 899)
    while area == 666:
        area = rng.randint(1, 899)
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def format_ssn(value: str, rng: Random) -> str:
    style = rng.random()
    if style < 0.8:
        return value
    if style < 0.92:
        return value.replace("-", " ")
    return value.replace("-", "")


def mrn(rng: Random) -> str:
    """Medical record number: 7-8 digits, often zero-padded."""
    if rng.random() < 0.5:
        return "00" + digits(rng, 6)
    return str(rng.randint(1, 9)) + digits(rng, rng.choice((6, 7)))


def prefixed_mrn(rng: Random, mrn_digits: str) -> str:
    """An MRN as some systems print it, letters first: "AB-123456", "E1234567", "MC0012345"."""
    tail = mrn_digits[-rng.choice((6, 7)) :] if len(mrn_digits) > 6 else mrn_digits
    return letters(rng, rng.choice((1, 2, 2))) + rng.choice(("-", "", "-")) + tail


def unusual_ssn(rng: Random) -> str:
    """An SSN that a validator would reject (advertising range 987-65-4320..4329, area
    000/666/9xx, group 00, serial 0000, "123-45-6789"): a de-identifier must still hide it."""
    style = rng.random()
    if style < 0.35:
        return f"987-65-432{rng.randint(0, 9)}"
    if style < 0.55:
        return f"9{digits(rng, 2)}-{digits(rng, 2)}-{digits(rng, 4)}"
    if style < 0.65:
        return f"000-{digits(rng, 2)}-{digits(rng, 4)}"
    if style < 0.75:
        return f"666-{digits(rng, 2)}-{digits(rng, 4)}"
    if style < 0.85:
        return f"{digits(rng, 3)}-00-{digits(rng, 4)}"
    if style < 0.93:
        return f"{rng.randint(100, 899)}-{digits(rng, 2)}-0000"
    return "123-45-6789"


def plan_number(rng: Random) -> str:
    """Insurance, plan, policy or member numbers as printed on cards: "HMO-234567",
    "789-1234-567", "ZY-678912", "XEH123456789", "W123456789"."""
    style = rng.random()
    if style < 0.25:
        return rng.choice(("HMO", "PPO", "EPO", "POS", "HMO")) + "-" + digits(rng, 6)
    if style < 0.45:
        return f"{digits(rng, 3)}-{digits(rng, 4)}-{digits(rng, 3)}"
    if style < 0.65:
        return letters(rng, 2) + "-" + digits(rng, 6)
    if style < 0.85:
        return letters(rng, 3) + digits(rng, 9)
    return "W" + digits(rng, 9)


def reference_code(rng: Random) -> str:
    """A confirmation, ticket, claim or authorization code: "QX7-44821", "7XK2P9",
    "REF-2023-004821", "C1234567", "2023-118734-01"."""
    style = rng.random()
    if style < 0.25:
        return letters(rng, 2) + str(rng.randint(1, 9)) + "-" + digits(rng, 5)
    if style < 0.45:
        alnum = _UPPER.replace("O", "").replace("I", "") + "23456789"
        code = rng.choices(alnum, k=rng.choice((6, 8)))
        code[rng.randrange(len(code))] = str(rng.randint(2, 9))  # codes always hold a digit
        return "".join(code)
    if style < 0.6:
        prefix = rng.choice(("REF", "TKT", "CASE", "PA", "AUTH"))
        return f"{prefix}-{rng.randint(2015, 2024)}-{digits(rng, 6)}"
    if style < 0.8:
        return letters(rng, 1) + digits(rng, 7)
    return f"{rng.randint(2015, 2024)}-{digits(rng, 6)}-{digits(rng, 2)}"


def account_number(rng: Random) -> str:
    style = rng.random()
    if style < 0.5:
        return str(rng.randint(1, 9)) + digits(rng, 9)
    if style < 0.8:
        return "A" + digits(rng, 9)
    return digits(rng, 4) + "-" + digits(rng, 6)


def health_plan_id(rng: Random, plan_kind: str) -> str:
    """Member/beneficiary ID in the shape of the named plan kind."""
    if plan_kind == "medicare":
        # Medicare Beneficiary Identifier: 11 characters, no S L O I B Z.
        alpha = "ACDEFGHJKMNPQRTUVWXY"
        alnum = alpha + _DIGITS
        c = [
            str(rng.randint(1, 9)),
            rng.choice(alpha),
            rng.choice(alnum),
            rng.choice(_DIGITS),
            rng.choice(alpha),
            rng.choice(alnum),
            rng.choice(_DIGITS),
            rng.choice(alpha),
            rng.choice(alpha),
            rng.choice(_DIGITS),
            rng.choice(_DIGITS),
        ]
        mbi = "".join(c)
        return f"{mbi[:4]}-{mbi[4:7]}-{mbi[7:]}" if rng.random() < 0.5 else mbi
    if plan_kind == "medicaid":
        return digits(rng, 12)
    return letters(rng, 3) + digits(rng, 9) if rng.random() < 0.6 else "W" + digits(rng, 9)


def dea_number(rng: Random, last_name: str) -> str:
    """DEA registration: 2 letters + 6 digits + check digit (e.g. ``AB1234563``)."""
    first = rng.choice("ABFGM")
    initial = last_name[:1].upper()
    second = initial if initial.isalpha() and initial.isascii() else "X"
    six = [rng.randint(0, 9) for _ in range(6)]
    check = (six[0] + six[2] + six[4] + 2 * (six[1] + six[3] + six[5])) % 10
    return first + second + "".join(map(str, six)) + str(check)


def dea_is_valid(value: str) -> bool:
    """Checksum test for a DEA number (used by tests)."""
    if len(value) != 9 or not value[:2].isalpha() or not value[2:].isdigit():
        return False
    d = [int(c) for c in value[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


def state_license(rng: Random, role: str) -> str:
    if role in ("RN", "NP"):
        return role + digits(rng, 6)
    if role == "MD":
        return rng.choice(("", "", "MD")) + str(rng.randint(1, 2)) + digits(rng, 5)
    return str(rng.randint(1, 9)) + digits(rng, 5)


def drivers_license(rng: Random) -> str:
    style = rng.random()
    if style < 0.5:
        return "S" + digits(rng, 8)
    if style < 0.8:
        return letters(rng, 1) + digits(rng, 7)
    return digits(rng, 9)


def npi(rng: Random) -> str:
    return rng.choice("12") + digits(rng, 9)


# --- vehicles and devices --------------------------------------------------------------

_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # no I, O, Q
_VIN_VALUES = {
    **{str(i): i for i in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_MAKERS = ("1HG", "1FT", "2T1", "JTD", "5YJ", "WBA", "3VW", "1G1", "KMH", "4T1", "1C4", "JN1")
_VIN_YEARS = "ABCDEFGHJKLMNPRS"


def vin(rng: Random) -> str:
    """A 17-character VIN with a valid check digit (position 9)."""
    body = list(rng.choice(_VIN_MAKERS))
    body += rng.choices(_VIN_CHARS, k=5)
    body.append("0")  # placeholder for the check digit
    body.append(rng.choice(_VIN_YEARS))
    body += rng.choices(_VIN_CHARS, k=1)
    body += rng.choices(_DIGITS, k=6)
    total = sum(_VIN_VALUES[c] * w for c, w in zip(body, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    body[8] = "X" if remainder == 10 else str(remainder)
    return "".join(body)


def vin_is_valid(value: str) -> bool:
    if len(value) != 17 or any(c not in _VIN_VALUES for c in value):
        return False
    total = sum(_VIN_VALUES[c] * w for c, w in zip(value, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return value[8] == ("X" if remainder == 10 else str(remainder))


def license_plate(rng: Random) -> str:
    style = rng.random()
    if style < 0.35:
        return str(rng.randint(1, 9)) + letters(rng, 3) + digits(rng, 3)
    if style < 0.6:
        return letters(rng, 3) + " " + digits(rng, 4)
    if style < 0.8:
        return str(rng.randint(1, 9)) + letters(rng, 2) + "-" + digits(rng, 3)
    return letters(rng, 3) + "-" + digits(rng, 3)


def device_serial(rng: Random) -> str:
    style = rng.random()
    if style < 0.4:
        return letters(rng, 3) + digits(rng, 6) + rng.choice("SGHR")
    if style < 0.7:
        return digits(rng, 1) + letters(rng, 1) + digits(rng, 2) + letters(rng, 1) + digits(rng, 4)
    if style < 0.85:
        return digits(rng, 4) + "-" + digits(rng, 4) + "-" + digits(rng, 2)
    return digits(rng, 8)


# --- network ---------------------------------------------------------------------------


def ipv4(rng: Random) -> str:
    first = rng.choice((10, 172, 192, rng.randint(11, 223)))
    if first == 172:
        second = rng.randint(16, 31)
    elif first == 192:
        second = 168
    else:
        second = rng.randint(0, 255)
    return f"{first}.{second}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: Random) -> str:
    groups = ["2001", "db8"] + [
        "".join(rng.choices(_HEX, k=rng.randint(1, 4))).lstrip("0") or "0" for _ in range(6)
    ]
    if rng.random() < 0.5:
        # Compress the run of groups 3-5 ("::"), as most tools print addresses.
        return ":".join(groups[:2]) + "::" + ":".join(groups[5:])
    return ":".join(groups)


# --- dates -----------------------------------------------------------------------------

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


DATE_STYLES = (
    "m/d", "m/d/yy", "mm/dd/yyyy", "m/d/yyyy", "month d", "month dth", "d-mon-yyyy",
    "yyyy-mm-dd", "mon d", "month d, yyyy", "d month yyyy", "m-d-yy", "mon dth", "mm/dd/yy",
    "mon. d, yyyy", "m.d.yy",
)  # fmt: skip


def format_date(d: dt.date, style: str) -> str:
    """Render ``d`` in one of ``DATE_STYLES``."""
    month, mon = _MONTHS[d.month - 1], _MONTHS[d.month - 1][:3]
    yy = f"{d.year % 100:02d}"
    match style:
        case "m/d":
            return f"{d.month}/{d.day}"
        case "m/d/yy":
            return f"{d.month}/{d.day}/{yy}"
        case "mm/dd/yyyy":
            return f"{d.month:02d}/{d.day:02d}/{d.year}"
        case "m/d/yyyy":
            return f"{d.month}/{d.day}/{d.year}"
        case "month d":
            return f"{month} {d.day}"
        case "month dth":
            return f"{month} {ordinal(d.day)}"
        case "d-mon-yyyy":
            return f"{d.day:02d}-{mon}-{d.year}"
        case "yyyy-mm-dd":
            return d.isoformat()
        case "mon d":
            return f"{mon} {d.day}"
        case "month d, yyyy":
            return f"{month} {d.day}, {d.year}"
        case "d month yyyy":
            return f"{d.day} {month} {d.year}"
        case "m-d-yy":
            return f"{d.month}-{d.day}-{yy}"
        case "mon dth":
            return f"{mon} {ordinal(d.day)}"
        case "mm/dd/yy":
            return f"{d.month:02d}/{d.day:02d}/{yy}"
        case "mon. d, yyyy":
            return f"{mon}. {d.day}, {d.year}" if d.month != 5 else f"May {d.day}, {d.year}"
        case "m.d.yy":
            return f"{d.month}.{d.day}.{yy}"
    raise ValueError(f"unknown date style {style!r}")
