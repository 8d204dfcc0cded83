"""``date_shift``: move a date by the patient's offset, keeping its written format."""

from __future__ import annotations

from typing import Any

from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.operators import Operator, OperatorType

from deid.anonymization.operators._params import require, require_patient_context
from deid.anonymization.surrogates import SurrogateSource
from deid.anonymization.surrogates.dates import shift_date_text
from deid.anonymization.surrogates.source import NO_AVOID


class DateShiftOperator(Operator):
    """Shift a DATE span by ``offset_days`` (non-zero); unshiftable ones get a surrogate date.

    Params: ``offset_days`` (int, not 0), ``source`` (a ``SurrogateSource``, for
    surrogate dates), ``patient_id`` (str), optionally ``avoid`` (an ``AvoidSet`` of
    the note's real values), and the ``entity_type`` Presidio adds.
    """

    def operate(self, text: str, params: dict[str, Any] | None = None) -> str:
        assert params is not None
        source: SurrogateSource = params["source"]
        draw = source.for_patient(params["patient_id"], params.get("avoid", NO_AVOID))
        avoid = params.get("avoid", NO_AVOID)
        return shift_date_text(text, params["offset_days"], draw, avoid)

    def validate(self, params: dict[str, Any] | None = None) -> None:
        if require(params, "offset_days", int) == 0:
            raise InvalidParamError("operator parameter 'offset_days' must not be 0")
        require_patient_context(params)

    def operator_name(self) -> str:
        return "date_shift"

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize
