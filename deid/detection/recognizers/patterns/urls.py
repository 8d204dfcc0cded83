"""URL: web addresses with a scheme, with ``www.``, or as a bare domain.

Presidio's ``ClinicalUrlRecognizer`` is not reused: it accepts any ``word.tld`` with some 500
TLDs case-insensitively (so "pt.is" and "d/c.in" in nursing shorthand are URLs) and each
start position rescans up to 253 characters.  Here:

* ``http(s)://``, ``ftp://`` and ``www.`` addresses are taken as they are;
* a bare domain ("mychart.example.org") is taken when its TLD is a lower-case common
  generic one (com, org, net, edu, gov, ...), or with any public TLD after a label such
  as "website:" or "portal".

A trailing full stop, comma or closing bracket is left out of the span.
"""

from __future__ import annotations

import regex

from deid import entities
from deid.detection.recognizers.patterns._structured import PHI_GROUP, StructuredRecognizer
from deid.detection.recognizers.patterns.emails import is_public_suffix_tld

# Characters that end a URL; the last character must also not be sentence punctuation.
_PATH = r"""(?:[/?#](?:[^\s<>"'`{}|\\^]{0,2000}[^\s<>"'`{}|\\^.,;:!?)\]])?)?"""
_PORT = r"(?::[0-9]{2,5})?"
_LABELS = r"(?:[A-Za-z0-9-]{1,63}\.)+"
# No start inside a word, a path, a domain or an email address.
_START = r"\b(?<![.@/:-])"
_END = r"(?![\w-]|\.[A-Za-z0-9])"

_GENERIC_TLDS = "com|org|net|edu|gov|mil|int|info|biz|health|care|io|us"

SCHEME_URL = (
    r"\b(?<![.@/-])(?i:https?|s?ftp)://"
    r"""[^\s<>"'`{}|\\^]{0,2000}[^\s<>"'`{}|\\^.,;:!?)\]]"""
)
WWW_URL = rf"{_START}(?i:www[0-9]{{0,3}})\.{_LABELS}[A-Za-z]{{2,24}}{_END}{_PORT}{_PATH}"
# Anchored at ".com" etc. (rare), with the labels before it in a lookbehind.
BARE_GENERIC_URL = (
    rf"\.(?=(?:{_GENERIC_TLDS}){_END})"
    rf"(?<=(?<![\w.@/:-])(?P<lead>(?:[A-Za-z0-9-]{{1,63}}\.){{0,7}}[A-Za-z0-9-]{{1,63}})\.)"
    rf"(?:{_GENERIC_TLDS}){_PORT}{_PATH}"
)
LABELLED_URL = (
    r"\b(?i:url|web\s?site|web\s?page|home\s?page|portal|link|online\s+at|visit|go\s+to)"
    r"(?![A-Za-z])[ \t]{0,3}[:=-]?[ \t]{0,3}"
    rf"(?P<{PHI_GROUP}>{_LABELS}(?P<tld>[A-Za-z]{{2,24}}){_END}{_PORT}{_PATH})"
)


class ClinicalUrlRecognizer(StructuredRecognizer):
    """Web addresses: scheme or ``www.`` always; bare domains with a common TLD or a label."""

    ENTITY = entities.URL.name
    NAME = "deid.urls"
    PATTERNS = (
        ("url_scheme", SCHEME_URL, 0.9),
        ("url_www", WWW_URL, 0.85),
        ("url_bare_generic_tld", BARE_GENERIC_URL, 0.7),
        ("url_labelled", LABELLED_URL, 0.8),
    )

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        if "tld" in match.re.groupindex and not is_public_suffix_tld(match.group("tld")):
            return None
        return start, end, score


RECOGNIZERS = [ClinicalUrlRecognizer]
