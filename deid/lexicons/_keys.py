"""How text becomes a lexicon key: one normaliser per kind, used by the build and the loaders.

Census names are published as letters only ("OCONNOR", "VANDYKE"), so a name key drops
everything that is not a letter. Place names keep their words; the spellings that vary in
notes and gazetteers ("St." / "St" / "Saint", "Mt." / "Mount", "Ft." / "Fort") share one key.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_LETTER = re.compile(r"[^a-z]+")
_PLACE_JUNK = re.compile(r"[^a-z0-9' -]+")
_SPACES = re.compile(r"[\s-]+")
# Abbreviations that gazetteers and notes spell both ways (any word but the last of a longer name).
_PLACE_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort"}


def fold(text: str) -> str:
    """Lower-case ASCII form of ``text``: accents dropped ("Zürich" -> "zurich")."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    return decomposed.encode("ascii", "ignore").decode("ascii").lower()


def name_key(text: str) -> str:
    """Key of a person-name word: folded letters only ("O'Connor" -> "oconnor")."""
    return _NOT_LETTER.sub("", fold(text))


def place_key(text: str) -> str:
    """Key of a place name: folded words, one space apart, abbreviations spelled out.

    ``"St. Louis"``, ``"ST LOUIS"`` and ``"Saint Louis"`` all give ``"saint louis"``,
    ``"Port St. Lucie"`` gives ``"port saint lucie"``, ``"Winston-Salem"`` gives
    ``"winston salem"``.
    """
    words = _SPACES.sub(" ", _PLACE_JUNK.sub("", fold(text).replace(".", " "))).split()
    last = len(words) - 1
    # Not the last word of a longer name: "Main St" ends with a street, not a saint.
    return " ".join(
        _PLACE_ABBREVIATIONS.get(w, w) if i < last or last == 0 else w for i, w in enumerate(words)
    )
