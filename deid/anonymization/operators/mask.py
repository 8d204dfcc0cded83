"""``mask``: every letter and digit becomes the mask character; layout is kept."""

from __future__ import annotations

from typing import Any

from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.operators import Operator, OperatorType

from deid.anonymization.operators._params import require_entity

DEFAULT_MASK_CHAR = "*"


class MaskOperator(Operator):
    """``(617) 555-0134`` -> ``(***) ***-****``.  Param ``masking_char``: one character."""

    def operate(self, text: str, params: dict[str, Any] | None = None) -> str:
        char = (params or {}).get("masking_char", DEFAULT_MASK_CHAR)
        return "".join(char if c.isalnum() else c for c in text)

    def validate(self, params: dict[str, Any] | None = None) -> None:
        require_entity(params)
        char = (params or {}).get("masking_char", DEFAULT_MASK_CHAR)
        if not isinstance(char, str) or len(char) != 1 or char.isalnum():
            raise InvalidParamError("masking_char must be one non-alphanumeric character")

    def operator_name(self) -> str:
        return "mask"

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize
