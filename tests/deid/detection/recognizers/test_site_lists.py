"""Site lists from config: whole-word, case-insensitive, exact offsets."""

from __future__ import annotations

from pathlib import Path

from deid.config import DetectionConfig
from deid.detection.detector import Detector
from deid.detection.recognizers.site_lists import SiteListRecognizer


def test_matches_whole_words_case_insensitively() -> None:
    rec = SiteListRecognizer(["Quenby Marsh", "Wexley"], "PERSON", "t")
    text = "seen by QUENBY MARSH; wexley aware. Wexleyville is a town."
    hits = sorted((r.start, r.end) for r in rec.analyze(text, ["PERSON"]))
    assert [text[s:e] for s, e in hits] == ["QUENBY MARSH", "wexley"]


def test_detector_uses_site_lists_from_config(tmp_path: Path) -> None:
    staff = tmp_path / "staff.txt"
    staff.write_text("# staff directory\nQuenby Marsh\n")
    wards = tmp_path / "wards.txt"
    wards.write_text("Larkspur Pavilion\n")
    det = Detector(
        DetectionConfig(
            site_person_names=staff,
            site_place_names=wards,
            use_tagger=False,
            entities=("PERSON", "HOSPITAL"),
        )
    )
    text = "plan d/w quenby marsh, transfer to larkspur pavilion"
    found = {(text[s.start : s.end], s.entity_type) for s in det.detect(text)}
    assert ("quenby marsh", "PERSON") in found
    assert ("larkspur pavilion", "HOSPITAL") in found


def test_empty_list_finds_nothing() -> None:
    assert SiteListRecognizer([], "PERSON", "t").analyze("anything", ["PERSON"]) == []
