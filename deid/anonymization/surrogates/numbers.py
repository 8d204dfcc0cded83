"""Surrogates for numbers, codes and addresses on the wire: keep the shape, change the value.

An MRN keeps its length and character classes ("MR-00412" -> "QT-83017"), a phone
number its punctuation ("(617) 555-0134" -> "(412) 739-2208"), an SSN its separators.
Values are keyed on their alphanumeric characters, so "123-45-6789" and "123456789"
get the same digits.  Emails, URLs and IP addresses are made by Faker on reserved
(example.*) domains and private address ranges.

The ``kind`` strings handed to ``draw`` ("PHONE_NUMBER", "US_SSN", ...) name the keyed
derivation's namespace: they spell entity labels, but changing one changes every
surrogate of that kind, so they are written out here rather than looked up.
"""

from __future__ import annotations

import re
import string

from faker import Faker

from deid.anonymization.surrogates.source import Draw

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+")


def alnum_key(text: str) -> str:
    """The case-folded letters and digits of ``text`` (what identifies a code)."""
    return "".join(c for c in text.casefold() if c.isalnum())


def shaped_surrogate(text: str, draw: Draw, kind: str) -> str:
    """Same length and character classes: digit -> digit, letter -> letter (same case)."""
    classes = "".join(_char_class(c) for c in text if c.isalnum())
    if not classes:
        return text
    new = draw(kind, alnum_key(text), lambda fake: _fill(fake, classes))
    return _layout(text, new)


def phone_surrogate(text: str, draw: Draw, kind: str = "PHONE_NUMBER") -> str:
    """A phone number in the original layout, with a plausible NANP area code and exchange."""
    digits = [c for c in text if c.isdigit()]
    if not digits:
        return shaped_surrogate(text, draw, kind)
    classes = "".join(_char_class(c) for c in text if c.isalnum())

    def make(fake: Faker) -> str:
        new = list(_fill(fake, classes))
        # The first digit of the area code and of the exchange are 2-9 in NANP numbers.
        digit_pos = [i for i, c in enumerate(classes) if c == "9"]
        if len(digit_pos) >= 10:
            start = 1 if len(digit_pos) == 11 and digits[0] == "1" else 0
            if start:
                new[digit_pos[0]] = "1"
            for k in (start, start + 3):
                new[digit_pos[k]] = str(fake.random_int(2, 9))
        return "".join(new)

    return _layout(text, draw(kind, alnum_key(text), make))


def fax_surrogate(text: str, draw: Draw) -> str:
    """A fax number: a phone number drawn apart from the phone numbers."""
    return phone_surrogate(text, draw, "FAX_NUMBER")


def ssn_surrogate(text: str, draw: Draw) -> str:
    """A well-formed SSN (Faker's: no 000/666/9xx area) in the original separators."""
    digits = [c for c in text if c.isdigit()]
    if len(digits) != 9 or any(c.isalpha() for c in text):
        return shaped_surrogate(text, draw, "US_SSN")
    new = draw("US_SSN", alnum_key(text), lambda fake: fake.ssn().replace("-", ""))
    return _layout(text, new)


def email_surrogate(text: str, draw: Draw) -> str:
    """A Faker user name at a reserved example domain, in the original's case style."""
    key = text.strip().casefold()

    def make(fake: Faker) -> str:
        return f"{fake.user_name()}@{fake.domain_word()}.{fake.safe_domain_name()}"

    new = draw("EMAIL_ADDRESS", key, make)
    if not _EMAIL_RE.fullmatch(text.strip()):
        return new
    return new.upper() if text.isupper() else new


def url_surrogate(text: str, draw: Draw) -> str:
    """A URL on a reserved example domain keeping the scheme, ``www.`` and path presence."""
    low = text.strip().casefold()
    scheme = ""
    rest = low
    if "://" in low:
        scheme, rest = low.split("://", 1)
        scheme += "://"
    www = "www." if rest.startswith("www.") else ""
    has_path = "/" in rest.rstrip("/")

    def make(fake: Faker) -> str:
        path = "/" + fake.uri_path() if has_path else ""
        return f"{scheme}{www}{fake.domain_word()}.{fake.safe_domain_name()}{path}"

    new = draw("URL", low, make)
    return new.upper() if text.isupper() else new


def ip_surrogate(text: str, draw: Draw) -> str:
    """A private IPv4 address, or a random IPv6 address for an IPv6 original."""
    key = text.strip().casefold()
    if ":" in key:
        return draw("IP_ADDRESS/6", key, lambda fake: fake.ipv6())
    return draw("IP_ADDRESS/4", key, lambda fake: fake.ipv4_private())


def _char_class(c: str) -> str:
    return "9" if c.isdigit() else "a"


def _fill(fake: Faker, classes: str) -> str:
    """Lower-case letters and digits in the given class sequence (case comes from the layout)."""
    return "".join(
        str(fake.random_digit()) if cls == "9" else fake.random_element(string.ascii_lowercase)
        for cls in classes
    )


def _layout(template: str, chars: str) -> str:
    """Put ``chars`` in place of the alphanumerics of ``template`` (in its case), keep the rest."""
    it = iter(chars)
    out = []
    for c in template:
        if c.isalnum():
            new = next(it)
            out.append(new.upper() if c.isupper() else new)
        else:
            out.append(c)
    return "".join(out)
