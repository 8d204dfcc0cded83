"""Base class for recognizers that apply context rules over spaCy tokens."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.attrs import IDX, LOWER
from spacy.strings import get_string_id
from spacy.tokens import Doc

from deid.detection.nlp import doc_text
from deid.detection.wordclass import CaseMode, case_mode


class TokenRuleRecognizer(EntityRecognizer):
    """A recognizer whose rules look at tokens of the note's spaCy ``Doc``.

    Subclasses implement ``find(doc, mode)`` returning ``(first_token, last_token,
    entity, score)`` tuples (inclusive token indices).  Rules only look around their
    trigger words: ``candidates(doc, words)`` finds those with one vectorised lookup,
    so a rule costs almost nothing on notes without triggers.  Results are cached on
    the Doc because the PHI tagger reads the same rule hits as features.
    """

    ENTITIES: tuple[str, ...] = ()
    NAME = ""
    name: str  # set by Presidio's EntityRecognizer.__init__ (to NAME)

    def __init__(self) -> None:
        super().__init__(
            supported_entities=list(self.ENTITIES), name=self.NAME, supported_language="en"
        )

    def load(self) -> None:
        return None

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        raise NotImplementedError

    # Whether a hit right before an eponym's head word ("Barrett's esophagus", "Lyme
    # disease", "Epley maneuver") is dropped; rules whose context already decides (a
    # title: "Dr. Parkinson") keep theirs.
    DROPS_EPONYMS = True

    def hits(self, doc: Doc) -> list[tuple[int, int, str, float]]:
        """``find`` results, computed once per Doc."""
        key = f"deid_rule:{self.NAME}"
        cached = doc.user_data.get(key)
        if cached is None:
            cached = self.find(doc, case_mode(doc))
            if self.DROPS_EPONYMS:
                cached = [h for h in cached if not eponym_before(doc, h[1])]
            doc.user_data[key] = cached
        return cached

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if nlp_artifacts is None or nlp_artifacts.tokens is None:
            return []
        doc: Doc = nlp_artifacts.tokens
        results = []
        for first, last, entity, score in self.hits(doc):
            if entity not in entities:
                continue
            start, end = doc[first].idx, doc[last].idx + len(doc[last])
            results.append(
                RecognizerResult(
                    entity,
                    start,
                    end,
                    score,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
        return results


# Head words of medical eponyms and named conditions: a "name" right before one of these
# (with or without "'s") names a disease, sign, test or device, not a person or place.
EPONYM_HEADS = frozenset(
    {
        "disease",
        "diseases",
        "syndrome",
        "sign",
        "test",
        "maneuver",
        "manoeuvre",
        "procedure",
        "surgery",
        "operation",
        "repair",
        "fundoplication",
        "virus",
        "fever",
        "esophagus",
        "palsy",
        "catheter",
        "drain",
        "score",
        "scale",
        "criteria",
        "classification",
        "fracture",
        "ulcer",
        "cyst",
        "node",
        "nodes",
        "reflex",
        "phenomenon",
        "tumor",
        "tumour",
        "lymphoma",
        "sarcoma",
        "anomaly",
        "triad",
        "stain",
        "spotted",
        "encephalitis",
        "ataxia",
        "dystrophy",
        "chorea",
        "collar",
        "position",
        "incision",
        "shunt",
        "valve",
        "stockings",
        "forceps",
        "gland",
        "duct",
        "pouch",
        "measles",
        "dementia",
        "neuralgia",
        "thyroiditis",
        "lymphadenopathy",
        "contracture",
        "deformity",
        "aneurysm",
        "block",
        "angina",
        "bodies",
    }
)


def eponym_before(doc: Doc, last: int) -> bool:
    """The word after token ``last`` (over "'s" or a hyphenated part) is an eponym head."""
    k = last + 1
    if k < len(doc) and doc[k].lower_ in ("'s", "'", "s"):
        k += 1
    if k + 1 < len(doc) and doc[k].text == "-" and not doc[k - 1].whitespace_:
        k += 2  # "Osgood-Schlatter disease"
    return k < len(doc) and doc[k].lower_ in EPONYM_HEADS


def next_word(
    doc: Doc, i: int, skip: frozenset[str] = frozenset({".", ",", ":", "-", "("})
) -> int | None:
    """Index of the first token after ``i`` that is not skippable punctuation or space."""
    j = i + 1
    while j < len(doc) and (doc[j].is_space or doc[j].text in skip):
        j += 1
    return j if j < len(doc) else None


def prev_word(doc: Doc, i: int, skip: frozenset[str] = frozenset({",", "."})) -> int | None:
    """Index of the first token before ``i`` that is not skippable punctuation or space."""
    j = i - 1
    while j >= 0 and (doc[j].is_space or doc[j].text in skip):
        j -= 1
    return j if j >= 0 else None


def same_line(doc: Doc, i: int, j: int) -> bool:
    """No newline between tokens ``i`` and ``j`` (i < j)."""
    return "\n" not in doc_text(doc)[doc[i].idx : doc[j].idx]


def candidates(doc: Doc, words: frozenset[str]) -> list[int]:
    """Indices of tokens whose lower-cased text is one of ``words`` (vectorised)."""
    lower = doc.user_data.get("deid_lower")
    if lower is None:
        lower = doc.user_data["deid_lower"] = doc.to_array(LOWER)
    table = _hashes(words)
    if len(table) == 0 or len(lower) == 0:
        return []
    pos = np.minimum(np.searchsorted(table, lower), len(table) - 1)
    return np.flatnonzero(table[pos] == lower).tolist()


def tokens_starting_at(doc: Doc, char_offsets: Iterable[int]) -> list[int]:
    """Indices of tokens that start exactly at one of ``char_offsets``."""
    starts = doc.user_data.get("deid_idx")
    if starts is None:
        starts = doc.user_data["deid_idx"] = doc.to_array(IDX).astype(np.int64)
    wanted = np.fromiter(char_offsets, dtype=np.int64)
    if len(wanted) == 0 or len(starts) == 0:
        return []
    pos = np.minimum(np.searchsorted(starts, wanted), len(starts) - 1)
    return sorted(set(pos[starts[pos] == wanted].tolist()))


@lru_cache(maxsize=64)
def _hashes(words: frozenset[str]) -> np.ndarray:
    """spaCy's 64-bit string hashes of ``words`` (deterministic, so computed once)."""
    return np.sort(
        np.fromiter((get_string_id(w) for w in words), dtype=np.uint64, count=len(words))
    )
