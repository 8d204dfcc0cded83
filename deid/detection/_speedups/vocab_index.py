"""Keep spaCy's string and lexeme indexes from growing with every word a run has seen.

At the end of a memory zone spaCy removes the zone's strings and lexemes from two hash
tables (``StringStore._map`` and ``Vocab._by_orth``, both ``preshed.maps.PreshMap``).
preshed removes a key by leaving a tombstone in its cell; tombstones count towards the
table's fill, and when the fill reaches 60 % the table doubles (preshed 3.0.x,
``_resize``), although most of its cells hold tombstones.  So both tables grew with
every distinct word the process had ever tokenized: 16 bytes a cell, doubling at 0.5,
1, 2, 4 million words, never shrinking.  On generated notes a worker's heap in use grew
from 106 MB at 20k notes to 173 MB at 680k; with this purge (and the tokenizer and
tagger caches capped lower) it stays at 105-109 MB from 30k notes on
(``benchmarks/memory_scaling.py``).

:func:`purge_tombstones` rebuilds a table in place, without the tombstones, so its fill
drops back to its live entries and it stops doubling.  It writes to preshed's C struct
through ``ctypes``: the layout is checked against the table's own ``capacity`` and
``len`` first, and if preshed's layout ever changes the purge does nothing (memory then
creeps as before; nothing else changes).
"""

from __future__ import annotations

import ctypes
import gc
from typing import TYPE_CHECKING

from preshed.maps import PreshMap

if TYPE_CHECKING:
    from spacy.vocab import Vocab

# A table is purged when it is this full (preshed doubles it at 0.6) ...
_PURGE_AT_FILL = 0.5
# ... and when its tombstones fill at least this share of it (else it is really full,
# and doubling is right).  Each purge then frees room for that many new words.
_MIN_TOMBSTONES = 0.1


class _MapStruct(ctypes.Structure):
    """preshed.maps.MapStruct (maps.pxd)."""

    _fields_ = [
        ("cells", ctypes.c_void_p),  # Cell[length]: {uint64 key; void* value}
        ("value_for_empty_key", ctypes.c_void_p),
        ("value_for_del_key", ctypes.c_void_p),
        ("length", ctypes.c_uint64),
        ("filled", ctypes.c_uint64),
        ("is_empty_key_set", ctypes.c_int),
        ("is_del_key_set", ctypes.c_int),
    ]


_CELL_BYTES = 16
# PreshMap object: PyObject header (16 bytes), Cython vtable pointer, then ``c_map``.
_C_MAP_OFFSET = 24


def _map_struct(index: PreshMap) -> _MapStruct | None:
    """The table's C struct, or None if it does not look like the layout we know."""
    pointer = ctypes.c_void_p.from_address(id(index) + _C_MAP_OFFSET).value
    if not pointer:
        return None
    struct = _MapStruct.from_address(pointer)
    if struct.length != index.capacity or struct.filled != len(index) or not struct.cells:
        return None
    return struct


def purge_tombstones(index: PreshMap) -> int | None:
    """Re-insert the live entries of ``index`` into its emptied cells; same keys, same values.

    Returns how many tombstones were dropped, or None if the table's layout is not the
    one this module knows (then the table is left untouched).  Not thread-safe: call it
    where nothing else uses the table (deidflow: between memory zones, one detector per
    thread).
    """
    struct = _map_struct(index)
    if struct is None:
        return None
    filled = struct.filled
    live = list(index.items())  # skips empty and deleted cells
    ctypes.memset(struct.cells, 0, struct.length * _CELL_BYTES)  # 0 is preshed's EMPTY_KEY
    struct.filled = 0
    for key, value in live:
        index[key] = value  # the special keys 0/1 live outside the cells: set again, unchanged
    return filled - len(index)


def vocab_indexes(vocab: Vocab) -> tuple[PreshMap, PreshMap]:
    """The vocabulary's string table and lexeme table.

    ``Vocab._by_orth`` is a C attribute with no Python accessor; the garbage collector's
    view of the object is the one public way to it.
    """
    lexemes = [o for o in gc.get_referents(vocab) if type(o) is PreshMap]
    if len(lexemes) != 1:
        raise RuntimeError(f"expected one lexeme table in spaCy's Vocab, found {len(lexemes)}")
    return vocab.strings._map, lexemes[0]  # type: ignore[attr-defined]  # public in Cython


def compact_vocab_indexes(vocab: Vocab) -> int:
    """Purge the tombstones of the vocabulary's tables that are about to double; returns
    how many were dropped.  Call outside a memory zone (inside one, the zone's entries are
    live and the purge would gain little)."""
    if vocab.in_memory_zone:  # type: ignore[attr-defined]  # missing from spaCy's stubs
        return 0
    # Outside a zone every string is permanent, and so is every lexeme's string: neither
    # table has more live entries than len(strings).
    live = len(vocab.strings)
    dropped = 0
    for index in vocab_indexes(vocab):
        filled, capacity = len(index), index.capacity
        if filled >= _PURGE_AT_FILL * capacity and filled - live >= _MIN_TOMBSTONES * capacity:
            dropped += purge_tombstones(index) or 0
    return dropped
