"""``generalize``: the Safe Harbor renderings -- ages over 89 as ``90+``, ZIP codes as ZIP3."""

from __future__ import annotations

from typing import Any

from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.operators import Operator, OperatorType

from deid.anonymization.operators._params import require_entity
from deid.entities import ENTITIES, entity

GENERALIZED = tuple(sorted(e.name for e in ENTITIES.values() if e.generalization is not None))
"""The entity types Safe Harbor generalizes (AGE, ZIP_CODE)."""


class GeneralizeOperator(Operator):
    """Coarsen an AGE or ZIP_CODE value as Safe Harbor allows (see ``deid.anonymization.policy``)."""

    def operate(self, text: str, params: dict[str, Any] | None = None) -> str:
        assert params is not None
        return entity(params["entity_type"]).generalize(text)

    def validate(self, params: dict[str, Any] | None = None) -> None:
        if require_entity(params) not in GENERALIZED:
            raise InvalidParamError(f"generalize applies to {list(GENERALIZED)} only")

    def operator_name(self) -> str:
        return "generalize"

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize
