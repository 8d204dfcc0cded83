"""deidflow's presidio-anonymizer operators, one per file, and the registry that names them.

``surrogate``, ``date_shift``, ``generalize``, ``tag`` and ``mask`` are custom
``Operator`` classes: Presidio has no keyed consistent surrogates or date shifting,
and its own ``mask`` masks a fixed count of characters rather than the layout-keeping
masking used here (ours replaces it in engines built by ``build_engine``).
"""

from __future__ import annotations

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.operators import Operator

from deid.anonymization.operators.date_shift import DateShiftOperator
from deid.anonymization.operators.generalize import GeneralizeOperator
from deid.anonymization.operators.mask import MaskOperator
from deid.anonymization.operators.surrogate import SurrogateOperator
from deid.anonymization.operators.tag import TagOperator

OPERATOR_CLASSES: tuple[type[Operator], ...] = (
    SurrogateOperator,
    DateShiftOperator,
    GeneralizeOperator,
    TagOperator,
    MaskOperator,
)
OPERATORS: dict[str, type[Operator]] = {cls().operator_name(): cls for cls in OPERATOR_CLASSES}
"""Operator classes by name."""


def build_engine() -> AnonymizerEngine:
    """A Presidio ``AnonymizerEngine`` with every deidflow operator registered."""
    engine = AnonymizerEngine()
    for cls in OPERATOR_CLASSES:
        engine.add_anonymizer(cls)
    return engine


__all__ = [
    "OPERATORS",
    "OPERATOR_CLASSES",
    "DateShiftOperator",
    "GeneralizeOperator",
    "MaskOperator",
    "SurrogateOperator",
    "TagOperator",
    "build_engine",
]
