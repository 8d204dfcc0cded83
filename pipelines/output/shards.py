"""Parquet shards, and publication of a whole dataset version in one atomic step.

Layout: ``data/<split>-NNNNN-of-MMMMM.parquet`` (the Hugging Face naming: loaders find
the splits by file name, and ``data/`` holds nothing else, so it can be read by folder);
the manifest, lineage, dataset card and audit files sit beside ``data/``.  Each split's
shard and row-group boundaries depend only on that split's sequence of rows (and the
output settings), never on timing or batching, so the same rows give the same bytes.  A
shard is written as a hidden ``.<split>-NNNNN.parquet.tmp`` and named once the run
knows how many shards its split has.

Publication.  A run builds the complete next version of the output directory beside it,
in ``<parent>/.<name>.deidflow-next-<token>/`` (``StagingArea``): its new shards, hard
links to what stays from the current version (kept shards of an incremental run, the
lock file, the audit files, anything else found there) and ``manifest.json``.  Only then
``swap_in`` exchanges the two directories with ``renameat2(RENAME_EXCHANGE)``, one
atomic step: a reader looking at the output directory sees the old complete dataset or
the new complete one, never a mix.  The old version, now at the staging path, is then
deleted.  Where the exchange is not available (not Linux, a file system without it) two
renames do the swap; a crash between them leaves no output directory and the previous
version at ``<parent>/.<name>.deidflow-old-<token>/``, which the next run puts back
(``find_interrupted_swap``) before anything else.  Leftovers of interrupted runs (a
half-built next version, an old version not yet deleted, a scratch dir) are hidden
siblings, removed by ``clear_stale_staging`` under the run's lock.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import os
import re
import shutil
import stat
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.config import OutputConfig
from schemas.deidentified import DEIDENTIFIED_SCHEMA, SPLITS
from schemas.manifest import ShardEntry

LOCK_NAME = ".deidflow.lock"
"""The output dir's lock file: one writer at a time (``pipelines.tasks.prepare``)."""
DATA_DIR = "data"
"""The shards' folder: nothing but shards, so loaders read it by folder."""
SHARD_NAME = re.compile(
    r"^(?:data/)?(?P<split>train|validation|test)-(?P<index>\d{5})-of-(?P<total>\d{5})\.parquet$"
)
"""``data/<split>-NNNNN-of-MMMMM.parquet``, the Hugging Face naming (``NNNNN`` from 0)."""
SHARD_PATTERN = re.compile(r"^(?:train|validation|test)-\d{5}-of-\d{5}\.parquet$")
"""A shard's file name inside ``data/``."""
LEGACY_SHARD_PATTERN = re.compile(r"^part-\d{5}\.parquet$")
"""Shards of the layout before ``data/`` (in the output dir itself): never carried over."""
STAGING_PREFIX = ".staging-"
"""Staging dirs *inside* the output dir, as older versions made them (still cleared)."""
NEXT_INFIX = "deidflow-next-"
OLD_INFIX = "deidflow-old-"
SCRATCH_INFIX = "deidflow-scratch-"
_MAX_TAG_CHARS = 100  # keeps sibling names well under NAME_MAX (255 bytes)
# Low-cardinality columns: dictionary-encode them; free text and pseudonyms: don't.
_DICTIONARY_COLUMNS = ["note_type", "split", "pipeline_version", "policy_version"]


