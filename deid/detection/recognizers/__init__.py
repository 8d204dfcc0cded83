"""PHI recognizers: one detector per file, Presidio ``EntityRecognizer`` subclasses.

* ``patterns/``: structured PHI found by patterns (dates, phones, IDs, addresses, ...);
* ``context/``: names and places found by context rules over spaCy tokens (titles,
  relatives, facilities, place phrases, full names);
* ``tagger.py``: the spans of the trained tagger (``deid.detection.tagger``);
* ``site_lists.py``: a site's own staff and place lists, built from the config.

Every module exports ``RECOGNIZERS``: the recognizer classes it defines, each
constructible with no arguments.  ``deid.detection.analyzer`` collects them all, so
adding a detector means adding a file to one of these groups, nothing more.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from presidio_analyzer import EntityRecognizer

RecognizerClass = Callable[[], EntityRecognizer]
"""A recognizer class: constructible with no arguments."""


def recognizer_classes() -> list[RecognizerClass]:
    """All recognizer classes declared by modules of this package and its groups.

    In the order of their modules' file names, whatever their group (recognizers run in
    this order, and the first of two that find the same span alike names it).
    """
    classes: list[RecognizerClass] = []
    for _, module_name in sorted(_recognizer_modules()):
        module = importlib.import_module(module_name)
        classes.extend(getattr(module, "RECOGNIZERS", ()))
    return classes


def _recognizer_modules() -> list[tuple[str, str]]:
    """``(file name, module name)`` of every public module here and in the groups."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        name = f"{__name__}.{info.name}"
        if not info.ispkg:
            found.append((info.name, name))
            continue
        group = importlib.import_module(name)
        for sub in pkgutil.iter_modules(group.__path__):
            if not sub.name.startswith("_"):
                found.append((sub.name, f"{name}.{sub.name}"))
    return found
