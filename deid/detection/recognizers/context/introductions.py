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
    prev_word,
    same_line,
)
from deid.detection.wordclass import CaseMode, NameLikeness, is_initial, is_name_word, name_likeness

_SIGN_OFFS = frozenset(
    {"thanks", "thank", "thx", "ty", "regards", "sincerely", "cheers", "best", "cordially", "love"}
)
# "I'm Gonzalo,", "im TRACIE,", "this is payne, frank," (the name, then a pause).
_SELF = frozenset({"'m", "m", "am", "is", "i'm", "im", "i\u2019m"})
_SELF_JOINED = frozenset({"i'm", "im", "i\u2019m"})
_SELF_OPENERS = frozenset({"i", "this", "it", "its"})
_TRIGGERS = frozenset({"name", "named", "-"} | _SIGN_OFFS | _SELF)
_AFTER_SIGN_OFF = frozenset(
    {",", "-", "!", ".", "you", "u", "again", "so", "much", "very", "wishes"}
)
# Words that may follow a signed name: its identifiers ("claudia MR# ...", "Wyatt, dob").
_AFTER_SIGNED_NAME = frozenset(
    {"mr", "mr#", "mrn", "mrn#", "dob", "d.o.b.", "date", "born", "chart", "medical", "record"}
)
_MAX_NAME_WORDS = 3


class IntroducedNameRecognizer(TokenRuleRecognizer):
    """A name after "my name is" / "name:" or closing a text after "Thanks,"."""

    ENTITIES = (entities.PERSON.name,)
    NAME = "IntroducedNameRecognizer"

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        found = []
        for i in candidates(doc, _TRIGGERS):
            low = doc[i].lower_
            if low in _SIGN_OFFS:
                hit = _signed(doc, i, mode)
            elif low == "-":
                hit = _dash_signed(doc, i, mode)
            elif low in _SELF:
                hit = _self_named(doc, i, mode)
            else:
                hit = _introduced(doc, i, mode)
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
    if not _name_ends(doc, last):
        return None  # the sign-off runs on: "thanks, will call back"
    return k, last, 0.75


def _name_ends(doc: Doc, last: int) -> bool:
    """The name ending at ``last`` closes its line or text, or a pause or its identifiers
    follow ("Lou,", "Lou (daughter)", "claudia MR# ...", "Dave dave@example.org")."""
    k = last + 1
    if k >= len(doc) or doc[k].is_space or doc[k].is_punct:
        return True
    nxt = doc[k]
    return (
        "@" in nxt.text  # an e-mail address, however spaCy splits it
        or nxt.text[:1].isdigit()  # (not like_num: the tokenizer skips that attribute)
        or nxt.lower_ in _AFTER_SIGNED_NAME
    )


def _dash_signed(doc: Doc, i: int, mode: CaseMode) -> tuple[int, int, float] | None:
    """ "\n- amara beard", "\n- arellano, wanda": a name signing the text after a dash."""
    if i == 0 or not (doc[i - 1].is_space and "\n" in doc[i - 1].text):
        return None
    k = i + 1
    if k >= len(doc) or doc[k].lower_ not in lexicon.person_names():
        return None
    low = doc[k].lower_
    if low in lexicon.medical_terms() or (
        low in lexicon.english_words() and low not in lexicon.popular_names()
    ):
        return None  # "- ABD: soft", "- GI: ..." (a list, not a signature)
    last = _name_words(doc, k, mode)
    if last is None:
        return None
    last = _surname_first(doc, last, mode)
    if not _name_ends(doc, last):
        return None
    return k, last, 0.7


def _surname_first(doc: Doc, last: int, mode: CaseMode) -> int:
    """ "payne, frank": a given name after a comma completes a surname-first name."""
    k = last + 2
    if (
        k < len(doc)
        and doc[last + 1].text == ","
        and doc[k].lower_ in lexicon.first_names()
        and (
            doc[k].lower_ not in lexicon.english_words() or doc[k].lower_ in lexicon.popular_names()
        )
        and _is_name(doc, k, mode)
        and (k + 1 == len(doc) or doc[k + 1].is_punct or doc[k + 1].is_space)
    ):
        return k
    return last


def _self_named(doc: Doc, i: int, mode: CaseMode) -> tuple[int, int, float] | None:
    """ "I'm Gonzalo, 98", "im TRACIE,", "this is payne, frank,": a name and a pause."""
    if doc[i].lower_ not in _SELF_JOINED:
        k = prev_word(doc, i, skip=frozenset())
        if k is None or doc[k].lower_ not in _SELF_OPENERS or k != i - 1:
            return None
        if doc[i].lower_ == "is" and doc[k].lower_ == "i":
            return None
    j = i + 1
    if j >= len(doc):
        return None
    tok = doc[j]
    low = tok.lower_
    if low not in lexicon.person_names() or not _is_name(doc, j, mode):
        return None
    if low in lexicon.english_words() and not (mode == CaseMode.MIXED and tok.is_title):
        return None  # "I'm fine", "this is normal"
    last = _surname_first(doc, _name_words(doc, j, mode) or j, mode)
    if last + 1 < len(doc) and doc[last + 1].text in (",", "(", ".") or last + 1 == len(doc):
        return j, last, 0.75
    return None


RECOGNIZERS = [IntroducedNameRecognizer]
