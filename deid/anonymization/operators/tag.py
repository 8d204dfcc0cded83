"""``tag``: replace a value by its entity tag, e.g. ``[NAME]``, ``[DATE]``."""

from __future__ import annotations

from typing import Any

from presidio_anonymizer.operators import Operator, OperatorType

from deid.anonymization.operators._params import require_entity
from deid.entities import entity


class TagOperator(Operator):
    """Write ``[TAG]`` with the entity's tag from ``deid.entities``."""

    def operate(self, text: str, params: dict[str, Any] | None = None) -> str:
        assert params is not None
        return f"[{entity(params['entity_type']).tag}]"

    def validate(self, params: dict[str, Any] | None = None) -> None:
        require_entity(params)

    def operator_name(self) -> str:
        return "tag"

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize
