"""``README.md``: the dataset card, written into every published version of the output dir.

Two readers: Hugging Face ``datasets`` reads the YAML header (``configs`` -> ``data_files``
per split, ``dataset_info`` features and split sizes), so ``load_dataset(OUT)`` returns
the three splits with no arguments; a data steward and an ML engineer read the body
(source, policy, counts per split, PHI replaced per type, what the filters and the
near-duplicate check removed, the residual-risk estimate, key fingerprint, versions,
intended use and the data-use restriction).

Built only from the manifest, the audit report and the config: counts, type names,
settings, hashes and file names.  Never note text, PHI values or raw IDs (a canary test
checks it).  Figures for the whole dataset come from the manifest (every run whose
shards it lists); the residual-risk estimate and versions are the last run's.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from schemas.deidentified import DEIDENTIFIED_SCHEMA, SPLITS
from schemas.manifest import Manifest

CARD_NAME = "README.md"

INTENDED_USE = (
    "Training and evaluating clinical NLP models inside the site's controlled environment: "
    "language-model pre-training or fine-tuning, classification, information extraction."
)
RESTRICTION = (
    "De-identified is not anonymous. These notes were de-identified automatically; some "
    "identifiers may remain (see the residual-risk estimate), and surrogate names, dates "
    "and places replace the real ones. The data stays under the site's data-use rules and "
    "agreements: keep it on approved systems, share it only with approved users, never "
    "try to re-identify anyone, and do not publish it or models that can reproduce it "
    "verbatim without the data steward's approval."
)


def _dtype(arrow_type: pa.DataType) -> str:
    if pa.types.is_string(arrow_type):
        return "string"
    if pa.types.is_date32(arrow_type):
        return "date32"
    return str(arrow_type)  # int32, ...


def card_header(manifest: Manifest) -> dict[str, Any]:
    """The YAML header ``datasets`` reads: configs per split, features and split sizes.

    A split without rows is left out (``datasets`` refuses to load an empty split); its
    schema-only shard stays in ``data/`` for folder readers.
    """
    splits = [s for s in SPLITS if manifest.rows_by_split.get(s, 0)] or ["train"]
    split_bytes = Counter[str]()
    for shard in manifest.shards:
        split_bytes[shard.split] += shard.bytes
    return {
        "pretty_name": "De-identified clinical notes (deidflow)",
        "language": ["en"],
        "license": "other",
        "license_name": "site-data-use-agreement",
        "tags": ["clinical", "medical", "de-identified", "deidflow"],
        "configs": [
            {
                "config_name": "default",
                "default": True,
                "data_files": [{"split": s, "path": f"data/{s}-*.parquet"} for s in splits],
            }
        ],
        "dataset_info": {
            "features": [{"name": f.name, "dtype": _dtype(f.type)} for f in DEIDENTIFIED_SCHEMA],
            "splits": [
                {
                    "name": s,
                    "num_bytes": split_bytes[s],
                    "num_examples": manifest.rows_by_split.get(s, 0),
                }
                for s in splits
            ],
        },
    }


def _totals(manifest: Manifest) -> dict[str, Counter[str]]:
    """Counts summed over every run the manifest lists."""
    keys = ("phi_by_type", "filtered_by_reason", "words_by_split", "tokens_by_split")
    totals: dict[str, Counter[str]] = {key: Counter() for key in keys}
    scalar: Counter[str] = Counter()
    for run in manifest.runs:
        counts = run.counts
        for key in keys:
            totals[key].update(getattr(counts, key) or {})
        scalar.update(
            {
                "rows_in": counts.rows_in,
                "rows_out": counts.rows_out,
                "quarantined": counts.quarantined,
                "duplicates_removed": counts.duplicates_removed,
                "near_duplicates_removed": counts.near_duplicates_removed,
                "filtered": counts.filtered,
                "skipped": counts.skipped,
            }
        )
    totals["scalar"] = scalar
    return totals


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else ("n/a" if value is None else str(value))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_n(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _risk(report: dict[str, Any]) -> str:
    risk = report.get("risk") or {}
    if risk.get("status") != "estimated":
        return (
            "Not estimated: no annotated sample was given (`report.gold_sample`). "
            "Set one to estimate how many identifiers this data set may still hold."
        )
    recall = risk["recall"]
    leaks = risk["expected_leaks_per_10k_notes"]
    return (
        f"Estimated from an annotated sample (`{risk['sample']['name']}`, "
        f"{_n(risk['sample']['notes'])} notes, {_n(risk['sample']['gold_spans'])} gold spans): "
        f"detector recall {recall['estimate']} (95 % CI {recall['ci95'][0]}–{recall['ci95'][1]}); "
        f"expected missed identifiers per 10,000 notes {leaks['estimate']} "
        f"(95 % CI {leaks['ci95'][0]}–{leaks['ci95'][1]}). Details: `audit_report.html`."
    )


def render_card(manifest: Manifest, report: dict[str, Any], config: Any) -> str:
    """The card's text: YAML header, then the body (see the module docstring)."""
    totals = _totals(manifest)
    scalar = totals["scalar"]
    source = manifest.source.model_dump()
    source_name = source.get("name") or source.get("relation")
    policy = report.get("policy", {})
    software = report.get("software", {})
    tokens_known = manifest.tokenizer_sha256 is not None
    split_rows = []
    for split in SPLITS:
        shards = [s for s in manifest.shards if s.split == split]
        row = [
            split,
            manifest.rows_by_split.get(split, 0),
            len(shards),
            totals["words_by_split"].get(split, 0),
        ]
        if tokens_known:
            row.append(totals["tokens_by_split"].get(split, 0))
        split_rows.append(row)
    split_header = ["split", "rows", "shards", "words (`n_words`)"]
    if tokens_known:
        split_header.append("tokens (`n_tokens`)")
    phi_rows = [[t, n] for t, n in sorted(totals["phi_by_type"].items(), key=lambda x: -x[1])]
    filters, near = config.filters, config.near_duplicates
    filter_rows = [
        [
            "`min_content`",
            f"fewer than {filters.min_content_words} words outside template lines"
            if filters.min_content_words
            else "off",
            totals["filtered_by_reason"].get("min_content", 0),
        ],
        [
            "`max_chars`",
            f"longer than {filters.max_chars:,} characters" if filters.max_chars else "off",
            totals["filtered_by_reason"].get("max_chars", 0),
        ],
        [
            "`non_text`",
            f"over {filters.max_non_text_share:.0%} non-text characters"
            if filters.max_non_text_share is not None
            else "off",
            totals["filtered_by_reason"].get("non_text", 0),
        ],
        [
            "`near_duplicate`",
            f"MinHash LSH, Jaccard ≥ {near.threshold} on {near.shingle_words}-word shingles, "
            f"scope {near.scope}, first note of a cluster kept"
            if near.enabled
            else "off",
            scalar["near_duplicates_removed"],
        ],
        ["exact duplicate", "byte-identical text, first copy kept", scalar["duplicates_removed"]],
    ]
    versions = [[k, v] for k, v in sorted(software.items()) if v is not None]
    header = yaml.safe_dump(card_header(manifest), sort_keys=False, allow_unicode=True)
    body = f"""
# De-identified clinical notes

Made by deidflow from `{source["kind"]}` source `{source_name}`:
clinical notes with patient identifiers (PHI) detected and replaced, validated, split by
patient (no patient in two splits), with copy-forward near-duplicates and contentless
notes removed. {_n(manifest.rows)} rows in {len(manifest.shards)} Parquet shards under
`data/`.

## Loading

```python
from datasets import load_dataset
ds = load_dataset("path/to/this/folder")            # DatasetDict: train, validation, test
import polars as pl; pl.scan_parquet("path/to/this/folder/data/")          # or duckdb, pyarrow
```

Columns: `text` (the de-identified note), `split`, keyed pseudonyms of the note, patient
and encounter IDs, `note_type`, `note_date` (shifted per patient), `phi_<type>` counts of
replaced spans, `n_words` (`\\w+` tokens){", `n_tokens` (the run's tokenizer)" if tokens_known else ", `n_tokens` (null: no tokenizer configured)"}.

## Rows per split

{_table(split_header, split_rows)}

## What was removed

Of {_n(scalar["rows_in"])} records read: {_n(scalar["rows_out"])} published,
{_n(scalar["quarantined"])} quarantined (could not be processed; kept apart, restricted),
{_n(scalar["duplicates_removed"])} exact duplicates, {_n(scalar["near_duplicates_removed"])}
near-duplicates, {_n(scalar["filtered"])} filtered, {_n(scalar["skipped"])} skipped.

{_table(["check", "rule", "notes removed"], filter_rows)}

## De-identification

Policy `{policy.get("policy")}` (default mode `{policy.get("default_mode")}`; dates shifted
per patient by {policy.get("date_shift_days")} days); policy versions
{", ".join(f"`{p}`" for p in manifest.policy_versions)}. Identifiers replaced, by type:

{_table(["type", "replaced"], phi_rows) if phi_rows else "None."}

**Residual risk.** {_risk(report)}

## Provenance

| | |
|---|---|
| key fingerprint | `{manifest.key_fingerprint}` |
| config hash | `{manifest.config_hash}` |
| last run | `{manifest.run_id}` ({len(manifest.runs)} run(s) in this data set) |
| output schema | version {manifest.schema_version} |
| pipeline | deidflow {manifest.pipeline_version} |
{"".join(f"| {k} | {v} |" + chr(10) for k, v in versions)}
Checksums of every shard: `manifest.json` (`deidflow` verifies them); which input note
became which row: `lineage.parquet` (keyed hashes; traceable only with the key); the
audit report of the last run: `audit_report.html`.

## Intended use

{INTENDED_USE}

## Restrictions

{RESTRICTION}
"""
    return f"---\n{header}---\n{body}"


def write_card(directory: Path, manifest: Manifest, report: dict[str, Any], config: Any) -> Path:
    """Write ``README.md`` atomically into ``directory`` (the version about to be published)."""
    final = directory / CARD_NAME
    tmp = directory / f".{CARD_NAME}.tmp"
    tmp.write_text(render_card(manifest, report, config), encoding="utf-8")
    os.replace(tmp, final)
    return final
