"""The public API named in the README: importable from ``deid``, working end to end."""

from __future__ import annotations

import subprocess
import sys

import deid
from deid.anonymization.keys import SecretKey
from tests.paths import SAMPLE


def test_the_readme_example_runs() -> None:
    notes = list(deid.read_corpus(SAMPLE))[:5]
    detector = deid.Detector()
    predictions = [detector.detect(n.text) for n in notes]
    report = deid.evaluate(notes, predictions)
    assert report.full_cover_recall > 0.9
    key = SecretKey(b"deidflow-public-api-test-key")
    deidentifier = deid.Deidentifier(deid.DeidConfig(), key=key, detector=detector)
    result = deidentifier.deidentify("Seen by Dr. Healey on 7/22.", patient_id="p1")
    assert "Healey" not in result.text and isinstance(result, deid.DeidResult)
    assert all(isinstance(s, deid.Span) for s in predictions[0])


def test_every_name_in_all_resolves_and_config_alone_loads_no_spacy() -> None:
    for name in deid.__all__:
        assert getattr(deid, name) is not None
    code = "import sys, deid.config; print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
