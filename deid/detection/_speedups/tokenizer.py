"""Internal: spaCy's tokenizer made fast; the same tokens and the same word attributes.

``speed_up(nlp, text_key)`` applies all three to the base pipeline
(``deid.detection.nlp.load_base_pipeline``):

* spaCy's prefix, suffix and infix regexes are not run on chunks they cannot match
  (``affix_gates``);
* new words get only the lexeme attributes deidflow reads (``LEXEME_ATTRIBUTES``);
* chunks frequent across notes are cached beyond memory zones (``CachingTokenizer``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

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

from deid.detection._speedups.affix_gates import (
    GatedInfixFinditer,
    GatedPrefixSearch,
    GatedSuffixSearch,
)


def speed_up(nlp: Language, text_key: str) -> None:
    """Gate the affix regexes, skip unread word attributes, cache frequent chunks.

    The caching tokenizer stores each doc's text in ``doc.user_data[text_key]``.
    """
    _gate_affix_searches(nlp)
    _keep_read_lexeme_attributes(nlp)
    nlp.tokenizer = CachingTokenizer(nlp.tokenizer, text_key)  # type: ignore[arg-type]


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


_COUNTED_CHARS = 50_000  # longer texts are segments of a huge note (deid.detection.detector)


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

    It also records each doc's text under ``text_key`` (``deid.detection.nlp.doc_text``),
    which the rules read many times.
    """

    def __init__(
        self, inner: Tokenizer, text_key: str, max_learned: int = 16_384, min_notes: int = 4
    ) -> None:
        self._inner = inner
        self._text_key = text_key
        self._max_learned = max_learned
        self._min_notes = min_notes
        self._learned: set[str] = set()
        self._seen: Counter[str] = Counter()
        inner.max_cache_size = max(inner.max_cache_size, max_learned + 20_000)

    def __call__(self, text: str) -> Doc:
        doc = self._inner(text)
        doc.user_data[self._text_key] = text
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


def _gate_affix_searches(nlp: Language) -> None:
    """Same tokens, fewer regex searches (``affix_gates``)."""
    tokenizer: Tokenizer = nlp.tokenizer  # type: ignore[assignment]  # a plain Tokenizer here
    tokenizer.prefix_search = GatedPrefixSearch(tokenizer.prefix_search.__self__).search
    tokenizer.suffix_search = GatedSuffixSearch(tokenizer.suffix_search.__self__).search
    tokenizer.infix_finditer = GatedInfixFinditer(tokenizer.infix_finditer.__self__).finditer
