"""Prefect artifacts of a run: what a steward sees on the flow run page of the Prefect UI.

A markdown summary and tables (counts, PHI per type / source / note type, operators,
quarantine reasons, validation checks, shards, and recall per type when the risk was
estimated), rendered from the audit report dict, so they show exactly what
``audit_report.json`` says.  Counts, type and check names, hashes and paths only: no
note text, no PHI, no raw IDs.

Artifact keys are ``deidflow-<output dir name>-<table>``: the UI's Artifacts page then
keeps one history per dataset.  Keys allow lowercase letters, digits and dashes only.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from pathlib import Path
from typing import Any
from uuid import UUID

_KEY_JUNK = re.compile(r"[^a-z0-9]+")  # one class under one quantifier: linear time
MAX_KEY_CHARS = 120


def artifact_key(output_dir: str | Path, suffix: str) -> str:
    """``deidflow-<slug of the output dir's name>-<suffix>``."""
    slug = _KEY_JUNK.sub("-", Path(output_dir).name.lower()).strip("-") or "output"
    return f"deidflow-{slug}-{suffix}"[:MAX_KEY_CHARS].rstrip("-")


def summary_markdown(report: dict[str, Any]) -> str:
    """The run in a few lines of markdown: counts, validation, risk, policy, where the report is."""
    run, counts, phi = report["run"], report["counts"], report["phi"]
    validation, risk, policy = report["validation"], report["risk"], report["policy"]
    status = "passed" if validation["success"] else "FAILED"
    lines = [
        f"# deidflow run `{run['run_id'] or '(none)'}`",
        "",
        "| Measure | Value |",
        "|---|---:|",
        f"| Rows in | {counts['rows_in']:,} |",
        f"| Rows out | {counts['rows_out']:,} |",
        f"| Quarantined | {counts['quarantined']:,} |",
        f"| Duplicates removed | {counts['duplicates_removed']:,} |",
        f"| Near-duplicates removed | {counts.get('near_duplicates_removed', 0):,} |",
        f"| Filtered | {counts.get('filtered', 0):,} |",
        f"| PHI spans replaced | {phi['total']:,} |",
        f"| PHI per note | {_f(phi['per_note'], 2)} |",
        f"| PHI per 1,000 tokens | {_f(phi['per_1000_tokens'], 1)} |",
        f"| Shards written | {len(report['shards'])} |",
        "",
        f"**Validation:** {status} — {validation['expectations_evaluated']:,} expectations "
        f"over {validation['windows']:,} window(s).",
        "",
        f"**Residual risk:** {risk_sentence(risk)}",
        "",
        f"**Policy:** {policy['policy']}, default mode {policy['default_mode']} · "
        f"**key fingerprint** `{run['key_fingerprint']}` · **config hash** "
        f"`{run['config_hash'][:16]}`",
        "",
        f"**Audit report:** `{Path(run['output_dir']) / 'audit_report.html'}` "
        "(open it in a browser; it makes no network request) and `audit_report.json`.",
    ]
    return "\n".join(lines)


def risk_sentence(risk: dict[str, Any]) -> str:
    """One line on the residual-risk estimate, or why there is none."""
    if risk["status"] != "estimated":
        return (
            "not estimated — no annotated sample was given. Set `report.gold_sample` in the "
            "pipeline config, or run `deidflow report RUN_DIR --gold SAMPLE`."
        )
    leaks, recall = risk["expected_leaks_per_10k_notes"], risk["recall"]
    lo, hi = leaks["ci95"]
    rlo, rhi = recall["ci95"]
    return (
        f"about {_f(leaks['estimate'], 1)} leaked identifiers per 10,000 notes "
        f"(95 % CI {_f(lo, 1)} – {_f(hi, 1)}), from full-cover recall "
        f"{_pct(recall['estimate'])} (95 % CI {_pct(rlo)} – {_pct(rhi)}) on "
        f"{recall['gold']:,} annotated identifiers in `{risk['sample']['name']}`."
    )


