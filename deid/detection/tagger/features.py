"""Hashed token features for the PHI tagger, computed vectorised from spaCy attributes.

Every feature is a (template, value) pair hashed into ``N_BUCKETS`` rows of the weight
matrix.  Values are spaCy's 64-bit string hashes (stable across processes), so a
document's whole feature matrix is a handful of numpy operations; only the per-word
lexicon classes need Python, and they are cached per vocabulary entry.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from spacy.attrs import IDX, IS_ALPHA, IS_SPACE, IS_TITLE, IS_UPPER, LENGTH, LOWER, SHAPE, SUFFIX
from spacy.tokens import Doc
from spacy.vocab import Vocab

from deid.detection import lexicon
from deid.detection.nlp import doc_text
from deid.detection.recognizers.context.facilities import FacilityRecognizer
from deid.detection.recognizers.context.full_names import FullNameRecognizer
from deid.detection.recognizers.context.places import PlaceRecognizer
from deid.detection.recognizers.context.relatives import RelativeNameRecognizer
from deid.detection.recognizers.context.titled_names import TitledNameRecognizer
from deid.detection.tagger.word_classes import NAME_SHIFT, PLACE_SHIFT, word_class

N_BUCKETS = 1 << 19
_MUL = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xC2B2AE3D27D4EB4F)
_PAD_BEFORE = np.uint64(0x1B873593)
_PAD_AFTER = np.uint64(0x85EBCA6B)

# Lexicon flag bits (feature set v1; v2's classes are in word_classes).
FIRST_NAME, LAST_NAME, PLACE, MEDICAL, STOP = 1, 2, 4, 8, 16

_ATTRS = [LOWER, SHAPE, SUFFIX, IS_SPACE, IS_ALPHA, IS_TITLE, IS_UPPER]

FEATURE_SETS = ("v1", "v2")
"""v1: Faker/geonames word lists, 29 templates; v2: deid.lexicons classes, 37 templates."""
DEFAULT_FEATURES = "v2"
N_TEMPLATES = 37  # of the largest set; a model's feature matrix has its set's number
_N_TEMPLATES = {"v1": 29, "v2": 37}
_TEMPLATE_SALT = [
    np.uint64(((t + 1) * 0xC2B2AE3D27D4EB4F) & (2**64 - 1)) for t in range(N_TEMPLATES)
]
_LOW16 = np.uint64(0xFFFF)


LEX_CACHE_MAX = 65_536  # words whose lexical class is remembered (bounded memory)


class FeatureExtractor:
    """Turns a spaCy ``Doc`` into a ``(n_tokens, N_TEMPLATES)`` matrix of bucket indices."""

    def __init__(self, version: str = DEFAULT_FEATURES) -> None:
        if version not in FEATURE_SETS:
            raise ValueError(f"unknown tagger feature set {version!r}; known: {FEATURE_SETS}")
        self.version = version
        self.n_templates = _N_TEMPLATES[version]
        # The context rules' hits are features: the model learns how far to trust each.
        self._rules = [
            TitledNameRecognizer(),
            RelativeNameRecognizer(),
            FacilityRecognizer(),
            PlaceRecognizer(),
            FullNameRecognizer(),
        ]
        self._lex_cache: dict[int, int] = {}
        self._first = lexicon.first_names()
        self._last = lexicon.last_names()
        self._places = lexicon.place_names()
        self._medical = lexicon.medical_terms()

    def lex_class(self, vocab: Vocab, lower_hash: int) -> int:
        """Frequency bucket and dictionary flags of a word, packed in one int."""
        code = self._lex_cache.get(lower_hash)
        if code is None and self.version != "v1":
            code = word_class(vocab.strings[lower_hash])
            if len(self._lex_cache) >= LEX_CACHE_MAX:
                self._lex_cache.clear()
            self._lex_cache[lower_hash] = code
        if code is None:
            word = vocab.strings[lower_hash]
            flags = 0
            if word in self._first:
                flags |= FIRST_NAME
            if word in self._last:
                flags |= LAST_NAME
            if word in self._places:
                flags |= PLACE
            if word in self._medical:
                flags |= MEDICAL
            if vocab[word].is_stop:
                flags |= STOP
            code = int(lexicon.zipf(word) * 2) * 32 + flags
            if len(self._lex_cache) >= LEX_CACHE_MAX:
                # Every new name and number is a new word: an unbounded cache grew ~1 MB
                # per 1,000 notes.  Starting over is cheap (common words come back fast).
                self._lex_cache.clear()
            self._lex_cache[lower_hash] = code
        return code

    def extract(self, doc: Doc) -> tuple[np.ndarray, np.ndarray]:
        """Return (token indices in ``doc`` of non-space tokens, feature bucket matrix)."""
        keeps, feats = self.extract_batch([doc])
        return keeps[0], feats

    def extract_batch(self, docs: Sequence[Doc]) -> tuple[list[np.ndarray], np.ndarray]:
        """Per doc, the indices of its non-space tokens; and one feature matrix for all of
        those tokens, doc after doc (the same rows ``extract`` gives each doc).

        Only what needs a doc's tokens runs per doc (attributes, line breaks, context
        rules); the ~300 small numpy operations of hashing run once per batch: per doc
        they cost more than the arithmetic.
        """
        keeps: list[np.ndarray] = []
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]] = []
        for doc in docs:
            attrs = doc.to_array(_ATTRS)
            keep = np.flatnonzero(attrs[:, 3] == 0)
            keeps.append(keep)
            if keep.size == 0:
                continue
            a = attrs[keep].astype(np.uint64)
            line_start, line_end = _line_flags(doc, keep)
            n_alpha = max(1, int(a[:, 4].sum()))
            upper_share = float(a[:, 6].sum()) / n_alpha
            title_share = float(a[:, 5].sum()) / n_alpha
            doc_case = 0 if upper_share > 0.5 else (1 if title_share > 0.12 else 2)
            parts.append((a, line_start, line_end, self._rule_flags(doc, keep), doc_case))
        if not parts:
            return keeps, np.zeros((0, self.n_templates), dtype=np.int64)
        lengths = np.array([len(part[0]) for part in parts])
        a = np.concatenate([part[0] for part in parts])
        line_start = np.concatenate([part[1] for part in parts])
        line_end = np.concatenate([part[2] for part in parts])
        rules = np.concatenate([part[3] for part in parts])
        case_mode = np.repeat(np.array([part[4] for part in parts], dtype=np.uint64), lengths)
        # Position of each token in its doc, and tokens left from it to the doc's end:
        # neighbours never reach across docs.
        pos = np.arange(len(a)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        left = np.repeat(lengths, lengths) - pos

        def shift(values: np.ndarray, by: int) -> np.ndarray:
            out = _shift(values, by)
            if by > 0:
                out[pos < by] = _PAD_BEFORE
            else:
                out[left <= -by] = _PAD_AFTER
            return out

        lower, shape, suffix = a[:, 0], a[:, 1], a[:, 2]
        # Classes per distinct word (a batch repeats many), then spread to the tokens.
        words, position = np.unique(lower, return_inverse=True)
        vocab = docs[0].vocab
        classes = np.fromiter(
            (self.lex_class(vocab, int(h)) for h in words), dtype=np.uint64, count=len(words)
        )
        lex = classes[position]
        if self.version != "v1":
            name = (lex >> np.uint64(NAME_SHIFT)) & _LOW16
            place = lex >> np.uint64(PLACE_SHIFT)
            lex = lex & _LOW16

        prev1, prev2 = shift(lower, 1), shift(lower, 2)
        next1, next2 = shift(lower, -1), shift(lower, -2)
        sprev, snext = shift(shape, 1), shift(shape, -1)
        lprev, lnext = shift(lex, 1), shift(lex, -1)
        values = [
            np.zeros_like(lower),
            lower,
            shape,
            suffix,
            lex,
            _combine(lex, shape),
            prev1,
            prev2,
            next1,
            next2,
            sprev,
            snext,
            _combine(prev1, shape),
            _combine(shape, next1),
            lprev,
            lnext,
            _combine(shape, case_mode),
            _combine(lex, case_mode),
            _combine(shape, line_start),
            _combine(lex, line_end),
            _combine(prev1, next1),
            _combine(_combine(lprev, lex), lnext),
            _combine(prev1, lex),
            _combine(_combine(prev2, prev1), shape),
            rules,
            _combine(rules, lex),
            _combine(rules, shape),
            _combine(shift(rules, 1), shift(rules, -1)),
            _combine(rules, case_mode),
        ]
        if self.version != "v1":
            values += [
                name,
                place,
                _combine(name, shape),
                _combine(place, shape),
                _combine(prev1, name),
                _combine(prev1, place),
                _combine(name, next1),
                _combine(place, next1),
            ]
        # Filled template by template and returned transposed: each template's buckets
        # are contiguous, which is how the model gathers its weights (~6x faster).
        by_template = np.empty((len(values), len(lower)), dtype=np.int64)
        for t, v in enumerate(values):
            h = (v * _MUL) ^ _TEMPLATE_SALT[t]
            by_template[t] = ((h >> np.uint64(20)) % np.uint64(N_BUCKETS)).astype(np.int64)
        return keeps, by_template.T

    def _rule_flags(self, doc: Doc, keep: np.ndarray) -> np.ndarray:
        """Per kept token: which context rules cover it (bit per rule; +16 if any is confident)."""
        flags = np.zeros(len(doc), dtype=np.uint64)
        for bit, rule in enumerate(self._rules):
            for first, last, _entity, score in rule.hits(doc):
                flags[first : last + 1] |= np.uint64((1 << bit) | (64 if score >= 0.5 else 0))
        return flags[keep]


def _combine(a: np.ndarray, b: np.ndarray | np.uint64) -> np.ndarray:
    return (a * _MUL) ^ (b + _MIX)


def _shift(values: np.ndarray, by: int) -> np.ndarray:
    """values shifted right (by > 0: previous tokens) or left (by < 0), padded."""
    out = np.empty_like(values)
    if by > 0:
        out[:by] = _PAD_BEFORE
        out[by:] = values[:-by]
    else:
        out[by:] = _PAD_AFTER
        out[:by] = values[-by:]
    return out


def _line_flags(doc: Doc, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each kept token starts / ends a line (newline between it and its neighbour)."""
    pos = doc.to_array([IDX, LENGTH]).astype(np.int64)[keep]
    idx, end = pos[:, 0], pos[:, 0] + pos[:, 1]
    text = doc_text(doc)
    # UTF-32 keeps one code unit per character, so positions are character offsets.
    newlines = np.flatnonzero(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) == 10)
    starts = np.zeros(len(keep), dtype=np.uint64)
    starts[0] = 1
    if len(newlines) and len(keep) > 1:
        # A newline lies between the previous token's end and this token's start.
        before_start = np.searchsorted(newlines, idx[1:])
        before_prev_end = np.searchsorted(newlines, end[:-1])
        starts[1:] = (before_start > before_prev_end).astype(np.uint64)
    ends = np.zeros(len(keep), dtype=np.uint64)
    ends[:-1] = starts[1:]
    ends[-1] = 1
    return starts, ends
