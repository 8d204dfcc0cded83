"""Every mistake a new user made in issue #16: one line a person can act on, a documented
exit code, no traceback, and nothing left behind.

Each case runs ``deidflow`` in-process (``pipelines.cli.main``) in a fresh folder and
checks the exit code, that stderr is exactly one line ``deidflow: <what> — <what to do>``
naming the thing that is wrong, and that the folder holds exactly what it held before
(no output dir, no ``.<name>.deidflow-next-*`` sibling, no quarantine dir).  A few cases
run the real console script too, and both sides of the PHI rule are checked: the
program's own words are shown, a canary inside a note never reaches the terminal.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.cli import main
from pipelines.exit_codes import CONFIG_TODO, ExitCode
from tests.conftest import TEST_KEY
from tests.paths import REPO

DEIDFLOW = Path(sys.executable).parent / "deidflow"
SAMPLE = REPO / "sample_data" / "notes.jsonl"
CANARY = "Zqxcanaryhollowmere"
GOOD_NOTE = {"note_id": "n1", "patient_id": "p1", "text": "Seen by Dr. Smith on 3/4/2020."}


# --- the inputs the cases need --------------------------------------------------------


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _notes(path: Path, n: int = 3) -> Path:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:n]
    return _write(path, "\n".join(lines) + "\n")


def _unreadable(path: Path) -> Path:
    """A file this process cannot read: mode 000, or (root reads those) a write-only
    procfs entry behind the name."""
    _write(path, json.dumps(GOOD_NOTE) + "\n").chmod(0)
    try:
        path.open("rb").close()
    except PermissionError:
        return path
    path.unlink()
    path.symlink_to("/proc/sys/vm/drop_caches")  # only ever opened for reading here
    try:
        path.open("rb").close()
    except PermissionError:
        return path
    pytest.skip("cannot make an unreadable file on this machine")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


POSTGRES_JOB = """\
source:
  kind: postgres
  dsn_env: NOTES_DSN
  table: clinical_notes
output:
  dir: out
