"""The residual-identifier patterns: what must never appear outside the replaced spans.

Plain ``re`` patterns, no Great Expectations import: the gate's suite
(``expectations.deidentified_notes``) turns each into an expectation, and the row-level
screen that runs on the workers (``pipelines.gate.residual``) uses them directly, so a worker
never loads GX.
"""

from __future__ import annotations

# Residual structured identifiers: any hit in text *outside* the replaced spans is a
# leak.  The row-level screen (``pipelines.gate.residual.residual_hits``) runs these same
# patterns before the gate and quarantines the rows they match; the gate then checks
# what is left.  Written without look-arounds so that they run in linear time both in
# Python's ``re`` (every quantifier is bounded or followed by a disjoint class) and in
# RE2, which pandas uses for Arrow-backed strings.  They test presence, not extraction:
# the email pattern needs only one local-part character before the "@" (an unbounded
# local part would make ``re.search`` quadratic on long runs of word characters).
RESIDUAL_PATTERNS: dict[str, str] = {
    "ssn": r"\b\d{3}-\d{2}-\d{4}\b",
    "email": r"[A-Za-z0-9._%+-]@[A-Za-z0-9-]+\.[A-Za-z]{2,}",
    "phone": r"(?:^|\D)\(?\d{3}\)?[-. ]\d{3}[-. ]\d{4}(?:\D|$)",
    "mrn": r"(?i)\b(?:MRN|MR#)[:# ]*\d{5,}",
}


RESIDUAL_PREFILTERS: dict[str, str] = {
    "ssn": r"\d\d\d-\d\d-\d\d\d\d",
    "email": r"@",
    "phone": r"\d\d\d[-. ]\d\d\d\d",
    "mrn": r"[Mm][Rr]",
}
"""For the row-level screen's speed only: a regex that every match of the pattern of
the same name contains (hypothesis-tested).  Each opens with a literal or a character
class, which ``re`` skips ahead to; the patterns themselves open with ``\b`` or ``^``,
and are tried at every position.  A text without a prefilter match is not scanned."""


def residual_check_name(name: str) -> str:
    """The check name of ``RESIDUAL_PATTERNS[name]`` in reports and quarantine records."""
    return f"residual_{name}"
