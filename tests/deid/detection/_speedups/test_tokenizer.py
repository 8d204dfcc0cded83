"""The tokenizer made fast: the cache learned between memory zones, the word attributes read."""

from __future__ import annotations

import json
import re

import pytest
import spacy
from spacy.language import Language

from deid.detection._speedups.tokenizer import CachingTokenizer
from deid.detection.nlp import DOC_TEXT_KEY, SPACY_MODEL, doc_text, load_base_pipeline
from tests.paths import REPO

NOTES = [
    "Pt seen by Dr. Healey, BP 120/80, HR 72. Plan: cont. lasix 40mg.",
    "BP 118/76, HR 80. Pt resting comfortably; cont. lasix.",
    "Pt OOB to chair. BP 130/85, HR 77. Family in to visit.",
    "HR 90's, BP stable. Pt c/o pain 4/10, medicated w/ morphine 2mg IV.",
    "Zyxqor Vlantic called re: Pt. BP 122/70.",
]


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_base_pipeline()


def _tokens(nlp: Language, texts: list[str]) -> list[list[str]]:
    return [[t.text for t in nlp(text)] for text in texts]


def test_the_pipeline_tokenizer_is_the_caching_one(nlp: Language) -> None:
    assert isinstance(nlp.tokenizer, CachingTokenizer)
    doc = nlp(NOTES[0])
    assert doc.user_data[DOC_TEXT_KEY] == NOTES[0] == doc_text(doc) == doc.text


def test_learning_keeps_tokens_identical_and_takes_only_frequent_chunks() -> None:
    nlp = load_base_pipeline()
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer, CachingTokenizer)
    with nlp.memory_zone():
        before = _tokens(nlp, NOTES)
        assert tokenizer.learn() == 0  # inside a zone: nothing can be made permanent
    learned = tokenizer.learn()
    assert learned > 0
    assert {"BP", "HR", "Pt"} <= tokenizer._learned
    # seen in one note only: stays transient (a name is not kept in the vocabulary)
    assert not {"Zyxqor", "Vlantic", "Healey,"} & tokenizer._learned
    with nlp.memory_zone():
        assert _tokens(nlp, NOTES) == before
    assert tokenizer.learn() == 0  # what was learned is not learned twice


def test_learning_stops_at_the_cap() -> None:
    nlp = load_base_pipeline()
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer, CachingTokenizer)
    tokenizer._max_learned = 3
    with nlp.memory_zone():
        _tokens(nlp, NOTES)
    assert tokenizer.learn() == 3
    with nlp.memory_zone():
        _tokens(nlp, NOTES)
    assert tokenizer.learn() == 0 and len(tokenizer._learned) == 3


def test_the_tokenizer_still_serialises(nlp: Language) -> None:
    """spaCy writes the suffix rule by its regex pattern, which the gate keeps."""
    restored = load_base_pipeline().tokenizer.from_bytes(nlp.tokenizer.to_bytes())
    assert [t.text for t in restored(NOTES[3])] == [t.text for t in nlp(NOTES[3])]


_READ = ("lower_", "shape_", "suffix_", "is_alpha", "is_digit", "is_punct", "is_space")
_READ += ("is_stop", "is_title", "is_upper")


def test_the_word_attributes_deidflow_reads_are_spacys() -> None:
    """Only unread lexeme attributes are skipped: the read ones match stock spaCy's."""
    ours = load_base_pipeline()
    stock = spacy.load(SPACY_MODEL, exclude=["tok2vec", "tagger", "parser", "lemmatizer", "ner"])
    sample = REPO / "sample_data" / "notes.jsonl"
    texts = [json.loads(line)["text"] for line in sample.read_text().splitlines()[:20]]
    with ours.memory_zone():  # new words get their lexemes here, as in a run
        tokens = [tok for text in texts for tok in ours(text)]
        assert len(tokens) > 2000
        for tok in tokens:
            lexeme = stock.vocab[tok.text]
            assert [getattr(tok, a) for a in _READ] == [getattr(lexeme, a) for a in _READ]


def test_no_code_reads_a_skipped_word_attribute() -> None:
    """Skipped attributes read as False; code reading one must add it to LEXEME_ATTRIBUTES."""
    skipped = re.compile(
        r"\.(?:norm|prefix|like_url|like_email|like_num|is_lower|is_ascii|is_bracket"
        r"|is_quote|is_left_punct|is_right_punct|is_currency|lang)_?\b(?!\.)"  # not spacy.lang.en
    )
    readers = [
        str(path.relative_to(REPO))
        for folder in ("deid", "pipelines")
        for path in (REPO / folder).rglob("*.py")
        if skipped.search(path.read_text())
    ]
    assert readers == []
