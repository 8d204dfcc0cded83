"""Person names marked by a title before them or a credential after them.

``Dr. Healey``, ``per dr healey``, ``DRS JOSEPH AND ROBBINS``, ``Mrs. Park``,
``NP DJURIC``, ``Mary Hulse, R.N.``, ``q. lander rrt``, ``DAN A. FORMAN-LYONS, RRT``.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Token

from deid import entities
from deid.detection import lexicon
from deid.detection._speedups.word_filter import WordFilter, doc_letter_runs
from deid.detection._speedups.word_trie import word_trie_regex
from deid.detection.recognizers.context._token_rules import (
    TokenRuleRecognizer,
    candidates,
    doc_text,
    next_word,
    prev_word,
    same_line,
    tokens_starting_at,
)
from deid.detection.wordclass import (
    CaseMode,
    NameLikeness,
    is_initial,
    is_name_word,
    name_likeness,
)

# Titles that need nothing more than a plausible word after them.
_TITLES = frozenset({"dr", "drs", "doctor", "dr's", "mrs", "miss", "mister", "nurse", "dear"})
# Titles that are also clinical abbreviations (MR = mitral regurgitation, MS = mental status,
# PA = pulmonary artery, NP = nasopharyngeal): the next word must look like a name.
_AMBIGUOUS_TITLES = frozenset(
    {
        "mr",
        "ms",
        "np",
        "pa",
        "ho",
        "docter",
        "doc",
        "attending",
        "surgeon",
        "physician",
        "pcp",
        "resident",
        "intern",
        "fellow",
        "cardiologist",
        "oncologist",
        "neurologist",
        "nephrologist",
        "pulmonologist",
        "intensivist",
        "hospitalist",
        "chaplain",
        "rabbi",
        "priest",
        "caseworker",
        "therapist",
        "pharmacist",
        "nutritionist",
        "dietitian",
        "coordinator",
        "md",
    }
)
_CREDENTIALS = frozenset(
    {
        "rn",
        "rrt",
        "np",
        "md",
        "lpn",
        "cna",
        "licsw",
        "lcsw",
        "msw",
        "pa-c",
        "pac",
        "crna",
        "pharmd",
        "rph",
        "aprn",
        "fnp",
        "acnp",
        "lics",
        "crt",
        "ccrn",
        "cnm",
        "slp",
        "rd",
    }
)
_TITLE_FORMS = frozenset(
    {form for t in _TITLES | _AMBIGUOUS_TITLES for form in (t, t + ".")} | {"dr.s"}
)
# A credential standing after a space, comma or "(" (or opening the text), dots allowed
# between its letters ("R.N.").  The scan starts at that character, and the credentials
# form a trie: ``re`` then skips to the next space and rejects most spaces at once (2.5x
# faster than ``(?:(?<=[\s,(])|^)(?:pharmd|licsw|...)``, same matches).
_CREDENTIAL = word_trie_regex(_CREDENTIALS, between=r"\.?") + r"\.?(?=[\s,;)]|$)"
_CREDENTIAL_RE = re.compile(rf"[\s,(](?P<credential>{_CREDENTIAL})", re.IGNORECASE)
_CREDENTIAL_OPENING = re.compile(_CREDENTIAL, re.IGNORECASE)
# The words a credential match holds, to skip the scan on notes without any (also the
# words of a credential opening the text, which stands after no letter either).
_CREDENTIAL_WORDS = WordFilter.for_pattern(_CREDENTIAL_RE.pattern, _CREDENTIAL_RE.flags)
# "MD aware", "Dr. Smith notified": words after which the preceding word is often a name.
_NOTIFIED = frozenset({"aware", "notified", "paged", "informed"})
_JOINERS = frozenset({"and", "&", "/"})
_GLUE = frozenset({"-", "'"})


def credential_starts(text: str) -> list[int]:
    """Offsets of the credentials in ``text`` that stand after a space, comma or "(" or
    open the text."""
    starts = [0] if _CREDENTIAL_OPENING.match(text) else []
    return starts + [m.start("credential") for m in _CREDENTIAL_RE.finditer(text)]


class TitledNameRecognizer(TokenRuleRecognizer):
    """Names after a title (Dr., Mr., NP ...) or before a credential (RN, MD, RRT ...)."""

    ENTITIES = (entities.PERSON.name,)
    NAME = "TitledNameRecognizer"
    DROPS_EPONYMS = False  # "Dr. Parkinson" is a person

    def find(self, doc: Doc, mode: CaseMode) -> list[tuple[int, int, str, float]]:
        found = []
        for i in candidates(doc, _TITLE_FORMS):
            low = doc[i].lower_.rstrip(".")
            strict = low in _AMBIGUOUS_TITLES
            span = self._after_title(doc, i, mode, strict=strict)
            if span:
                # "Mr." / "Ms." with a period are titles; "NP." / "PA." usually end a sentence,
                # and "PA cath", "NP sats" are clinical: without a dictionary name the hit is
                # left to the tagger, which sees this rule as a feature.
                titled_with_period = low in ("mr", "ms") and _period_after(doc, i)
                titled = not strict or titled_with_period
                score = self._confidence(doc, span, mode, titled=titled)
                if strict and not titled_with_period and not _has_dictionary_name(doc, span, mode):
                    score = 0.45
                found.append((*span, entities.PERSON.name, score))
        for i in candidates(doc, _NOTIFIED):
            span = self._before_notified(doc, i, mode)
            if span:
                k = prev_word(doc, span[0], skip=frozenset({"."}))
                titled = k is not None and doc[k].lower_ in _TITLE_FORMS
                score = 0.8 if titled else self._confidence(doc, span, mode) - 0.1
                found.append((*span, entities.PERSON.name, score))
        for i in self._credential_tokens(doc):
            span = self._before_credential(doc, i, mode)
            if span:
                found.append(
                    (*span, entities.PERSON.name, self._confidence(doc, span, mode) - 0.05)
                )
        return found

    @staticmethod
    def _credential_tokens(doc: Doc) -> list[int]:
        """First tokens of credential chunks ("RN", "R.N.", "rrt") standing after a space or comma."""
        if _CREDENTIAL_WORDS is not None and not _CREDENTIAL_WORDS.may_match(doc_letter_runs(doc)):
            return []  # half the notes hold no credential word: skip the slow scan
        return tokens_starting_at(doc, credential_starts(doc_text(doc)))

    @staticmethod
    def _confidence(doc: Doc, span: tuple[int, int], mode: CaseMode, titled: bool = False) -> float:
        """High when some word of the name looks like a name on its own (or is capitalised
        after "Dr." in mixed-case text); otherwise below the detection threshold, left to
        the tagger, which sees this rule as a feature."""
        best = max(name_likeness(doc[k], mode) for k in range(span[0], span[1] + 1))
        if titled and mode == CaseMode.MIXED and doc[span[0]].is_title:
            return 0.85
        return 0.85 if best >= NameLikeness.MEDIUM else 0.45

    def _before_notified(self, doc: Doc, i: int, mode: CaseMode) -> tuple[int, int] | None:
        """ "W. MAROTTA AWARE", "bea tura notified": a name right before a notification word."""
        j = prev_word(doc, i, skip=frozenset())
        if j is None or not same_line(doc, j, i):
            return None
        tok = doc[j]
        if len(tok) <= 3 and not (mode == CaseMode.MIXED and tok.is_title):
            return None  # "MD AWARE", "HO AWARE", "np aware": roles, not names
        k = prev_word(doc, j, skip=frozenset({"."}))
        titled = k is not None and same_line(doc, k, j) and doc[k].lower_ in _TITLE_FORMS
        low = tok.lower_
        if (
            titled
            and is_name_word(low)
            and low not in _NOTIFIED
            and (
                low in lexicon.popular_names()  # "HO BAKER AWARE", "dr white notified"
                or (low not in lexicon.medical_terms() and low not in lexicon.english_words())
            )
        ):
            return j, j  # "HO MILLER AWARE", "dr white notified": title and verb decide
        if name_likeness(tok, mode) < NameLikeness.MEDIUM:
            return None
        first = j
        k = prev_word(doc, j, skip=frozenset({"."}))
        if (
            k is not None
            and same_line(doc, k, j)
            and (is_initial(doc[k]) or name_likeness(doc[k], mode) >= NameLikeness.MEDIUM)
        ):
            first = k
        return first, j

    def _after_title(
        self, doc: Doc, i: int, mode: CaseMode, strict: bool
    ) -> tuple[int, int] | None:
        j = next_word(doc, i, skip=frozenset({"."}))
        if j is None or not same_line(doc, i, j):
            return None
        need = NameLikeness.WEAK
        if strict and not _period_after(doc, i):
            # "MR" / "MS" / "PA" / "NP" without a period are usually clinical abbreviations, and
            # role words ("attending") precede clinical words as often as names: only a word
            # that looks like a name follows as one (confidently only if it is a dictionary
            # name, see _confidence).
            need = NameLikeness.MEDIUM
        if is_initial(doc[j]):
            k = next_word(doc, j, skip=frozenset({"."}))
            if (
                k is None
                or not same_line(doc, j, k)
                or name_likeness(doc[k], mode) < NameLikeness.WEAK
            ):
                return None
            first = j
            j = k
        elif name_likeness(doc[j], mode) < need and not (
            (not strict or _period_after(doc, i)) and _surname_like_after_title(doc[j], mode)
        ):
            return None
        else:
            first = j
        last = self._extend(doc, j, mode)
        # "Drs Joseph and Robbins"
        k = next_word(doc, last, skip=frozenset())
        if k is not None and doc[k].lower_ in _JOINERS and doc[i].lower_ in ("drs", "dr"):
            m = next_word(doc, k, skip=frozenset())
            if m is not None and same_line(doc, k, m) and name_likeness(doc[m], mode) >= need:
                last = self._extend(doc, m, mode)
        return first, last

    def _extend(self, doc: Doc, j: int, mode: CaseMode) -> int:
        """Grow a name rightwards over surname parts, hyphenated parts and initials."""
        last = j
        while last + 1 < len(doc):
            nxt = doc[last + 1]
            if nxt.text in _GLUE and not doc[last].whitespace_ and last + 2 < len(doc):
                if name_likeness(doc[last + 2], mode) >= NameLikeness.WEAK:
                    last += 2
                    continue
                break
            if not doc[last].whitespace_ and nxt.is_punct:
                break
            if (
                same_line(doc, last, last + 1)
                and not nxt.is_space
                and name_likeness(nxt, mode) >= NameLikeness.MEDIUM
            ):
                last += 1
                continue
            break
        return last

    def _before_credential(self, doc: Doc, i: int, mode: CaseMode) -> tuple[int, int] | None:
        j = prev_word(doc, i, skip=frozenset({","}))
        if j is None or not same_line(doc, j, i):
            return None
        last = j
        first = None
        best = NameLikeness.NO
        initials = 0
        k: int | None = j
        taken = 0
        while k is not None and taken < 4 and same_line(doc, k, i):
            tok = doc[k]
            if tok.text in _GLUE:
                k -= 1
                continue
            like = name_likeness(tok, mode)
            if is_initial(tok):
                first = k
                initials += 1
            elif like >= NameLikeness.WEAK:
                first = k
                best = max(best, like)
            else:
                break
            taken += 1
            k = k - 1 if k > 0 else None
        # One ordinary word before "RN" is weak evidence ("Charge RN"); an initial or a rarer word is not.
        if (
            first is None
            or best < NameLikeness.WEAK
            or (best == NameLikeness.WEAK and not initials)
        ):
            return None
        return first, last


def _surname_like_after_title(token: Token, mode: CaseMode) -> bool:
    """After "Dr." even an eponym ("Dr. Foley") or, capitalised in mixed case, an ordinary
    word ("Dr. White") is a surname."""
    if not token.is_alpha or token.is_stop or len(token) < 2:
        return False
    if token.lower_ in lexicon.medical_terms() and len(token) > 3:
        return True
    return mode == CaseMode.MIXED and token.is_title


def _has_dictionary_name(doc: Doc, span: tuple[int, int], mode: CaseMode) -> bool:
    return any(
        name_likeness(doc[k], mode) >= NameLikeness.STRONG for k in range(span[0], span[1] + 1)
    )


def _period_after(doc: Doc, i: int) -> bool:
    return doc[i].text.endswith(".") or (i + 1 < len(doc) and doc[i + 1].text == ".")


RECOGNIZERS = [TitledNameRecognizer]