quarantine_dir: quarantine
"""


@dataclass
class Mistake:
    """One mistake: how to make it, the command, the exit code and what the line names."""

    name: str
    argv: list[str]
    code: ExitCode
    says: str
    setup: Callable[[Path], object] = lambda work: None
    env: dict[str, str | None] = field(default_factory=dict)
    prefect: str | None = None
    """``"harness"``: needs the test Prefect server; ``"unreachable"``/``"unset"``: the
    Prefect API setting for the case."""


def _hold_lock(work: Path) -> None:
    lock = work / "out" / ".deidflow.lock"
    lock.parent.mkdir()
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    _HELD.append(fd)


_HELD: list[int] = []

RUN = ["run", "--no-progress"]

MISTAKES = [
    # 1. a mapping that matches nothing never publishes
    Mistake(
        "csv header that does not match",
        [*RUN, "--input", "notes.csv", "--output", "out"],
        ExitCode.INPUT,
        "notes.csv has no columns 'note_id', 'patient_id', 'text'; its columns: document_id, "
        "pid, body",
        lambda w: _write(w / "notes.csv", "document_id,pid,body\n1,p1,Seen today.\n"),
    ),
    Mistake(
        "a --column that is not in the file",
        [*RUN, "--input", "notes.jsonl", "--output", "out", "--column", "text=bodyy"],
        ExitCode.INPUT,
        "no field 'bodyy' (columns.text)",
        lambda w: _notes(w / "notes.jsonl"),
    ),
    Mistake(
        "parquet with another schema",
        [*RUN, "--input", "notes.parquet", "--output", "out"],
        ExitCode.INPUT,
        "notes.parquet has no columns",
        lambda w: pq.write_table(
            pa.table({"doc": ["1"], "person": ["p"], "body": ["Seen."]}), w / "notes.parquet"
        ),
    ),
    Mistake(
        "empty input file",
        [*RUN, "--input", "notes.jsonl", "--output", "out"],
        ExitCode.INPUT,
        "notes.jsonl holds no records",
        lambda w: _write(w / "notes.jsonl", ""),
    ),
    Mistake(
        "empty input folder",
        [*RUN, "--input", "notes", "--output", "out"],
        ExitCode.INPUT,
        "notes holds no records",
        lambda w: (w / "notes").mkdir(),
    ),
    Mistake(
        "every record quarantined",
        [*RUN, "--input", "notes.csv", "--output", "out"],
        ExitCode.NOT_PUBLISHED,
        "nothing published: 2 of 2 records were quarantined (EMPTY_TEXT 2), more than "
        "validation.max_quarantine_fraction (5%)",
        lambda w: _write(w / "notes.csv", "note_id,patient_id,text\n1,p1,\n2,p2,  \n"),
        prefect="harness",
    ),
    # 2. ordinary mistakes, no traceback
    Mistake(
        "missing input file",
        [*RUN, "--input", "missing.jsonl", "--output", "out9"],
        ExitCode.INPUT,
        "missing.jsonl does not exist",
    ),
    Mistake(
        "output is a file",
        [*RUN, "--input", "notes.jsonl", "--output", "afile"],
        ExitCode.OUTPUT,
        "afile is a file, not a directory",
        lambda w: (_notes(w / "notes.jsonl"), _write(w / "afile", "x")),
    ),
    Mistake(
        "output under /proc",
        [*RUN, "--input", "notes.jsonl", "--output", "/proc/deidflow-out"],
        ExitCode.OUTPUT,
        "cannot create output /proc/deidflow-out",
        lambda w: _notes(w / "notes.jsonl"),
    ),
    Mistake(
        "a .tsv input",
        [*RUN, "--input", "notes.tsv", "--output", "out"],
        ExitCode.INPUT,
        "pass --format",
        lambda w: _write(w / "notes.tsv", "note_id\tpatient_id\ttext\n1\tp1\tSeen.\n"),
    ),
    Mistake(
        "unreadable input: run",
        [*RUN, "--input", "notes.jsonl", "--output", "out"],
        ExitCode.INPUT,
        "cannot read input",
        lambda w: _unreadable(w / "notes.jsonl"),
    ),
    Mistake(
        "unreadable input: deidentify",
        ["deidentify", "notes.jsonl", "-o", "x.jsonl"],
        ExitCode.INPUT,
        "cannot read input",
        lambda w: _unreadable(w / "notes.jsonl"),
    ),
    Mistake(
        "unreadable input: detect",
        ["detect", "--format", "jsonl", "notes.jsonl", "-o", "x.jsonl"],
        ExitCode.INPUT,
        "cannot read input",
        lambda w: _unreadable(w / "notes.jsonl"),
    ),
    Mistake(
        "unreadable input: evaluate",
        ["evaluate", "notes.jsonl"],
        ExitCode.INPUT,
        "cannot read corpus",
        lambda w: _unreadable(w / "notes.jsonl"),
    ),
    Mistake(
        "-o under a file: deidentify",
        ["deidentify", "notes.jsonl", "-o", "afile/x.jsonl"],
        ExitCode.OUTPUT,
        "afile is a file, not a folder",
        lambda w: (_notes(w / "notes.jsonl"), _write(w / "afile", "x")),
    ),
    Mistake(
        "-o under a file: detect",
        ["detect", "--format", "jsonl", "notes.jsonl", "-o", "afile/x.jsonl"],
        ExitCode.OUTPUT,
        "afile is a file, not a folder",
        lambda w: (_notes(w / "notes.jsonl"), _write(w / "afile", "x")),
    ),
    Mistake(
        "-o under a file: sample",
        ["sample", "--n", "2", "-o", "afile/x.jsonl"],
        ExitCode.OUTPUT,
        "afile is a file, not a folder",
        lambda w: _write(w / "afile", "x"),
    ),
    Mistake(
        "serve with an unreachable PREFECT_API_URL",
        ["serve", "job.yaml"],
        ExitCode.USAGE,
        "no Prefect server answers at PREFECT_API_URL=http://127.0.0.1:",
        lambda w: _write(
            w / "job.yaml", "source: {kind: files, path: n.jsonl}\noutput: {dir: o}\n"
        ),
        prefect="unreachable",
    ),
    # 3. the program's own messages are shown
    Mistake(
        "DSN variable unset",
        [*RUN, "job.yaml"],
        ExitCode.USAGE,
        "the environment variable NOTES_DSN (source.dsn_env: the database DSN) is not set",
        lambda w: _write(w / "job.yaml", POSTGRES_JOB),
        env={"NOTES_DSN": None},
    ),
    Mistake(
        "database on a wrong port",
        [*RUN, "job.yaml"],
        ExitCode.INPUT,
        "the database in NOTES_DSN does not answer: connection failed",
        lambda w: _write(w / "job.yaml", POSTGRES_JOB),
        env={"NOTES_DSN": f"postgresql://postgres@127.0.0.1:{_free_port()}/postgres"},
    ),
    Mistake(
        "YAML syntax error",
        [*RUN, "job.yaml"],
        ExitCode.USAGE,
        "job.yaml:4: YAML syntax error",
        lambda w: _write(w / "job.yaml", "source:\n  kind: files\n  path: n.jsonl\n output: o\n"),
    ),
    Mistake(
        "invalid setting",
        [*RUN, "job.yaml"],
        ExitCode.USAGE,
        "job.yaml:6: deid.anonymization.default_mode: Input should be 'surrogate', 'tag' or 'mask'",
        lambda w: _write(
            w / "job.yaml",
            "source: {kind: files, path: n.jsonl}\noutput:\n  dir: out\n"
            "deid:\n  anonymization:\n    default_mode: blur\n",
        ),
    ),
    Mistake(
        "misspelt setting",
        [*RUN, "job.yaml"],
        ExitCode.USAGE,
        "job.yaml:3: source.pathh: unknown setting (did you mean 'path'?",
        lambda w: _write(
            w / "job.yaml", "source:\n  kind: files\n  pathh: n.jsonl\noutput: {dir: o}\n"
        ),
    ),
    Mistake(
        "no key",
        [*RUN, "--input", "notes.jsonl", "--output", "out"],
        ExitCode.USAGE,
        "the environment variable DEIDFLOW_KEY is not set",
        lambda w: _notes(w / "notes.jsonl"),
        env={"DEIDFLOW_KEY": None},
    ),
    # 5. inconsistencies
    Mistake(
        "run --output .",
        [*RUN, "--input", "notes.jsonl", "--output", "."],
        ExitCode.OUTPUT,
        "is the current directory",
        lambda w: _notes(w / "notes.jsonl"),
    ),
    Mistake(
        "serve without PREFECT_API_URL",
        ["serve", "job.yaml"],
        ExitCode.USAGE,
        "PREFECT_API_URL is not set",
        lambda w: _write(
            w / "job.yaml", "source: {kind: files, path: n.jsonl}\noutput: {dir: o}\n"
        ),
        prefect="unset",
    ),
    Mistake(
        "run reading stdin",
        [*RUN, "--input", "-", "--output", "out"],
        ExitCode.USAGE,
        "run cannot read its notes from stdin",
    ),
    Mistake(
        "run without input",
        [*RUN, "--output", "out"],
        ExitCode.USAGE,
        "run needs a CONFIG file, or both --input and --output",
    ),
    Mistake(
        "a --column without a field",
        [*RUN, "--input", "notes.jsonl", "--output", "out", "--column", "body"],
        ExitCode.USAGE,
        "--column 'body' is not FIELD=COLUMN",
        lambda w: _notes(w / "notes.jsonl"),
    ),
    Mistake(
        "output held by another run",
        [*RUN, "--input", "notes.jsonl", "--output", "out"],
        ExitCode.OUTPUT,
        "another deidflow run is writing to",
        lambda w: (_notes(w / "notes.jsonl"), _hold_lock(w)),
    ),
    Mistake(
        "source inside the output",
        [*RUN, "--input", "out/notes.jsonl", "--output", "out"],
        ExitCode.OUTPUT,
        "is inside the output",
        lambda w: _notes(w / "out" / "notes.jsonl"),
    ),
    Mistake(
        "report of a folder that is no run",
        ["report", "nowhere"],
        ExitCode.INPUT,
        "nowhere holds no audit_report.json",
    ),
]


def _tree(root: Path) -> dict[str, int]:
    """Every path under ``root`` (hidden ones too) with its size, symlinks not followed."""
    return {
        str(p.relative_to(root)): (p.lstat().st_size if not p.is_dir() else -1)
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh working directory with a key, as a user's shell would have."""
    root = tmp_path / "work"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("DEIDFLOW_KEY", TEST_KEY)
    yield root
    while _HELD:
        os.close(_HELD.pop())


@contextlib.contextmanager
def _prefect_api(kind: str | None, request: pytest.FixtureRequest) -> Iterator[None]:
    """The Prefect API setting a case needs (the session's harness server, none, or one
    that does not answer)."""
    if kind is None:
        yield
        return
    if kind == "harness":
        request.getfixturevalue("prefect_harness")
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if kind == "unset":
        with temporary_settings(restore_defaults={PREFECT_API_URL}):
            yield
        return
    url = f"http://127.0.0.1:{_free_port()}/api"
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_each_mistake_gives_one_line_its_exit_code_and_leaves_nothing(
    mistake: Mistake,
    work: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    mistake.setup(work)
    for name, value in mistake.env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    before = _tree(work.parent)  # the output's siblings too (.out.deidflow-next-*)
    with _prefect_api(mistake.prefect, request):
        code = main(mistake.argv)
    out, err = capsys.readouterr()
    assert code == mistake.code, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("deidflow: ") and " — " in lines[0], lines[0]
    assert mistake.says in lines[0], lines[0]
    assert "Traceback" not in out + err
    assert _tree(work.parent) == before


def test_the_exit_codes_are_documented_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for code in ExitCode:
        assert f"\n  {int(code):<4} " in text, code.name


# --- the real console script ----------------------------------------------------------


def _script(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return subprocess.run(
        [str(DEIDFLOW), *args],
        cwd=cwd,
        env={**environ, "DEIDFLOW_KEY": TEST_KEY, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_missing_input_costs_one_line_in_a_real_process(tmp_path: Path) -> None:
    done = _script([*RUN, "--input", "notes.jsonl", "--output", "out9"], tmp_path)
    assert done.returncode == ExitCode.INPUT
    assert done.stderr.splitlines() == [
        f"deidflow: input {tmp_path / 'notes.jsonl'} does not exist — check the path"
    ]
    assert list(tmp_path.iterdir()) == []


def test_a_refused_run_prints_one_line_in_a_real_process(
    prefect_harness: Path, tmp_path: Path
) -> None:
    """The flow runs (against the session's Prefect server) and refuses to publish: one
    line, none of Prefect's logs or tracebacks, no output or quarantine left."""
    from prefect.settings import PREFECT_API_URL

    _write(tmp_path / "notes.csv", "note_id,patient_id,text\n1,p1,\n2,p2,\n")
    done = _script(
        [*RUN, "--input", "notes.csv", "--output", "out"],
        tmp_path,
        PREFECT_API_URL=str(PREFECT_API_URL.value()),
    )
    assert done.returncode == ExitCode.NOT_PUBLISHED, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("deidflow: nothing published: 2 of 2"), lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.csv"]


# --- PHI: the program's words are shown, a note's never -------------------------------


def _canary_notes(work: Path) -> Path:
    note = {**GOOD_NOTE, "text": f"Patient {CANARY} seen by Dr. Smith on 3/4/2020."}
    return _write(work / "notes.jsonl", json.dumps(note) + "\n")


def _raise_with_text(self: object, text: str, *args: object, **kwargs: object) -> object:
    raise ValueError(f"cannot handle {text!r}")


@pytest.mark.parametrize("debug", [False, True])
def test_an_error_holding_note_text_is_shown_by_type_only(
    work: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    debug: bool,
) -> None:
    from deid.anonymization.deidentifier import Deidentifier

    _canary_notes(work)
    monkeypatch.setattr(Deidentifier, "_apply", _raise_with_text)
    argv = ["deidentify", "notes.jsonl", "-o", "out.jsonl", *(["--debug"] if debug else [])]
    assert main(argv) == ExitCode.INTERNAL
    out, err = capsys.readouterr()
    assert CANARY not in out + err
    assert err.splitlines()[-1].startswith(
        "deidflow: internal error: ValueError (message withheld: it may quote note text)"
    )
    assert ("Traceback" in err) is debug  # --debug: code locations, still no text
    assert sorted(p.name for p in work.iterdir()) == ["notes.jsonl"]


def test_a_run_that_fails_on_a_note_shows_no_text_and_leaves_nothing(
    prefect_harness: Path,
    work: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pipelines import stream

    def failing_check(raw: object, *args: object) -> object:
        raise ValueError(f"cannot check {raw.fields!r}")  # type: ignore[attr-defined]

    _canary_notes(work)
    monkeypatch.setattr(stream, "check_record", failing_check)
    assert main([*RUN, "--input", "notes.jsonl", "--output", "out"]) == ExitCode.INTERNAL
    out, err = capsys.readouterr()
    assert CANARY not in out + err
    assert err.splitlines() == [
        "deidflow: internal error: ValueError (message withheld: it may quote note text) — "
        "rerun with --debug for a traceback (note text is never shown) and report it"
    ]
    assert sorted(p.name for p in work.iterdir()) == ["notes.jsonl"]


# --- what used to be inconsistent ------------------------------------------------------


def test_dash_is_stdin_and_stdout_and_every_command_takes_the_pipeline_config(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline_yaml = str(REPO / "pipelines" / "examples" / "sample.yaml")
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(GOOD_NOTE) + "\n"))
    assert main(["deidentify", "--config", pipeline_yaml, "-", "-o", "-"]) == 0
    out, err = capsys.readouterr()
    row = json.loads(out)
    assert row["note_id"] == "n1" and "Smith" not in row["text"]
    assert err == "de-identified 1 notes -> stdout\n"
    assert list(work.iterdir()) == []  # no file named '-'

    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(GOOD_NOTE) + "\n"))
    assert main(["detect", "--format", "jsonl", "--config", pipeline_yaml, "-", "-o", "-"]) == 0
    spans = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert spans and {s["label"] for s in spans} >= {"PERSON", "DATE"}

    assert main(["sample", "--n", "2", "-o", "-"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 2
    assert err.startswith("wrote 2 notes for 1 patients (") and err.endswith(" to stdout\n")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("deidflow ")


def test_config_schema_describes_the_shipped_config(capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema
    import yaml

    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    sample = yaml.safe_load((REPO / "pipelines" / "examples" / "sample.yaml").read_text())
    jsonschema.validate(sample, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**sample, "sourse": {}}, schema)


def test_config_check_lists_every_problem_with_its_line(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        work / "job.yaml",
        "source:\n  kind: files\n  pathh: n.jsonl\noutput: {dir: o}\n"
        "validation:\n  max_quarantine_fraction: 2\n",
    )
    assert main(["config", "check", "job.yaml"]) == ExitCode.USAGE
    out, err = capsys.readouterr()
    pathh = (
        "job.yaml:3: source.pathh: unknown setting (did you mean 'path'? allowed here: kind, "
        "path, url, storage_options, format, batch_size)"
    )
    assert out.splitlines() == [
        pathh,  # a misspelt key: the reason source.path is missing
        "job.yaml:6: validation.max_quarantine_fraction: Input should be less than or equal to 1",
    ]
    assert err == f"deidflow: {pathh} (and 1 more problem(s)) — {CONFIG_TODO}\n"


# --- a wrong mapping never replaces a published dataset ---------------------------------


def _published(out: Path) -> dict[str, bytes]:
    """Every file of a published dataset (hidden ones too), with its bytes."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _csv(path: Path, n: int, **extra: str) -> Path:
    """Sample notes as a CSV whose columns are named as an export might name them."""
    import csv

    notes = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:n]]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["doc", "person", "body", *extra])
        for note in notes:
            writer.writerow([note["note_id"], note["patient_id"], note["text"], *extra.values()])
    return path


MAPPED = ["--column", "note_id=doc", "--column", "patient_id=person"]


def test_a_bad_mapping_after_a_good_run_leaves_the_dataset_byte_identical(
    prefect_harness: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _csv(work / "notes.csv", 20)
    good = [*RUN, "--input", "notes.csv", "--output", "out", *MAPPED, "--column", "text=body"]
    assert main(good) == 0
    before = _published(work / "out")
    assert json.loads(before["manifest.json"])["rows"] == 20
    capsys.readouterr()

    # A text column that does not exist: refused before anything starts.
    assert main([*good[:-1], "text=bodyy"]) == ExitCode.INPUT
    assert "did you mean 'body'?" in capsys.readouterr().err
    assert _published(work / "out") == before

    # One that exists but is empty in every row: every record quarantined, nothing published.
    _csv(work / "notes2.csv", 20, summary="")
    wrong = [*RUN, "--input", "notes2.csv", "--output", "out", *MAPPED, "--column", "text=summary"]
    assert main(wrong) == ExitCode.NOT_PUBLISHED
    assert "20 of 20 records were quarantined (EMPTY_TEXT 20)" in capsys.readouterr().err
    assert _published(work / "out") == before
    assert sorted(p.name for p in work.iterdir()) == ["notes.csv", "notes2.csv", "out"]


def test_allow_empty_publishes_an_empty_dataset_on_purpose(
    prefect_harness: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(work / "notes.jsonl", "")
    assert main([*RUN, "--input", "notes.jsonl", "--output", "out", "--allow-empty"]) == 0
    manifest = json.loads((work / "out" / "manifest.json").read_text())
    assert manifest["rows"] == 0 and manifest["run_id"]
    assert capsys.readouterr().out.startswith(f"run {manifest['run_id']}: 0 in, 0 out, ")
