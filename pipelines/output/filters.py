"""Content filters: notes without training value, removed after de-identification.

Each filter is configured under ``filters:`` (``pipelines.config.FiltersConfig``) and
removes a note with a reason that is counted like the duplicates (manifest, run
summary, audit report, dataset card): ``rows_in = rows_out + quarantined + duplicates
+ near-duplicates + filtered + skipped``.

- ``min_content``: fewer than ``min_content_words`` words once template lines are
  removed -- blank lines, lines of punctuation only (``-----``, ``____``), an empty
  ``Label:`` field, signature / dictation / cc lines, and ``template_patterns``.  An
  empty template or a signature alone carries nothing to learn from.
- ``max_chars``: longer than ``max_chars`` characters.
- ``non_text``: more than ``max_non_text_share`` of the characters are neither letters,
  digits, whitespace nor ASCII punctuation (binary junk, mojibake, box drawing).

They run on the de-identified text, on the workers; the reason is a fixed name, never
content.
"""

from __future__ import annotations

import re
import string

from pipelines.config import FiltersConfig

MIN_CONTENT = "min_content"
MAX_CHARS = "max_chars"
NON_TEXT = "non_text"
REASONS = (MIN_CONTENT, MAX_CHARS, NON_TEXT)

_WORD = re.compile(r"\w+")
_BUILTIN_TEMPLATE_LINES = (
    r"[\W_]*",  # blank, or punctuation / rules only
    r"[\w /#().-]{1,40}:[\s_.-]*",  # an empty "Label:" field
    r"(electronically\s+)?(signed|dictated|transcribed|reviewed)(\s+\w+)?\s+by\b.*",
    r"(cc|signature|attending|resident)\s*:.*",
)
_TEXT_CHARS = frozenset(string.punctuation)


class ContentFilter:
    """Decides, per de-identified note, whether (and why) it is filtered out."""

    def __init__(self, config: FiltersConfig) -> None:
        self.config = config
        patterns = [*_BUILTIN_TEMPLATE_LINES, *config.template_patterns]
        self._template = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)

    def reason(self, text: str) -> str | None:
        """The filter that removes ``text``, or ``None`` to keep it (cheapest check first)."""
        config = self.config
        if config.max_chars is not None and len(text) > config.max_chars:
            return MAX_CHARS
        share = config.max_non_text_share
        if share is not None and text and non_text_share(text) > share:
            return NON_TEXT
        if config.min_content_words and content_words(text, self._template) < (
            config.min_content_words
        ):
            return MIN_CONTENT
        return None


def content_words(text: str, template: re.Pattern[str]) -> int:
    """Words of ``text`` outside the lines ``template`` matches in full."""
    return sum(
        len(_WORD.findall(line))
        for line in text.splitlines()
        if not template.fullmatch(line.strip())
    )


def non_text_share(text: str) -> float:
    """Share of characters that are not letters, digits, whitespace or ASCII punctuation."""
    odd = sum(1 for ch in text if not (ch.isalnum() or ch.isspace() or ch in _TEXT_CHARS))
    return odd / len(text)
