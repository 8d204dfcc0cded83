"""Smoke test of benchmarks/cross_validate.py on the tiny PhysioNet fixture: 2 folds.

Checks that both variants are reported with the same figures, that leave-names-out
really replaced the test notes' names (no fixture name is unseen-by-construction left
in), and that the JSON carries no note text.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType

import pytest

from tests.paths import PHYSIONET_FIXTURE as CORPUS
from tests.paths import REPO


def _load_script() -> ModuleType:
    path = REPO / "benchmarks" / "cross_validate.py"
    spec = importlib.util.spec_from_file_location("cross_validate", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("cv") / "cv.json"
    args = [str(CORPUS), "--folds", "2", "--synthetic-n", "30", "--variants", "2"]
    assert _load_script().main([*args, "--thresholds", "0.5", "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_both_variants_report_recall_precision_categories_and_unseen(result: dict) -> None:
    assert result["training"]["variants"] == 2
    for variant in ("plain", "leave_names_out"):
        overall = result[variant]["overall"]
        assert overall["counts"]["gold_spans"] > 0
        assert 0.0 <= overall["full_cover_recall"] <= 1.0
        lo, hi = overall["full_cover_recall_ci95"]
        assert lo <= overall["full_cover_recall"] <= hi
        assert "HCPName" in overall["per_category"]
        assert "unseen" in result[variant]
    assert set(result["threshold_sweep"]) == {"0.5", str(result["tagger_threshold"])}


def test_result_holds_no_note_text(result: dict) -> None:
    text = json.dumps(result)
    for word in ("Voss", "Brookfield", "Quill", "Lakeview", "bedside"):
        assert word not in text
