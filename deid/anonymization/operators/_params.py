"""Shared checks for operator parameters (messages name the parameter, never a value)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from presidio_anonymizer.entities import InvalidParamError

from deid.anonymization.surrogates import AvoidSet, NoteContext, SurrogateSource
from deid.anonymization.surrogates.source import NO_AVOID, NO_CONTEXT
from deid.entities import ENTITIES


def require(params: Mapping[str, Any] | None, name: str, kind: type | tuple[type, ...]) -> Any:
    """``params[name]``, checked to be present and of ``kind``."""
    if not params or name not in params:
        raise InvalidParamError(f"missing operator parameter {name!r}")
    value = params[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise InvalidParamError(f"operator parameter {name!r} has the wrong type")
    return value


def require_entity(params: Mapping[str, Any] | None) -> str:
    """The ``entity_type`` Presidio adds to every call, checked against the taxonomy."""
    entity_type = require(params, "entity_type", str)
    if entity_type not in ENTITIES:
        raise InvalidParamError(f"unknown entity type {entity_type!r}")
    return entity_type


def require_patient_context(params: Mapping[str, Any] | None) -> None:
    """Parameters every keyed, per-patient operator needs: surrogate source, patient, entity."""
    if (  # checked once per span: the usual, valid case in one pass
        params
        and isinstance(params.get("source"), SurrogateSource)
        and isinstance(params.get("patient_id"), str)
        and isinstance(params.get("avoid", NO_AVOID), AvoidSet)
        and isinstance(params.get("context", NO_CONTEXT), NoteContext)
    ):
        require_entity(params)
        return
    require(params, "source", SurrogateSource)
    require(params, "patient_id", str)
    if params and "avoid" in params:
        require(params, "avoid", AvoidSet)
    if params and "context" in params:
        require(params, "context", NoteContext)
    require_entity(params)
