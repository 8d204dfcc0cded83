"""Smoke test of benchmarks/plain_sight.py on the small PhysioNet-format fixture corpus,
and of its lexicon checks on hand-made strings.  No timing asserts."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType

import pytest

from tests.paths import REPO

FIXTURE = REPO / "tests" / "fixtures" / "corpora" / "physionet"


def _load_script() -> ModuleType:
    path = REPO / "benchmarks" / "plain_sight.py"
    spec = importlib.util.spec_from_file_location("plain_sight", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("plain_sight", module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


bench = _load_script()


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench") / "plain_sight.json"
    assert bench.main([str(FIXTURE), "--label", "smoke", "--rounds", "0", "--json", str(out)]) == 0
    return json.loads(out.read_text())["smoke"], out.read_text()


def test_result_has_every_measure(result: tuple[dict, str]) -> None:
    figures, _ = result
    assert figures["notes"] > 0
    assert set(figures["auc"]) == {"names", "places", "hospitals"}
    for key in ("sex_agreement", "real_places", "invented_tokens"):
        assert key in figures
    assert figures["throughput"] is None


def test_result_holds_no_span_text(result: tuple[dict, str]) -> None:
    from deid.evaluation.corpora import read_corpus

    _, raw = result
    for note in read_corpus(FIXTURE):
        for span in note.gold:
            value = note.text[span.start : span.end]
            if len(value) >= 4:
                assert value not in raw


def test_lexicon_checks() -> None:
    assert not bench.invented("Frederick, MD")
    assert not bench.invented("St. Luke's Hospital")
    assert bench.invented("Craigtown Fryeshire")
    assert bench.is_real_place("Bethesda, MD") and bench.is_real_place("Howard County")
    assert not bench.is_real_place("Meltonbury")
    assert bench.first_name_token("Mary Smith") == "Mary"
    assert bench.first_name_token("Smith, Mary") is None
    assert bench.clear_sex("Mary") == "F" and bench.clear_sex("Pat") is None
