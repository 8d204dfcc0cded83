"""Names people give themselves: ``my name is Pat Welsh``, ``Thanks, rob``, ``Regards,\nEve``.

Self-introductions and sign-offs are where short texts (portal messages, questions)
name their writer, in any case style and often with a given name that is also a common
word.  The phrase decides, so any dictionary name counts (``deid.lexicons``, ambiguous
ones included); a sign-off name must end its line or text.
"""

from __future__ import annotations

from spacy.tokens import Doc

from deid import entities
from deid.detection import lexicon
from deid.detection.recognizers.context._token_rules import (
    TokenRuleRecognizer,
    candidates,
    next_word,
    same_line,
)
from deid.detection.wordclass import CaseMode, NameLikeness, is_initial, is_name_word, name_likeness

_SIGN_OFFS = frozenset(
    {"thanks", "thank", "thx", "regards", "sincerely", "cheers", "best", "cordially", "love"}
)
_TRIGGERS = frozenset({"name", "named"} | _SIGN_OFFS)
_AFTER_SIGN_OFF = frozenset({",", "-", "!", ".", "you", "again", "so", "much", "very", "wishes"})
_MAX_NAME_WORDS = 3


class IntroducedNameRecognizer(TokenRuleRecognizer):
    """A name after "my name is" / "name:" or closing a text after "Thanks,"."""

    ENTITIES = (entities.PERSON.name,)
    NAME = "IntroducedNameRecognizer"

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        found = []
        for i in candidates(doc, _TRIGGERS):
            sign_off = doc[i].lower_ in _SIGN_OFFS
            hit = _signed(doc, i, mode) if sign_off else _introduced(doc, i, mode)
            if hit is not None:
                found.append((hit[0], hit[1], entities.PERSON.name, hit[2]))
        return found


def _name_words(doc: Doc, j: int, mode: CaseMode) -> int | None:
    """Last token of the name starting at ``j`` (a name word, then names or initials)."""
    if not _is_name(doc, j, mode):
        return None
    last = j
    k = j + 1
    while k < len(doc) and k - j < _MAX_NAME_WORDS and same_line(doc, last, k):
        if doc[k].is_space:
            break
        if doc[k].text == "." and is_initial(doc[last]):
            k += 1
            continue
        if is_initial(doc[k]) or _is_name(doc, k, mode):
            last = k
            k += 1
            continue
        break
    return last


def _is_name(doc: Doc, j: int, mode: CaseMode) -> bool:
    tok = doc[j]
    if not tok.is_alpha or tok.is_stop:
        return False
    return is_name_word(tok.lower_) or name_likeness(tok, mode) >= NameLikeness.MEDIUM


def _introduced(doc: Doc, i: int, mode: CaseMode) -> tuple[int, int, float] | None:
    if doc[i].lower_ == "name":
        j = i + 1
        if j >= len(doc) or doc[j].lower_ not in ("is", ":", "-"):
            return None
    else:
        j = i
    k = next_word(doc, j, skip=frozenset({":", "-"}))
    if k is None or k - j > 2 or not same_line(doc, j, k):
        return None
    last = _name_words(doc, k, mode)
    if last is None:
        return None
    dictionary = doc[k].lower_ in lexicon.person_names()
    return k, last, 0.8 if dictionary else 0.6


def _signed(doc: Doc, i: int, mode: CaseMode) -> tuple[int, int, float] | None:
    """A given name closing the text or its line after a sign-off word."""
    k = i + 1
    while k < len(doc) and (doc[k].is_space or doc[k].lower_ in _AFTER_SIGN_OFF):
        k += 1
    if k >= len(doc) or k - i > 7 or doc[k].lower_ not in lexicon.first_names():
        return None
    last = _name_words(doc, k, mode)
    if last is None:
        return None
    end = last + 1
    while end < len(doc) and doc[end].is_punct and doc[end].text not in ("(",):
        end += 1
    if end < len(doc) and not doc[end].is_space and doc[end].text != "(":
        return None  # the sign-off runs on: "thanks, will call back"
    return k, last, 0.75


RECOGNIZERS = [IntroducedNameRecognizer]
