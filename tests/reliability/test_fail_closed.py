"""Fail closed: a failed check publishes nothing, keeps the previous dataset, says why.

Faults: a detector configured without SSNs (the residual screen withholds the note
with an SSN: beyond the run's cap the run fails, within it the note is quarantined and
the rest published), output text changed by one character outside the replaced spans
(the kept-text length ratio), a staged shard whose bytes change between sealing and
publishing, and a published shard tampered with afterwards.
Each run reuses an output directory that already holds a good dataset, which must stay
byte-for-byte as it was.  Messages must name the check, file and counts, never text.
"""

from __future__ import annotations

import errno
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from deid.entities import ENTITY_NAMES
from pipelines.config import QUARANTINE_SUFFIX, PipelineConfig
from pipelines.gate.enforcement import ValidationFailed
from pipelines.output.manifest import verify_output
from pipelines.output.shards import ShardCorrupted, ShardWriter
from pipelines.run import run_from_cli, run_pipeline
from pipelines.transform import NoteTransformer
from schemas.notes import NoteRecord
from tests.conftest import TEST_KEY
from tests.paths import SAMPLE

N_NOTES = 12
SSN = "078-05-1120"
CANARY = "Wqxcanarybrel"  # a name-like token in the notes: must never show in a message


def _write_source(directory: Path) -> Path:
    notes = [json.loads(line) for line in SAMPLE.read_bytes().splitlines()[:N_NOTES]]
    notes[0]["text"] += f"\nSSN {SSN} on file. Seen with {CANARY}."
    notes[1]["text"] += f"\nPatient {CANARY} called back."
    notes.append({"note_id": "empty", "patient_id": "p", "text": " "})  # quarantined
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "notes.jsonl"
    path.write_text("".join(json.dumps(n) + "\n" for n in notes))
    return path


def _config(
    source: Path, out: Path, max_residual_fraction: float = 0.001, **deid: object
) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "source": {"kind": "files", "path": str(source), "batch_size": 4},
            "output": {"dir": str(out), "target_shard_rows": 5, "row_group_rows": 4},
            "deid": {"detection": {"use_tagger": False, **deid}},
            "validation": {
                "max_residual_fraction": max_residual_fraction,
                "max_quarantine_fraction": 0.5,  # a dozen notes, one empty on purpose
            },
        }
    )


