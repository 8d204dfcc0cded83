"""Near-duplicate (copy-forward) removal: MinHash signatures and an on-disk LSH index.

Clinical notes are often re-saved with a line added or edited ("copy-forward"); exact
de-duplication keeps every such copy.  Each published note gets a MinHash signature of
its word shingles (``datasketch``), computed on the workers from the *de-identified*
text, so the index never holds PHI.  The flow process then checks the signatures in input
order against an LSH index of the notes seen before (``NearDuplicateIndex``): a note
whose estimated Jaccard similarity to any earlier note of its bucket reaches the
threshold is removed and counted as ``near_duplicate``; the first note of a cluster is
the one kept (the earliest in input order, the only rule a single streaming pass can
apply without holding notes back).  Removed notes stay in the index, so a chain of copies
that drifts step by step is still one cluster.  Decisions depend only on the sequence of
notes, never on which worker computed a signature: a Dask run removes the same notes as
a single process.

Memory: like the exact check (``dedup.py``), the index lives in a scratch SQLite file
beside the output dir with a small page cache, so the flow process stays the same size
however long the run; its keys are hashes of signature bands (no text).  On disk it takes
~0.9 KB per note with the defaults (the signature, to verify candidates, and one bucket
row per band), removed at the end of the run.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

_WORD = re.compile(r"\w+")
_COMMIT_EVERY = 10_000
_SEED = 1  # fixed: signatures are the same in every process and every run


def shingles(text: str, words: int) -> Iterator[bytes]:
    """Word ``words``-grams of ``text`` (case-folded ``\\w+`` words), as bytes."""
    tokens = _WORD.findall(text.lower())
    if len(tokens) < words:
        if tokens:
            yield " ".join(tokens).encode("utf-8")
        return
    for i in range(len(tokens) - words + 1):
        yield " ".join(tokens[i : i + words]).encode("utf-8")


@cache
def _template(num_perm: int) -> MinHash:
    # Drawing the permutations costs more than hashing a note: do it once per process.
    return MinHash(num_perm=num_perm, seed=_SEED)


def signature(text: str, *, words: int = 3, num_perm: int = 128) -> bytes:
    """MinHash signature of ``text``'s word shingles: ``num_perm`` little-endian uint32."""
    template = _template(num_perm)
    minhash = MinHash(
        num_perm=num_perm,
        seed=_SEED,
        permutations=template.permutations,
        scheme=template.scheme,  # type: ignore[arg-type]
    )
    minhash.update_batch(list(shingles(text, words)))
    return minhash.hashvalues.astype("<u4").tobytes()


@cache
def bands_for(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(bands, rows per band)`` for ``threshold``, as datasketch chooses them, with a
    missed pair weighted 49x a false candidate: candidates are verified on the full
    signature, so a false one costs a lookup, a missed pair a kept copy.  For 0.8 and
    128 permutations: 17 bands of 7, so a pair at Jaccard 0.8 shares a bucket with
    probability 0.98 (datasketch's default weights: 0.74)."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=(0.02, 0.98))
    return lsh.b, lsh.r


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures (share of equal slots)."""
    x, y = np.frombuffer(a, dtype="<u4"), np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(x == y)) / len(x)


class NearDuplicateIndex:
    """Signatures of the notes seen so far, in LSH buckets, in a scratch SQLite file.

    ``check(sig, group)`` answers whether a note is a near-duplicate of an earlier one
    and remembers it either way.  ``group`` narrows the comparison (a patient
    pseudonym for ``scope: patient``; ``""`` for the whole corpus).  Use as a context
    manager or call ``close``: either removes the file.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.8,
        num_perm: int = 128,
        directory: str | Path | None = None,
        prefix: str = "deidflow-neardup-",
        cache_mib: int = 8,
    ) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self.bands, self.rows = bands_for(threshold, num_perm)
        self._dir = tempfile.mkdtemp(prefix=prefix, dir=directory)  # mode 0700
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        self._path = Path(self._dir) / "minhash.sqlite"
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        for pragma in (
            "journal_mode = OFF",  # scratch: nothing to recover after a crash
            "synchronous = OFF",
            "locking_mode = EXCLUSIVE",
            f"cache_size = -{cache_mib * 1024}",
        ):
            db.execute(f"PRAGMA {pragma}")
        db.execute("CREATE TABLE sigs (note INTEGER PRIMARY KEY, sig BLOB NOT NULL)")
        db.execute(
            "CREATE TABLE buckets (key INTEGER NOT NULL, note INTEGER NOT NULL, "
            "PRIMARY KEY (key, note)) WITHOUT ROWID"
        )
        db.execute("BEGIN")
        self._db = db
        self._next = 0
        self._pending = 0

    def check(self, sig: bytes, group: str = "") -> bool:
        """True if ``sig`` is within the threshold of an earlier note of ``group``."""
        if len(sig) != 4 * self.num_perm:
            raise ValueError(f"signature of {len(sig) // 4} slots, index built for {self.num_perm}")
        keys = self._keys(sig, group)
        db = self._db
        duplicate = False
        seen: set[int] = set()
        for key in keys:
            for (note,) in db.execute("SELECT note FROM buckets WHERE key = ?", (key,)):
                if note in seen:
                    continue
                seen.add(note)
                (other,) = db.execute("SELECT sig FROM sigs WHERE note = ?", (note,)).fetchone()
                if similarity(sig, other) >= self.threshold:
                    duplicate = True
                    break
            if duplicate:
                break
        note = self._next
        self._next += 1
        db.execute("INSERT INTO sigs VALUES (?, ?)", (note, sig))
        db.executemany("INSERT OR IGNORE INTO buckets VALUES (?, ?)", ((k, note) for k in keys))
        self._pending += 1
        if self._pending >= _COMMIT_EVERY:
            db.execute("COMMIT")
            db.execute("BEGIN")
            self._pending = 0
        return duplicate

    def _keys(self, sig: bytes, group: str) -> list[int]:
        width = 4 * self.rows
        prefix = group.encode("utf-8") + b"\0"
        keys = []
        for band in range(self.bands):
            chunk = sig[band * width : (band + 1) * width]
            digest = hashlib.blake2b(
                prefix + band.to_bytes(2, "big") + chunk, digest_size=8
            ).digest()
            keys.append(int.from_bytes(digest, "big", signed=True))
        return keys

    def file_bytes(self) -> int:
        """Size of the scratch file so far."""
        return self._path.stat().st_size

    def close(self) -> None:
        """Forget everything and remove the file (idempotent)."""
        if self._cleanup.alive:
            self._db.close()
            self._cleanup()

    def __enter__(self) -> NearDuplicateIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