def artifact_tables(report: dict[str, Any]) -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """``{key suffix: (description, rows)}`` for every table artifact of the run."""
    counts, phi, validation = report["counts"], report["phi"], report["validation"]
    tables: dict[str, tuple[str, list[dict[str, Any]]]] = {
        "counts": (
            "Records in, out, quarantined, removed as duplicates and skipped (not records)",
            [
                {"metric": k, "value": counts.get(k, 0)}
                for k in (
                    "rows_in",
                    "rows_out",
                    "quarantined",
                    "duplicates_removed",
                    "near_duplicates_removed",
                    "filtered",
                    "skipped",
                )
            ],
        ),
        "phi-by-type": (
            "PHI spans replaced, per entity type",
            [{"type": k, "spans": v} for k, v in _by_count(phi["by_type"])],
        ),
        "phi-by-source": (
            "PHI spans replaced, per source and entity type",
            [
                {"source": s["source"], "type": k, "spans": v}
                for s in phi["by_source"]
                for k, v in _by_count(s["by_type"])
            ],
        ),
        "phi-by-note-type": ("PHI density per note type", list(phi["by_note_type"])),
        "operators": (
            "Spans per surrogate operation",
            [{"operator": k, "spans": v} for k, v in _by_count(report["operators"])],
        ),
        "quarantine": (
            "Quarantined records per reason (records held beside the source, RESTRICTED)",
            [{"reason": k, "records": v} for k, v in _by_count(report["quarantine"]["by_reason"])],
        ),
        "validation": (
            f"Validation checks ({'passed' if validation['success'] else 'FAILED'})",
            [
                {**c, "status": "failed" if _failed(c["check"], validation) else "passed"}
                for c in validation["checks"]
            ],
        ),
        "shards": (
            "Shards written by this run",
            [{k: s[k] for k in ("name", "rows", "bytes", "sha256")} for s in report["shards"]],
        ),
    }
    if report["risk"]["status"] == "estimated":
        tables["recall-by-type"] = (
            "Full-cover recall per annotated type on the steward's sample",
            [
                {
                    "type": t["type"],
                    "annotated": t["gold"],
                    "covered": t["full_cover"],
                    "recall": t["recall"],
                    "ci95_low": t["ci95"][0],
                    "ci95_high": t["ci95"][1],
                }
                for t in report["risk"]["per_type"]
            ],
        )
    return tables


def publish_run_artifacts(report: dict[str, Any]) -> list[UUID]:
    """Create the summary and table artifacts of a run (inside a Prefect flow or task run)."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    output_dir = report["run"]["output_dir"]
    ids = [
        _created(
            create_markdown_artifact(
                summary_markdown(report),
                key=artifact_key(output_dir, "summary"),
                description="deidflow run summary (counts, validation, residual risk)",
            )
        )
    ]
    for suffix, (description, rows) in artifact_tables(report).items():
        if rows:
            ids.append(
                _created(
                    create_table_artifact(
                        rows, key=artifact_key(output_dir, suffix), description=description
                    )
                )
            )
    return ids


def publish_failure_artifact(output_dir: str | Path, failures: list[tuple[str, int]]) -> UUID:
    """A markdown artifact naming the checks that stopped publication (names and counts)."""
    from prefect.artifacts import create_markdown_artifact

    rows = "\n".join(f"| {name} | {count:,} |" for name, count in failures)
    markdown = (
        "# deidflow run not published: validation failed\n\n"
        "Nothing was published; the previous dataset is unchanged.\n\n"
        f"| Failed check | Rows |\n|---|---:|\n{rows}\n"
    )
    return _created(
        create_markdown_artifact(
            markdown,
            key=artifact_key(output_dir, "summary"),
            description="deidflow run stopped by the validation gate",
        )
    )


def _created(result: UUID | Awaitable[UUID]) -> UUID:
    """The artifact's ID.  Prefect's creators return a coroutine when called from async
    code; deidflow calls them from its synchronous flow and tasks only."""
    if not isinstance(result, UUID):
        raise TypeError("Prefect artifacts must be created from synchronous code here")
    return result


def _failed(check: str, validation: dict[str, Any]) -> bool:
    return any(f.get("check") == check for f in validation["failures"])


def _by_count(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _f(value: Any, digits: int) -> str:
    return "–" if value is None else f"{float(value):,.{digits}f}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f} %"
