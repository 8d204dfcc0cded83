"""Person-name surrogates: real names of the right sex, token by token, structure kept.

"Dr. John SMITH's" -> "Dr. Paul MORROW's": titles, credentials, particles ("van",
"de") and punctuation stay; each name token is replaced on its own by a real name drawn
from the Census tables (``deid.lexicons``) as often as people hold it, keyed by its
normalized form and its role, so "John Smith" and a later "Smith" or "SMITH" agree.

* Role: initials stay initials (another letter); "Last, First" keeps its order; in a
  run of words the last is the surname and the others are given names, unless the
  order is plainly reversed ("SMITH JOHN"); a lone word is a given name when far more
  people hold it as one than as a surname ("Mary"), else a surname -- after a title
  ("Dr. Mary") always a surname.
* Sex: a given name of clear sex (Census 2020, >= 90 % one sex) is replaced by one of
  the same sex; otherwise by the sex the note's words and pronouns near the name
  suggest (``NoteContext``); otherwise by any name, weighted by how many hold it.
* Shape: case style (HEALEY, healey, Healey), "O'" and "Mc" prefixes, hyphenated
  parts and possessives are kept.
"""

from __future__ import annotations

import re
import string
from functools import cache
from random import Random

from deid import lexicons
from deid.anonymization.surrogates._lookup import given, surname_people
from deid.anonymization.surrogates.casing import match_case
from deid.anonymization.surrogates.source import Draw
from deid.anonymization.surrogates.vocabulary import IRISH_O_SURNAMES, PARTICLES, TITLES
from deid.lexicons._tables import WeightedDraw

__all__ = [
    "TITLES",
    "WORD_RE",
    "first_name_surrogate",
    "initial_surrogate",
    "name_role",
    "normalize_name",
    "normalize_token",
    "person_surrogate",
    "surname_surrogate",
]

# A word: letters, optionally joined by apostrophes (O'Brien, Smith's).  Hyphens split words.
WORD_RE = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")

_POSSESSIVE = ("'s", "\u2019s")
_FIRST_OVER_SURNAME = 1.0
"""A lone word is a given name when at least this many times more people hold it as one."""


def normalize_token(token: str) -> str:
    """Case-folded letters of a name token, without possessive ``'s`` or punctuation."""
    low = token.casefold()
    for suffix in _POSSESSIVE:
        if low.endswith(suffix) and len(low) > len(suffix):
            low = low[: -len(suffix)]
            break
    if low.isalpha():  # most tokens: nothing to drop
        return low
    return "".join(c for c in low if c.isalpha())


def normalize_name(text: str) -> str:
    """Name tokens of ``text`` without titles, joined by spaces ("Mr. SMITH" -> "smith")."""
    tokens = (normalize_token(m.group()) for m in WORD_RE.finditer(text))
    return " ".join(t for t in tokens if t and t not in TITLES)


def name_role(word: str) -> str:
    """'first' when more people hold ``word`` as a given name than as a surname, else
    'last' (the role of a lone name word with no title before it)."""
    first = given(word)
    if first is None:
        return "last"
    return "first" if first[0] >= _FIRST_OVER_SURNAME * surname_people(word) else "last"


def person_surrogate(text: str, draw: Draw) -> str:
    """Replace each name token of ``text`` by a real name of the same role, sex and shape."""
    words = list(WORD_RE.finditer(text))
    norms = [normalize_token(m.group()) for m in words]
    name_idx = [i for i, m in enumerate(words) if _is_name_word(m, norms[i], text)]
    roles = _roles(words, norms, name_idx, text)
    out: list[str] = []
    pos = 0
    for i, m in enumerate(words):
        out.append(_scrub_digits(text[pos : m.start()], draw))
        pos = m.end()
        word = m.group()
        if i not in roles:
            out.append(word)
            continue
        out.append(_replace_word(word, roles[i], draw))
    out.append(_scrub_digits(text[pos:], draw))
    return "".join(out)


def _scrub_digits(gap: str, draw: Draw) -> str:
    """Digits caught inside a name span ("KRISSY---301 944-5032") never survive as they were."""
    if not gap or gap.isspace() or not any(c.isdigit() for c in gap):
        return gap
    from deid.anonymization.surrogates.numbers import shaped_surrogate

    return shaped_surrogate(gap, draw, "PERSON/digits")


def initial_surrogate(letter: str, draw: Draw) -> str:
    """Another letter, same case, consistent per patient."""
    new = draw.pick("PERSON/initial", letter.casefold(), _random_letter)
    return new.upper() if letter.isupper() else new


def first_name_surrogate(word: str, draw: Draw, hint: str | None = None) -> str:
    """A real given name for ``word``: of its sex when it has a clear one, else of
    ``hint``'s ("F"/"M"; default: what the note suggests), else of either; in ``word``'s
    case style."""
    sex = _clear_sex(word)
    if sex is None and hint is None:
        hint = draw.context.sex_of(word)
    if sex is None and hint in ("F", "M"):
        sex = hint
    norm = normalize_token(word)
    new = draw.pick(f"PERSON/first/{sex or 'X'}", norm, _FIRST_MAKERS[sex])
    return _render(new, word)


