"""``manifest.json``: the commit point of a run, and the way to check its output.

Its content is ``schemas.manifest.Manifest``.  The manifest is written last (temp file,
fsync, rename): shards not listed in it are not part of the dataset.  It holds nothing
that varies between identical runs (no timestamps, no Prefect run IDs), so re-running
the same input, config and key gives a byte-identical file.  Incremental runs append
shards; ``runs`` keeps one entry per run whose shards are still listed, and
``source.watermark`` is where the next incremental run starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.output.shards import DATA_DIR, file_sha256
from schemas.manifest import Manifest

MANIFEST_NAME = "manifest.json"


def read_manifest(output_dir: Path) -> Manifest | None:
    """The published manifest of ``output_dir``, or ``None`` if there is none."""
    path = output_dir / MANIFEST_NAME
    if not path.is_file():
        return None
    return Manifest.from_json(path.read_text(encoding="utf-8"))


def write_manifest(output_dir: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` atomically, in canonical JSON (``Manifest.to_json``)."""
    final = output_dir / MANIFEST_NAME
    tmp = output_dir / f".{MANIFEST_NAME}.tmp"
    blob = manifest.to_json()
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    return final


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of ``verify_output``: problems name files and fields, never content."""

    ok: bool
    problems: list[str]


def verify_output(output_dir: Path) -> VerifyResult:
    """Check every listed shard's size and SHA-256, and that ``data/`` holds nothing else
    (loaders read the folder: any other file there would be read as data)."""
    manifest = read_manifest(output_dir)
    if manifest is None:
        return VerifyResult(False, [f"{MANIFEST_NAME} missing"])
    problems: list[str] = []
    listed = set()
    for shard in manifest.shards:
        name = shard.name
        listed.add(name)
        path = output_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        if path.stat().st_size != shard.bytes:
            problems.append(f"{name}: size {path.stat().st_size} != {shard.bytes}")
        elif file_sha256(path) != shard.sha256:
            problems.append(f"{name}: sha256 mismatch")
    data = output_dir / DATA_DIR
    for entry in sorted(data.iterdir()) if data.is_dir() else []:
        name = f"{DATA_DIR}/{entry.name}"
        if not entry.name.startswith(".") and name not in listed:
            problems.append(f"{name}: not listed in {MANIFEST_NAME} (readers of data/ see it)")
    total = sum(s.rows for s in manifest.shards)
    if total != manifest.rows:
        problems.append(f"shard rows sum to {total}, manifest says {manifest.rows}")
    return VerifyResult(not problems, problems)
