"""deidflow's presidio-anonymizer operators, through the operator API and a Presidio engine."""

from __future__ import annotations

import pytest
from presidio_anonymizer.entities import InvalidParamError, OperatorConfig, RecognizerResult
from presidio_anonymizer.operators import OperatorType

from deid.anonymization.operators import (
    OPERATORS,
    DateShiftOperator,
    GeneralizeOperator,
    MaskOperator,
    SurrogateOperator,
    TagOperator,
    build_engine,
)
from deid.anonymization.surrogates import SurrogateSource
from deid.anonymization.surrogates.source import AvoidSet


def test_registry_names_every_operator() -> None:
    assert set(OPERATORS) == {"surrogate", "date_shift", "generalize", "tag", "mask"}
    for name, cls in OPERATORS.items():
        op = cls()
        assert op.operator_name() == name
        assert op.operator_type() is OperatorType.Anonymize


def _params(source: SurrogateSource, entity_type: str, **extra: object) -> dict[str, object]:
    return {"source": source, "patient_id": "p1", "entity_type": entity_type, **extra}


def test_surrogate_operator(source: SurrogateSource) -> None:
    op = SurrogateOperator()
    params = _params(source, "PERSON")
    op.validate(params)
    new = op.operate("HEALEY", params)
    assert new.isupper() and new != "HEALEY"
    assert op.operate("HEALEY", params) == new


@pytest.mark.parametrize(
    "params",
    [{}, {"patient_id": "p1", "entity_type": "PERSON"}, {"source": "x", "patient_id": "p1",
     "entity_type": "PERSON"}],
)  # fmt: skip
def test_surrogate_operator_validates_params(params: dict[str, object]) -> None:
    with pytest.raises(InvalidParamError):
        SurrogateOperator().validate(params)


def test_operators_reject_unknown_entity_types(source: SurrogateSource) -> None:
    for op, params in (
        (SurrogateOperator(), _params(source, "NOT_A_TYPE")),
        (TagOperator(), {"entity_type": "NOT_A_TYPE"}),
        (MaskOperator(), {"entity_type": "NOT_A_TYPE"}),
        (GeneralizeOperator(), {"entity_type": "PERSON"}),
    ):
        with pytest.raises(InvalidParamError):
            op.validate(params)


def test_surrogate_operator_checks_the_avoid_set_type(source: SurrogateSource) -> None:
    with pytest.raises(InvalidParamError, match="avoid"):
        SurrogateOperator().validate(_params(source, "PERSON", avoid={"smith"}))
    SurrogateOperator().validate(_params(source, "PERSON", avoid=AvoidSet(["smith"])))


def test_date_shift_operator(source: SurrogateSource) -> None:
    op = DateShiftOperator()
    params = _params(source, "DATE", offset_days=-10)
    op.validate(params)
    assert op.operate("7/22/2019", params) == "7/12/2019"
    assert op.operate("July 22", params) == "July 12"


@pytest.mark.parametrize("offset", [0, None, "10", True])
def test_date_shift_operator_needs_a_non_zero_int_offset(
    offset: object, source: SurrogateSource
) -> None:
    params = _params(source, "DATE")
    if offset is not None:
        params["offset_days"] = offset
    with pytest.raises(InvalidParamError, match="offset_days"):
        DateShiftOperator().validate(params)


def test_date_shift_operator_avoids_other_dates_of_the_note(source: SurrogateSource) -> None:
    # 8/12 shifted by -2 days is 8/10, a real date of the same note: it gets a surrogate.
    params = _params(source, "DATE", offset_days=-2, avoid=AvoidSet(["8/10", "8/12"]))
    new = DateShiftOperator().operate("8/12", params)
    assert new not in ("8/10", "8/12")


def test_generalize_operator() -> None:
    op = GeneralizeOperator()
    for entity_type, value, expected in (("AGE", "92", "90+"), ("ZIP_CODE", "03601", "00000")):
        op.validate({"entity_type": entity_type})
        assert op.operate(value, {"entity_type": entity_type}) == expected


def test_tag_operator() -> None:
    op = TagOperator()
    cases = {"PERSON": "[NAME]", "DATE": "[DATE]", "ZIP_CODE": "[ZIP]", "US_SSN": "[SSN]"}
    for entity_type, tag in cases.items():
        op.validate({"entity_type": entity_type})
        assert op.operate("anything", {"entity_type": entity_type}) == tag
    with pytest.raises(InvalidParamError):
        op.validate({})


def test_mask_operator_keeps_layout() -> None:
    op = MaskOperator()
    op.validate({"entity_type": "PHONE_NUMBER"})
    assert op.operate("(617) 555-0134", {"entity_type": "PHONE_NUMBER"}) == "(***) ***-****"
    assert op.operate("J. Smith", {"entity_type": "PERSON", "masking_char": "#"}) == "#. #####"
    for bad in ("", "ab", "x", 1):
        with pytest.raises(InvalidParamError):
            op.validate({"entity_type": "PERSON", "masking_char": bad})


def test_operators_run_inside_a_presidio_engine(source: SurrogateSource) -> None:
    text = "Dr. HEALEY saw her on 7/22, phone 617-555-0134."
    results = [
        RecognizerResult("PERSON", 4, 10, 0.9),
        RecognizerResult("DATE", 22, 26, 0.9),
        RecognizerResult("PHONE_NUMBER", 34, 46, 0.9),
    ]
    out = build_engine().anonymize(
        text,
        results,
        {
            "PERSON": OperatorConfig("surrogate", {"source": source, "patient_id": "p1"}),
            "DATE": OperatorConfig(
                "date_shift", {"source": source, "patient_id": "p1", "offset_days": -31}
            ),
            "PHONE_NUMBER": OperatorConfig("mask", {}),
        },
    )
    assert out.text.startswith("Dr. ") and "HEALEY" not in out.text
    assert " on 6/21, phone ***-***-****." in out.text
    assert sorted(item.operator for item in out.items) == ["date_shift", "mask", "surrogate"]