def shard_name(split: str, index: int, total: int) -> str:
    """``data/<split>-NNNNN-of-MMMMM.parquet``: path of a shard relative to the output dir."""
    return f"{DATA_DIR}/{split}-{index:05d}-of-{total:05d}.parquet"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _SplitStream:
    """One split's rows, streamed into size-bounded shards (``data/<split>-NNNNN…``)."""

    def __init__(self, writer: ShardWriter, split: str, first_index: int) -> None:
        self.writer = writer
        self.split = split
        self.first_index = first_index
        self._next_index = first_index
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._pq: pq.ParquetWriter | None = None
        self._tmp_path: Path | None = None
        self._shard_rows = 0
        self._shard_text_bytes = 0
        self.sealed: list[tuple[Path, int]] = []
        """``(temp path, rows)`` of each closed shard, in order; named at ``finish``."""

    def write(self, table: pa.Table) -> None:
        self._pending.append(table)
        self._pending_rows += table.num_rows
        while self._pending_rows >= self._group_size():
            self._write_group(self._take(self._group_size()))

    def flush(self) -> None:
        if self._pending_rows:
            self._write_group(self._take(self._pending_rows))
        self._close_shard()

    def write_empty_shard(self) -> None:
        self._open_shard()
        self._close_shard(force=True)

    def abort(self) -> None:
        if self._pq is not None:
            self._pq.close()
            self._pq = None

    def _group_size(self) -> int:
        # Never let one row group straddle the shard's row target.
        output = self.writer.output
        room = output.target_shard_rows - self._shard_rows
        return max(1, min(output.row_group_rows, room))

    def _take(self, n: int) -> pa.Table:
        table = pa.concat_tables(self._pending)
        head, rest = table.slice(0, n), table.slice(n)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows
        return head.combine_chunks()

    def _write_group(self, group: pa.Table) -> None:
        if self._pq is None:
            self._open_shard()
        assert self._pq is not None
        self._pq.write_table(group, row_group_size=group.num_rows)
        self._shard_rows += group.num_rows
        self._shard_text_bytes += int(pc.sum(pc.binary_length(group["text"])).as_py() or 0)
        output = self.writer.output
        if (
            self._shard_rows >= output.target_shard_rows
            or self._shard_text_bytes >= output.target_shard_bytes
        ):
            self._close_shard()

    def _open_shard(self) -> None:
        self._tmp_path = self.writer.data_dir / f".{self.split}-{self._next_index:05d}.parquet.tmp"
        self._pq = pq.ParquetWriter(
            self._tmp_path,
            DEIDENTIFIED_SCHEMA,
            compression="zstd",
            compression_level=self.writer.output.compression_level,
            use_dictionary=_DICTIONARY_COLUMNS,
            write_statistics=True,
            store_schema=True,
        )
        self._shard_rows = 0
        self._shard_text_bytes = 0

    def _close_shard(self, force: bool = False) -> None:
        if self._pq is None or self._tmp_path is None:
            return
        self._pq.close()
        self._pq = None
        if self._shard_rows == 0 and not force:
            self._tmp_path.unlink()
            return
        _fsync(self._tmp_path)
        self.sealed.append((self._tmp_path, self._shard_rows))
        self._next_index += 1
        self._tmp_path = None


class ShardWriter:
    """Streams tables of ``DEIDENTIFIED_SCHEMA`` into per-split shards under ``data/``.

    Each split is its own stream: rows are buffered only up to one row group, and a shard
    closes once it reaches ``target_shard_rows`` rows or ``target_shard_bytes`` bytes of
    text (checked at row-group boundaries).  Closed shards keep a temporary name until
    ``close``, when each split's count is known and they get their Hugging Face names
    ``data/<split>-NNNNN-of-MMMMM.parquet``.  ``first_index`` gives, per split, the shards
    an incremental run appends to (numbering continues after them; ``MMMMM`` counts
    them too, and ``renamed_shards`` renames them for the next version).
    """

    def __init__(
        self, directory: Path, output: OutputConfig, first_index: Mapping[str, int] | None = None
    ) -> None:
        self.directory = directory
        self.data_dir = directory / DATA_DIR
        self.data_dir.mkdir(exist_ok=True)
        self.output = output
        first = dict(first_index or {})
        self._streams = {split: _SplitStream(self, split, first.get(split, 0)) for split in SPLITS}
        self.shards: list[ShardEntry] = []

    def write(self, table: pa.Table) -> None:
        """Append rows (each goes to its split's stream); full row groups are written."""
        if table.schema != DEIDENTIFIED_SCHEMA:
            table = table.cast(DEIDENTIFIED_SCHEMA)
        if table.num_rows == 0:
            return
        splits = table.column("split")
        for split, stream in self._streams.items():
            part = table.filter(pc.equal(splits, split))
            if part.num_rows:
                stream.write(part)
        unknown = table.num_rows - sum(
            int(pc.sum(pc.equal(splits, s)).as_py() or 0) for s in SPLITS
        )
        if unknown:
            raise ValueError(f"{unknown} row(s) with a split other than {', '.join(SPLITS)}")

    def close(self) -> list[ShardEntry]:
        """Flush and close every split's shards and give them their final names.

        A split that has no shard at all (none appended to, none new) gets a schema-only
        one, so loaders always find the three splits.  Returns every shard written, by
        split then index.
        """
        for stream in self._streams.values():
            stream.flush()
            if stream.first_index == 0 and not stream.sealed:
                stream.write_empty_shard()
        for split, stream in self._streams.items():
            total = stream.first_index + len(stream.sealed)
            for offset, (tmp, rows) in enumerate(stream.sealed):
                name = shard_name(split, stream.first_index + offset, total)
                final = self.directory / name
                os.replace(tmp, final)
                self.shards.append(
                    ShardEntry(
                        name=name,
                        split=split,
                        rows=rows,
                        bytes=final.stat().st_size,
                        sha256=file_sha256(final),
                    )
                )
            stream.sealed = []
        _fsync_dir(self.data_dir)
        return list(self.shards)

    def abort(self) -> None:
        """Close without publishing (the staging directory is removed by the caller)."""
        for stream in self._streams.values():
            stream.abort()