def _published(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.fixture(scope="module")
def good(prefect_harness: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A published dataset (the one every faulty run must leave untouched)."""
    root = tmp_path_factory.mktemp("fail-closed")
    source = _write_source(root / "src")
    out = root / "good"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEIDFLOW_KEY", TEST_KEY)
        run_pipeline(_config(source, out))
    assert verify_output(out).ok
    assert list((source.parent / f"{source.name}{QUARANTINE_SUFFIX}").glob("quarantine-*"))
    yield out


@pytest.fixture
def workdir(good: Path, tmp_path: Path, deid_key: str) -> tuple[Path, Path]:
    """A copy of the good dataset to run against, and a fresh copy of the source."""
    out = tmp_path / "out"
    shutil.copytree(good, out)
    return _write_source(tmp_path / "src"), out


def _changed(out: Path, before: dict[str, bytes]) -> list[str]:
    """Names of published files that differ from ``before`` (names only: no note text)."""
    now = _published(out)
    return sorted(n for n in set(now) | set(before) if now.get(n) != before.get(n))


def _assert_nothing_published(out: Path, before: dict[str, bytes], source: Path) -> None:
    assert _changed(out, before) == []
    assert verify_output(out).ok
    assert not list(out.glob(".staging-*"))
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    quarantine = source.parent / f"{source.name}{QUARANTINE_SUFFIX}"
    assert not list(quarantine.glob("quarantine-*")), "a failed run committed its quarantine"


def _assert_names_no_text(message: str) -> None:
    leaked = CANARY in message or SSN in message
    assert not leaked, "the failure message quotes note text"


# Detection without SSNs: the SSNs of note 0 (one added, one in the sample) and note 4 (in
# the sample) survive; note 9's SSN is written without dashes, which the residual check
# does not match.  Note ID -> residual SSN hits.
NO_SSN = tuple(e for e in ENTITY_NAMES if e != "US_SSN")
SSN_NOTES = {"P000000001-01": 2, "P000000001-05": 1}


def test_missed_identifiers_beyond_the_cap_fail_the_run(workdir: tuple[Path, Path]) -> None:
    source, out = workdir
    before = _published(out)
    with pytest.raises(ValidationFailed) as failed:
        run_pipeline(_config(source, out, entities=NO_SSN))  # cap 0.1 %: 2 of 12 is beyond
    message = str(failed.value)
    assert message == (
        "validation failed, 1 expectation(s): residual_identifier_fraction: 2 of 12 "
        "de-identified notes withheld > validation.max_residual_fraction 0.001 [2 row(s)]"
    )
    _assert_names_no_text(message)
    _assert_nothing_published(out, before, source)


def test_a_missed_identifier_within_the_cap_quarantines_only_its_note(
    workdir: tuple[Path, Path], capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    source, out = workdir
    summary = run_pipeline(_config(source, out, max_residual_fraction=0.2, entities=NO_SSN))
    assert summary.quarantined_by_reason == {"EMPTY_TEXT": 1, "RESIDUAL_IDENTIFIER": 2}
    assert (summary.rows_in, summary.rows_out) == (N_NOTES + 1, N_NOTES - 2)
    assert summary.rows_in == summary.rows_out + summary.quarantined + summary.duplicates_removed
    assert summary.extra["residual_screen"] == {
        "max_fraction": 0.2,
        "screened": N_NOTES,
        "withheld": 2,
        "by_check": {"residual_ssn": 2},
    }
    assert verify_output(out).ok
    rows = pq.read_table(sorted(out.glob("data/*.parquet")))
    assert rows.num_rows == N_NOTES - 2
    assert not any(SSN in text for text in rows.column("text").to_pylist())
    # The gate ran on what was published, and passed.
    report = json.loads((out / "audit_report.json").read_text())
    assert report["validation"]["success"] and report["validation"]["expectations_evaluated"]
    assert report["quarantine"]["by_reason"]["RESIDUAL_IDENTIFIER"] == 2
    assert report["quarantine"]["residual_screen"]["by_check"] == {"residual_ssn": 2}
    assert "residual_ssn: 2" in (out / "audit_report.html").read_text()
    assert json.loads((out / "manifest.json").read_text())["runs"][-1]["counts"][
        "quarantined_by_reason"
    ] == {"EMPTY_TEXT": 1, "RESIDUAL_IDENTIFIER": 2}

    quarantine = source.parent / f"{source.name}{QUARANTINE_SUFFIX}"
    entries = json.loads(Path(summary.quarantine_report).read_text())["records"]
    withheld = [e for e in entries if e["reason"] == "RESIDUAL_IDENTIFIER"]
    assert [(e["note_id"], e["detail"]) for e in withheld] == [
        (note_id, f"residual_ssn={hits}") for note_id, hits in SSN_NOTES.items()
    ]
    held = (quarantine / f"quarantine-{summary.run_id}.jsonl").read_text()
    assert SSN in held and CANARY in held  # the raw record, kept in the restricted folder
    # Nothing else may hold the note: no published file, report, summary or log line.
    logged = capsys.readouterr().err + "\n".join(r.getMessage() for r in caplog.records)
    assert "withheld 2 note(s) whose output still matched a residual-identifier check " in logged
    assert "(residual_ssn=2): quarantined as RESIDUAL_IDENTIFIER" in logged
    places = {p.name: p.read_text() for p in out.iterdir() if p.suffix in (".json", ".html")}
    places |= {"quarantine report": Path(summary.quarantine_report).read_text(), "log": logged}
    leaking = sorted(name for name, text in places.items() if SSN in text or CANARY in text)
    assert leaking == [], "note text outside the quarantine"


def test_cli_says_nothing_was_published_and_why(
    workdir: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    source, out = workdir
    before = _published(out)
    make_row = NoteTransformer._row

    def one_stray_character(
        self: NoteTransformer, note: NoteRecord, text: str, counts: dict
    ) -> dict:
        return make_row(self, note, text + "\n", counts)  # kept text no longer matches

    monkeypatch.setattr(NoteTransformer, "_row", one_stray_character)
    config = source.parent / "config.json"
    config.write_text(_config(source, out).model_dump_json())
    assert run_from_cli(config, None, None, progress=False) == 5  # nothing published
    err = capsys.readouterr().err
    assert "nothing published: validation failed" in err and "text_length_ratio" in err
    _assert_names_no_text(err)
    _assert_nothing_published(out, before, source)


def _corrupt_after_sealing(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """Change a staged shard once it is sealed (checksummed), before it is published."""
    close = ShardWriter.close

    def close_then_corrupt(self: ShardWriter) -> list:
        shards = close(self)
        victim = self.directory / shards[1].name
        blob = bytearray(victim.read_bytes())
        if how == "flip":
            blob[len(blob) // 2] ^= 0x01
        else:
            del blob[-100:]
        victim.write_bytes(bytes(blob))
        return shards

    monkeypatch.setattr(ShardWriter, "close", close_then_corrupt)


@pytest.mark.parametrize(("how", "says"), [("flip", "sha256 mismatch"), ("cut", "size")])
def test_a_corrupted_staged_shard_publishes_nothing(
    workdir: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, how: str, says: str
) -> None:
    source, out = workdir
    before = _published(out)
    _corrupt_after_sealing(monkeypatch, how)
    with pytest.raises(ShardCorrupted, match=rf"data/\S+\.parquet {says}") as failed:
        run_pipeline(_config(source, out))
    _assert_names_no_text(str(failed.value))
    _assert_nothing_published(out, before, source)


def test_cli_exit_code_for_a_corrupted_shard(
    workdir: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    source, out = workdir
    _corrupt_after_sealing(monkeypatch, "flip")
    config = source.parent / "config.json"
    config.write_text(_config(source, out).model_dump_json())
    assert run_from_cli(config, None, None, progress=False) == 5  # nothing published
    err = capsys.readouterr().err
    assert re.search(r"nothing published: staged shard check failed: data/\S+\.parquet sha256", err)


def test_a_tampered_published_shard_is_detected_and_a_rerun_repairs_it(
    workdir: tuple[Path, Path], good: Path
) -> None:
    source, out = workdir
    shard = sorted((out / "data").glob("train-*.parquet"))[-1]
    blob = bytearray(shard.read_bytes())
    blob[100] ^= 0xFF
    shard.write_bytes(bytes(blob))
    result = verify_output(out)
    assert not result.ok and result.problems == [f"data/{shard.name}: sha256 mismatch"]
    run_pipeline(_config(source, out))
    assert verify_output(out).ok
    varies = {"run_summary.json", "audit_report.json", "audit_report.html"}
    assert [n for n in _changed(out, _published(good)) if n not in varies] == []


def test_a_report_that_cannot_be_written_publishes_nothing(
    workdir: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The audit files are part of the version that is swapped in: a full disk while
    writing them leaves the previous dataset with its own report, never new data beside
    an old, half-written or missing report."""
    source, out = workdir
    before = _published(out)

    def disk_full(directory: Path, report: dict) -> Path:
        (directory / "audit_report.html.partial").write_text("<html>")  # half-written
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pipelines.report.write_report_html", disk_full)
    config = source.parent / "config.json"
    config.write_text(_config(source, out).model_dump_json())
    assert run_from_cli(config, None, None, progress=False) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert _changed(out, before) == [] and verify_output(out).ok
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


def test_a_failure_after_publishing_says_published_with_its_own_exit_code(
    workdir: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Once the new version is swapped in, a later failure (here: the Prefect UI's
    artifacts) must not read as "nothing happened": exit 6, "published ...", and the
    output holds the new data with this run's own report."""
    source, out = workdir
    before = _published(out)

    def ui_down(files: object) -> None:
        raise ConnectionError("Prefect API unreachable")

    monkeypatch.setattr("pipelines.flow.publish_artifacts", ui_down)
    config = source.parent / "config.json"
    config.write_text(_config(source, out).model_dump_json())
    assert run_from_cli(config, None, None, progress=False) == 6
    err = capsys.readouterr().err
    assert f"published {out}" in err and "ConnectionError" in err
    assert verify_output(out).ok
    report = json.loads((out / "audit_report.json").read_text())
    summary = json.loads((out / "run_summary.json").read_text())
    assert report["run"]["flow_run_id"] == summary["flow_run_id"]  # this run's, not before's
    assert report["generated_at"] != json.loads(before["audit_report.json"])["generated_at"]
