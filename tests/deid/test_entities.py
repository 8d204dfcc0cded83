"""Each entity type is defined once and owns what is done to it."""

from __future__ import annotations

import ast

import pytest

from deid.anonymization.policy import operator_name_for
from deid.entities import DATE, ENTITIES, ENTITY_NAMES, SafeHarbor, entity
from tests.paths import REPO


def test_every_entity_owns_its_operator_and_the_means_to_apply_it() -> None:
    for e in ENTITIES.values():
        assert e.operator in ("surrogate", "date_shift", "generalize"), e.name
        assert (e.generalization is not None) == (e.operator == "generalize"), e.name
        assert operator_name_for(e.name, "surrogate", "safe_harbor") == e.operator
    assert {e.name for e in ENTITIES.values() if e.operator == "generalize"} == {"AGE", "ZIP_CODE"}
    assert DATE.operator == "date_shift"


def test_strict_tags_what_safe_harbor_calls_dates_and_ages() -> None:
    tagged = {n for n in ENTITY_NAMES if operator_name_for(n, "surrogate", "strict") == "tag"}
    assert tagged == {e.name for e in ENTITIES.values() if e.safe_harbor is SafeHarbor.DATES}
    assert tagged == {"DATE", "AGE"}


def test_labels_and_tags_are_unique_and_lookups_name_the_known_ones() -> None:
    assert len({e.tag for e in ENTITIES.values()}) == len(ENTITIES)
    assert entity("PERSON").tag == "NAME"
    with pytest.raises(KeyError, match="known: PERSON, HOSPITAL"):
        entity("PATIENT")


def test_a_type_without_a_safe_harbor_rendering_says_so() -> None:
    with pytest.raises(ValueError, match="PERSON has no Safe Harbor generalization"):
        entity("PERSON").generalize("John")


def test_no_module_keeps_a_table_keyed_by_entity_label() -> None:
    """Behaviour per entity lives on the entity, not in dicts such as {"PERSON": ...}."""
    offenders = []
    for path in sorted((REPO / "deid").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict) and any(
                isinstance(k, ast.Constant) and k.value in ENTITIES for k in node.keys
            ):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
