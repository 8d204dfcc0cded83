"""Person-name surrogates: token by token, keeping roles, case style, titles and initials.

"Dr. John SMITH's" -> "Dr. Paul MORROW's": titles and punctuation stay, each name
token is replaced on its own, keyed by its normalized form and its role (first or
last name), so "John Smith" and a later "Smith" or "SMITH" agree.  A lone token is a
last name unless it is a known first name (Faker's list) and not a known last name,
or unless it follows a title ("Dr. Healey").
"""

from __future__ import annotations

import re
import string

from faker import Faker
from faker.providers.person.en_US import Provider as _PersonProvider

from deid.anonymization.surrogates.casing import match_case, word_set
from deid.anonymization.surrogates.source import Draw

# A word: letters, optionally joined by apostrophes (O'Brien, Smith's).  Hyphens split words.
WORD_RE = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")

TITLES = word_set(
    "mr mrs ms miss mx dr doctor prof professor rev sir madam dame "
    "jr sr ii iii iv md do rn np pa phd dds dmd lpn cna aprn crna pac msw lcsw"
)
_FIRST_NAMES = frozenset(n.casefold() for n in _PersonProvider.first_names)
_LAST_NAMES = frozenset(n.casefold() for n in _PersonProvider.last_names)
_POSSESSIVE = ("'s", "\u2019s")


def normalize_token(token: str) -> str:
    """Case-folded letters of a name token, without possessive ``'s`` or punctuation."""
    low = token.casefold()
    for suffix in _POSSESSIVE:
        if low.endswith(suffix) and len(low) > len(suffix):
            low = low[: -len(suffix)]
            break
    return "".join(c for c in low if c.isalpha())


def normalize_name(text: str) -> str:
    """Name tokens of ``text`` without titles, joined by spaces ("Mr. SMITH" -> "smith")."""
    tokens = (normalize_token(m.group()) for m in WORD_RE.finditer(text))
    return " ".join(t for t in tokens if t and t not in TITLES)


def person_surrogate(text: str, draw: Draw) -> str:
    """Replace each name token of ``text`` by a Faker name of the same role and case style."""
    words = list(WORD_RE.finditer(text))
    name_idx = [i for i, m in enumerate(words) if _is_name_word(m, text)]
    roles = _roles(words, name_idx, text)
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
    if not any(c.isdigit() for c in gap):
        return gap
    from deid.anonymization.surrogates.numbers import shaped_surrogate

    return shaped_surrogate(gap, draw, "PERSON/digits")


def initial_surrogate(letter: str, draw: Draw) -> str:
    """Another letter, same case, consistent per patient."""
    new = draw("PERSON/initial", letter.casefold(), _random_letter)
    return new.upper() if letter.isupper() else new


def _is_name_word(m: re.Match[str], text: str) -> bool:
    norm = normalize_token(m.group())
    if not norm:
        return False
    if norm in TITLES:
        # "Dr", "MD" are titles; a lone "Do" or "Pa" in a span of one word is a name.
        return len(text.strip(" .,")) == len(m.group())
    return True


def _roles(words: list[re.Match[str]], name_idx: list[int], text: str) -> dict[int, str]:
    """Role of each name word: 'initial', 'first' or 'last'."""
    roles: dict[int, str] = {}
    full = [i for i in name_idx if len(normalize_token(words[i].group())) > 1]
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
        after_title = any(
            normalize_token(words[j].group()) in TITLES for j in range(i) if j not in names
        )
        roles[i] = "last" if after_title else _lone_role(normalize_token(words[i].group()))
        return roles
    for i in full[:-1]:
        roles[i] = "first"
    roles[full[-1]] = "last"
    return roles


def _lone_role(norm: str) -> str:
    return "first" if norm in _FIRST_NAMES and norm not in _LAST_NAMES else "last"


def _replace_word(word: str, role: str, draw: Draw) -> str:
    suffix = ""
    for poss in _POSSESSIVE:
        if word.casefold().endswith(poss) and len(word) > len(poss):
            word, suffix = word[: -len(poss)], word[-len(poss) :]
            break
    norm = normalize_token(word)
    if role == "initial":
        return initial_surrogate(word, draw) + suffix
    make = _first_name if role == "first" else _last_name
    return match_case(draw(f"PERSON/{role}", norm, make), word) + suffix


def _first_name(fake: Faker) -> str:
    return fake.first_name()


def _last_name(fake: Faker) -> str:
    return fake.last_name()


def _random_letter(fake: Faker) -> str:
    return fake.random_element(string.ascii_lowercase)