def _clear_sex(word: str) -> str | None:
    record = given(word)
    return record[1] if record is not None else None


def surname_surrogate(word: str, draw: Draw) -> str:
    """A real surname for ``word``, in its shape ("O'Brien" -> "O'Neill", "McKay" -> "McCoy")."""
    norm = normalize_token(word)
    prefix = _prefix(word)
    make = _o_surname if prefix == "o'" else _mc_surname if prefix == "mc" else _surname
    return _render(draw.pick(f"PERSON/last/{prefix}", norm, make), word)


def _is_name_word(m: re.Match[str], norm: str, text: str) -> bool:
    if not norm:
        return False
    if norm in TITLES:
        # "Dr", "MD" are titles; a lone "Do" or "Pa" in a span of one word is a name.
        return len(text.strip(" .,")) == len(m.group())
    # "van", "de" inside a longer name are kept as written.
    return not (m.group() in PARTICLES and m.group().islower() and len(text.split()) > 1)


def _roles(
    words: list[re.Match[str]], norms: list[str], name_idx: list[int], text: str
) -> dict[int, str]:
    """Role of each name word ("initial", "first" or "last"); ``norms`` are the words'
    ``normalize_token`` forms."""
    roles: dict[int, str] = {}
    full = [i for i in name_idx if len(norms[i]) > 1]
    full_set = set(full)
    for i in name_idx:
        if i not in full_set:
            roles[i] = "initial"
    if not full:
        return roles
    comma = text.find(",", words[full[0]].end())
    if comma != -1 and len(full) > 1 and comma < words[full[-1]].start():
        # "Smith, John A." : surname(s) before the comma
        for i in full:
            roles[i] = "last" if words[i].start() < comma else "first"
        return roles
    if len(full) == 1:
        i = full[0]
        names = set(name_idx)
        after_title = any(norms[j] in TITLES for j in range(i) if j not in names)
        roles[i] = "last" if after_title else name_role(words[i].group())
        return roles
    first_word, last_word = words[full[0]].group(), words[full[-1]].group()
    reversed_order = (  # no given name first (so its role is 'last'), a given name last
        len(full) == 2
        and given(first_word) is None
        and surname_people(last_word) == 0
        and given(last_word) is not None
    )
    for i in full:
        roles[i] = "first"
    roles[full[0] if reversed_order else full[-1]] = "last"
    # Hyphenated surnames ("Smith-Jones"): every part of the last word's run is a surname.
    for a, b in zip(full, full[1:], strict=False):
        gap = text[words[a].end() : words[b].start()]
        if gap == "-" and roles.get(b) == "last":
            roles[a] = "last"
    return roles


def _replace_word(word: str, role: str, draw: Draw) -> str:
    suffix = ""
    for poss in _POSSESSIVE:
        if word.casefold().endswith(poss) and len(word) > len(poss):
            word, suffix = word[: -len(poss)], word[-len(poss) :]
            break
    if role == "initial":
        return initial_surrogate(word, draw) + suffix
    if role == "first":
        return first_name_surrogate(word, draw) + suffix
    return surname_surrogate(word, draw) + suffix


def _prefix(word: str) -> str:
    low = word.casefold().replace("\u2019", "'")
    if low.startswith("o'") and len(low) > 3:
        return "o'"
    if low.startswith("mc") and len(word) > 3 and word[2:3].isupper() and word[:1].isupper():
        return "mc"
    return ""


def _render(name: str, original: str) -> str:
    """A lower-case lexicon name in the case style and prefix shape of ``original``."""
    prefix = _prefix(original)
    if prefix == "o'":
        body = name[1:]
        styled = "O'" + body.capitalize()
    elif prefix == "mc":
        styled = "Mc" + name[2:].capitalize()
    else:
        styled = name.capitalize()
    return match_case(styled, original)


# ---------------------------------------------------------------- lexicon draws


def _first_any(rng: Random) -> str:
    return lexicons.sample_first_name(rng, None)


def _first_female(rng: Random) -> str:
    return lexicons.sample_first_name(rng, "F")


def _first_male(rng: Random) -> str:
    return lexicons.sample_first_name(rng, "M")


_FIRST_MAKERS = {None: _first_any, "F": _first_female, "M": _first_male}


def _surname(rng: Random) -> str:
    return lexicons.sample_surname(rng)


@cache
def _prefixed_surnames(prefix: str) -> tuple[list[str], WeightedDraw]:
    """Census surnames written "O'X" or "McX"."""
    table = lexicons.surnames()
    names = []
    for key in table:
        o_name = key in IRISH_O_SURNAMES
        mc_name = key.startswith("mc") and len(key) > 4
        if (prefix == "o'" and o_name) or (prefix == "mc" and mc_name):
            names.append(key)
    names.sort()
    return names, WeightedDraw(range(len(names)), [table[n].people for n in names])


def _o_surname(rng: Random) -> str:
    names, weights = _prefixed_surnames("o'")
    return names[weights.draw(rng)]


def _mc_surname(rng: Random) -> str:
    names, weights = _prefixed_surnames("mc")
    return names[weights.draw(rng)]


def _random_letter(rng: Random) -> str:
    return rng.choice(string.ascii_lowercase)