def shard_counts(shards: Iterable[ShardEntry]) -> dict[str, int]:
    """Shards per split."""
    counts = dict.fromkeys(SPLITS, 0)
    for shard in shards:
        counts[shard.split] = counts.get(shard.split, 0) + 1
    return counts


def renamed_shards(previous: Iterable[ShardEntry], new: Iterable[ShardEntry]) -> dict[str, str]:
    """Old name -> name in the next version, for the shards an incremental run keeps.

    Appending changes each split's ``-of-MMMMM`` count, so every kept shard of a split
    that got new shards is renamed (hard-linked under its new name: no bytes copied, the
    checksum stays).  Indexes never change: a shard keeps its place in its split.
    """
    totals = shard_counts([*previous, *new])
    renames = {}
    for shard in previous:
        match = SHARD_NAME.match(shard.name)
        if match is None:
            raise ValueError(f"shard {shard.name} is not named <split>-NNNNN-of-MMMMM.parquet")
        renames[shard.name] = shard_name(shard.split, int(match["index"]), totals[shard.split])
    return renames


def version_prefix(output_dir: Path) -> str:
    """``.<name>.``: how the hidden siblings of ``output_dir`` (next, old versions) begin.

    A long name is replaced by a hash of it, so sibling names stay within NAME_MAX.
    """
    name = output_dir.name
    if len(os.fsencode(name)) > _MAX_TAG_CHARS:
        name = hashlib.sha256(os.fsencode(name)).hexdigest()[:16]
    return f".{name}."


def scratch_location(output_dir: Path) -> tuple[Path, str]:
    """Directory and name prefix for a run's scratch dirs: hidden siblings of the output
    dir, ``<parent>/.<name>.deidflow-scratch-<random>/``.

    On the output's disk rather than in the system temp dir, which is often a tmpfs (RAM).
    Their owner removes them; after a crash, ``clear_stale_staging`` does.
    """
    target = output_dir.resolve()
    return target.parent, f"{version_prefix(target)}{SCRATCH_INFIX}"


class UnswappableOutput(RuntimeError):
    """The output directory cannot be replaced by a rename (it is a mount point)."""


def check_swappable(output_dir: Path) -> None:
    """Raise ``UnswappableOutput`` early if publication could not swap ``output_dir``."""
    if os.path.ismount(output_dir.resolve()):
        raise UnswappableOutput(
            f"output {output_dir} is a mount point, and deidflow publishes by swapping the "
            "output directory with a sibling — use a directory inside it as the output"
        )


