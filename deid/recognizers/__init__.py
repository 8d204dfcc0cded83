"""PHI recognizers: one detector per file, Presidio ``EntityRecognizer`` subclasses.

Every module in this package exports ``RECOGNIZERS``: the recognizer classes it
defines, each constructible with no arguments.  ``deid.registry`` collects them all,
so adding a detector means adding a file here, nothing more.
"""

from __future__ import annotations

import importlib
import pkgutil

from presidio_analyzer import EntityRecognizer


def recognizer_classes() -> list[type[EntityRecognizer]]:
    """All recognizer classes declared by modules of this package, in module order."""
    classes: list[type[EntityRecognizer]] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        classes.extend(getattr(module, "RECOGNIZERS", ()))
    return classes
