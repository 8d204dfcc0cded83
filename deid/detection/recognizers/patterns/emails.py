"""EMAIL_ADDRESS: ``local@domain.tld``.

Written here rather than reusing Presidio's ``ClinicalEmailRecognizer``: its local part
(``[..][..]{0,}[..]`` after ``\\b``) rescans a long run of word characters and hyphens
from every boundary inside it (quadratic), and it validates with a live tldextract
lookup.  Here a match is anchored at the "@", the local part is bounded and may not be
preceded by a local-part character, domain labels are forced by their dots, and the
top-level domain is checked against tldextract's bundled suffix snapshot.  Shouted notes
write "PT@HOME.NO COMPLAINTS": an all-capitals candidate with a two-letter country TLD
is not taken.
"""

from __future__ import annotations

from functools import lru_cache

import regex
import tldextract

from deid import entities
from deid.detection.recognizers.patterns._structured import StructuredRecognizer

_LOCAL_CHARS = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
_LOCAL = rf"[{_LOCAL_CHARS}]{{1,64}}(?:\.[{_LOCAL_CHARS}]{{1,64}}){{0,8}}"
_DOMAIN = r"(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}"
# Anchored at the "@" (rare) with the local part in a lookbehind: 100x faster than
# trying a local part at every position.
EMAIL_REGEX = (
    rf"@(?<=(?<![{_LOCAL_CHARS}.@])(?P<lead>{_LOCAL})@)"
    rf"{_DOMAIN}(?![A-Za-z0-9-]|\.[A-Za-z0-9])"
)


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # No download: the public-suffix snapshot shipped with tldextract is enough for TLDs.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def is_public_suffix_tld(tld: str) -> bool:
    """Whether ``tld`` (one label, any case) is a top-level domain in the suffix list."""
    return _extractor()(f"example.{tld.lower()}").suffix != ""


class ClinicalEmailRecognizer(StructuredRecognizer):
    """Email addresses, with a real top-level domain."""

    ENTITY = entities.EMAIL_ADDRESS.name
    NAME = "deid.emails"
    PATTERNS = (("email", EMAIL_REGEX, 0.9),)

    def refine(
        self, text: str, match: regex.Match[str], start: int, end: int, score: float
    ) -> tuple[int, int, float] | None:
        value = text[start:end]
        tld = value.rsplit(".", 1)[1]
        if not is_public_suffix_tld(tld):
            return None
        if len(tld) == 2 and value.isupper():
            return None
        return start, end, score


RECOGNIZERS = [ClinicalEmailRecognizer]