class StagingArea:
    """The next version of the output dir, built beside it until the run has validated.

    ``<parent>/.<name>.deidflow-next-<token>/`` (``output_dir`` resolved, so a symlinked
    output dir is swapped where it really lives).  Shards are written here; ``publish``
    then adds what stays (``carry_over``) and the manifest, and ``swap_in`` makes it the
    output dir.  Created at once, so an output whose parent is not writable fails the
    run before any note is read.
    """

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.target = output_dir.resolve()
        self.path = (
            self.target.parent / f"{version_prefix(self.target)}{NEXT_INFIX}{uuid.uuid4().hex}"
        )
        self.path.mkdir()
        self.swapped = False
        """True once this version is the output dir (whatever fails after that)."""

    def carry_over(
        self, keep_shards: Mapping[str, str], rewritten: Iterable[str] = ()
    ) -> list[str]:
        """Hard-link into this version what stays from the current output dir.

        ``keep_shards`` maps each kept shard's name to its name in this version (an
        append renames them: ``renamed_shards``); one missing raises
        ``FileNotFoundError``.  Besides those, every other top-level entry is carried
        except: ``data/`` (only the kept shards come from it), shards of the old layout
        (``part-NNNNN.parquet``), the names in ``rewritten`` (the manifest, card, lineage
        and audit files, written by this run), hidden temp files (``.*.tmp``) and old-layout
        staging dirs.  Hard links copy no bytes, and the lock file stays the same inode,
        so the lock this run holds stays held after the swap.  Returns the names carried
        over, sorted.
        """
        skip = set(rewritten)
        missing = sorted(n for n in keep_shards if not (self.target / n).is_file())
        if missing:
            raise FileNotFoundError(
                f"shard(s) listed in the current manifest are missing from {self.output_dir}: "
                f"{', '.join(missing)} (check it with verify_output; a full run rebuilds it)"
            )
        carried = []
        (self.path / DATA_DIR).mkdir(exist_ok=True)
        for old, new in sorted(keep_shards.items()):
            _link_or_copy(self.target / old, self.path / new)
            carried.append(new)
        for entry in sorted(self.target.iterdir(), key=lambda p: p.name):
            name = entry.name
            if (
                name == DATA_DIR
                or LEGACY_SHARD_PATTERN.match(name)
                or name in skip
                or (name.startswith(".") and name.endswith(".tmp"))
                or name.startswith(STAGING_PREFIX)
            ):
                continue
            _link_tree(entry, self.path / name)
            carried.append(name)
        return sorted(carried)

    def swap_in(self) -> None:
        """Make this version the output dir in one step, then delete the previous one.

        The output dir's permission bits are kept.  After the swap ``self.path`` holds the
        previous version (also after the two-rename fallback), and ``discard`` removes it.
        """
        os.chmod(self.path, stat.S_IMODE(self.target.stat().st_mode))
        _fsync_dir(self.path)
        exchange_dirs(self.path, self.target)
        self.swapped = True
        _fsync_dir(self.target.parent)
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link ``src`` (file, symlink or directory tree) to ``dst``; copy where links fail."""
    if src.is_dir() and not src.is_symlink():
        shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(src, dst)


def _link_or_copy(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError as err:
        if err.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copy2(src, dst, follow_symlinks=False)  # no hard links on this file system


# --- the swap ----------------------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 1 << 1
# The kernel or file system cannot exchange: fall back to two renames.
_NO_EXCHANGE = frozenset({errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP})


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """glibc's ``renameat2`` (2.28+), or ``None`` where the C library has none."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def rename_exchange(a: Path, b: Path) -> bool:
    """Atomically swap the paths ``a`` and ``b``; ``False`` if the system cannot.

    Other failures raise ``OSError`` naming both paths.
    """
    fn = _renameat2()
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in _NO_EXCHANGE:
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def exchange_dirs(new: Path, target: Path) -> None:
    """Swap directory ``new`` into ``target``'s place; the old ``target`` ends up at ``new``.

    One atomic ``renameat2(RENAME_EXCHANGE)`` where available.  Otherwise two renames,
    ``target`` -> ``.<name>.deidflow-old-<token>`` and ``new`` -> ``target``: between
    them ``target`` does not exist, and if the process dies there the next run restores
    the old version (``find_interrupted_swap``).  A third rename moves the old version to
    ``new`` so callers find it there either way.
    """
    if rename_exchange(new, target):
        return
    old = target.parent / f"{version_prefix(target)}{OLD_INFIX}{uuid.uuid4().hex}"
    os.rename(target, old)
    os.rename(new, target)
    os.rename(old, new)


def find_interrupted_swap(output_dir: Path) -> Path | None:
    """The previous version left by a fallback swap cut between its renames, if any.

    That is the case when ``output_dir`` does not exist but an ``...deidflow-old-*``
    sibling does: the caller renames it back (under its lock) before anything else.
    """
    target = output_dir.resolve()
    if target.exists() or not target.parent.is_dir():
        return None
    prefix = version_prefix(target) + OLD_INFIX
    olds = [p for p in target.parent.iterdir() if p.name.startswith(prefix) and p.is_dir()]
    return max(olds, key=lambda p: p.stat().st_mtime_ns) if olds else None


def clear_stale_staging(output_dir: Path) -> int:
    """Remove what interrupted runs left; returns how many directories.

    Next versions never swapped in, old versions not yet deleted and scratch dirs (hidden
    siblings of the output dir), and staging dirs inside it from older deidflow versions.  Call it
    holding the output dir's lock, after ``find_interrupted_swap`` was dealt with.
    """
    removed = 0
    target = output_dir.resolve()
    if target.is_dir():
        for entry in target.iterdir():
            if entry.is_dir() and entry.name.startswith(STAGING_PREFIX):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    if target.parent.is_dir():
        prefix = version_prefix(target)
        for entry in target.parent.iterdir():
            infixes = (NEXT_INFIX, OLD_INFIX, SCRATCH_INFIX)
            if entry.name.startswith(tuple(prefix + i for i in infixes)) and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    return removed


class ShardCorrupted(RuntimeError):
    """A staged shard no longer matches the size or SHA-256 recorded when it was closed."""


def verify_staged_shards(staging: StagingArea, shards: list[ShardEntry]) -> None:
    """Check every staged shard against its record before anything is published.

    Raises ``ShardCorrupted`` naming the shards and what differs (file names only).
    """
    problems = []
    for shard in shards:
        path = staging.path / shard.name
        if not path.is_file():
            problems.append(f"{shard.name} missing")
        elif path.stat().st_size != shard.bytes:
            problems.append(f"{shard.name} size {path.stat().st_size} != {shard.bytes}")
        elif file_sha256(path) != shard.sha256:
            problems.append(f"{shard.name} sha256 mismatch")
    if problems:
        raise ShardCorrupted(f"staged shard check failed: {'; '.join(problems)}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
