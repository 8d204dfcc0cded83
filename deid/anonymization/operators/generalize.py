"""``generalize``: the Safe Harbor renderings -- ages over 89 as ``90+``, ZIP codes as ZIP3."""

from __future__ import annotations

from typing import Any

from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.operators import Operator, OperatorType

from deid.anonymization.operators._params import require_entity
from deid.anonymization.policy import generalize_age, generalize_zip

_RULES = {"AGE": generalize_age, "ZIP_CODE": generalize_zip}


class GeneralizeOperator(Operator):
    """Coarsen an AGE or ZIP_CODE value as Safe Harbor allows (see ``deid.anonymization.policy``)."""

    def operate(self, text: str, params: dict[str, Any] | None = None) -> str:
        assert params is not None
        return _RULES[params["entity_type"]](text)

    def validate(self, params: dict[str, Any] | None = None) -> None:
        if require_entity(params) not in _RULES:
            raise InvalidParamError(f"generalize applies to {sorted(_RULES)} only")

    def operator_name(self) -> str:
        return "generalize"

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize
