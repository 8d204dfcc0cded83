"""``surrogate``: a realistic, keyed, consistent fake value of the same entity type and shape."""

from __future__ import annotations

from typing import Any

from presidio_anonymizer.operators import Operator, OperatorType

from deid.anonymization.operators._params import require_patient_context
from deid.anonymization.surrogates import SurrogateSource
from deid.anonymization.surrogates.source import NO_AVOID, NO_CONTEXT
from deid.entities import entity


class SurrogateOperator(Operator):
    """Replace a value by its entity's surrogate (``EntityType.surrogate``), drawn from
    Faker seeded with HMAC(key, patient, type, value).

    Params: ``source`` (a ``SurrogateSource``), ``patient_id`` (str), optionally
    ``avoid`` (an ``AvoidSet`` of the note's real values no surrogate may contain),
    ``context`` (a ``NoteContext``: the sex the note suggests for each name), and
    the ``entity_type`` Presidio adds.
    """

    def operate(self, text: str, params: dict[str, Any] | None = None) -> str:
        assert params is not None
        source: SurrogateSource = params["source"]
        draw = source.for_patient(
            params["patient_id"], params.get("avoid", NO_AVOID), params.get("context", NO_CONTEXT)
        )
        return entity(params["entity_type"]).surrogate(text, draw)

    def validate(self, params: dict[str, Any] | None = None) -> None:
        require_patient_context(params)

    def operator_name(self) -> str:
        return "surrogate"

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize
