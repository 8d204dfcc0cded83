"""A warm pipeline process that forks one child per run, for the crash-safety tests.

Starting ``deidflow run`` costs ~15 s of imports and model loading before the first
note is read, so killing fresh processes 20 times would spend most of the time on
start-up.  This process imports the pipeline and builds the de-identifier once, then
for each request forks a child that runs exactly what ``deidflow run CONFIG`` runs
(``pipelines.run.run_from_cli``).  The test kills that child with SIGKILL.

Children write a trace of what they are doing (``<seconds> <phase>`` per line) so the
test can aim kills at extraction, detection, validation, staging, sealing, publishing
(files hard-linked into the next version), the manifest, the swap and the run
summary.  Those links, the manifest rename and the swap are slowed by ``STRETCH_S`` so
that kills can land between them; nothing else is changed.

Protocol (JSON lines): stdin ``{"config", "trace", "log"}`` -> stdout ``{"pid"}``, then
``{"pid", "exit"}`` (exit code, or minus the signal number) when the child ends.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

STRETCH_S = 0.02
EXTRACT_EVERY = 10  # records between two "extract" events

_trace: dict[str, Any] = {"fd": None, "t0": 0.0, "records": 0}
_lock = threading.Lock()


def event(name: str) -> None:
    fd = _trace["fd"]
    if fd is not None:
        with _lock:
            os.write(fd, f"{time.monotonic() - _trace['t0']:.4f} {name}\n".encode())


def _wrap(owner: Any, attr: str, phase: str) -> None:
    original = getattr(owner, attr)

    def traced(*args: Any, **kwargs: Any) -> Any:
        event(phase)
        return original(*args, **kwargs)

    setattr(owner, attr, traced)


def install_trace() -> None:
    import pipelines.gate.validation as validation
    import pipelines.output.shards as shards
    import pipelines.quarantine as quarantine
    import pipelines.stream as stream
    import pipelines.tasks.report as report_tasks
    import pipelines.transform as transform

    check_record = stream.check_record

    def counted_check(*args: Any, **kwargs: Any) -> Any:
        _trace["records"] += 1
        if _trace["records"] % EXTRACT_EVERY == 1:
            event("extract")
        return check_record(*args, **kwargs)

    stream.check_record = counted_check
    _wrap(transform.NoteTransformer, "transform", "detect")
    _wrap(validation, "validate_batch", "validate")
    _wrap(shards._SplitStream, "_write_group", "stage")
    _wrap(shards.ShardWriter, "close", "seal")
    _wrap(quarantine.QuarantineWriter, "commit", "quarantine")
    _wrap(report_tasks, "write_summary", "summary")

    replace = os.replace

    def traced_replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if Path(dst).name == "manifest.json":
            event("manifest")
            time.sleep(STRETCH_S)
        replace(src, dst, *args, **kwargs)

    os.replace = traced_replace
    _stretch(shards, "_link_or_copy", "publish")  # a kept file linked into the next version
    _stretch(shards, "exchange_dirs", "swap")  # the next version swapped in


def _stretch(owner: Any, attr: str, phase: str) -> None:
    original = getattr(owner, attr)

    def slowed(*args: Any, **kwargs: Any) -> Any:
        event(phase)
        time.sleep(STRETCH_S)
        return original(*args, **kwargs)

    setattr(owner, attr, slowed)


def _child(request: dict[str, str]) -> int:
    from pipelines.run import run_from_cli

    log_fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    _trace["fd"] = os.open(request["trace"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    _trace["t0"] = time.monotonic()
    event("start")
    code = run_from_cli(Path(request["config"]), None, None, progress=False)
    event(f"end {code}")
    return code


def main() -> None:
    config_path = Path(sys.argv[1])
    from pipelines.config import PipelineConfig
    from pipelines.tasks.deidentify import checked_out_transformer

    with checked_out_transformer(PipelineConfig.from_file(config_path)):
        pass  # built once here; every child starts with it
    install_trace()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("quit"):
            break
        pid = os.fork()
        if pid == 0:
            code = 99
            try:
                code = _child(request)
            except BaseException:  # noqa: BLE001 - report and exit, never return to the loop
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(json.dumps({"pid": pid, "exit": code}), flush=True)


if __name__ == "__main__":
    main()
