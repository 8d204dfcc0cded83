"""Keyed, consistent surrogate draws: HMAC(key, patient, kind, normalized value) seeds Faker.

No table of real values is kept.  The only state is an LRU cache from HMAC digests to
surrogates (neither side holds an original value), which saves the Faker work when a
value repeats within a batch.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from random import Random
from typing import Protocol

from faker import Faker

from deid.anonymization.keys import SecretKey

MAX_ATTEMPTS = 64
_DERIVATION_LABEL = "deidflow/surrogate/v1"
_TWO_53 = float(1 << 53)


MIN_AVOID_LEN = 3


class AvoidSet:
    """Original PHI values of one note that no surrogate in that note may contain.

    A surrogate drawn for one value can happen to contain another real value of the
    same note ("Martino" -> "Santiago" next to "San Diego"); such draws are redrawn.
    Values shorter than ``MIN_AVOID_LEN`` are ignored.  ``repr`` shows only a count.
    """

    __slots__ = ("_lengths", "_values")

    def __init__(self, values: Iterable[str] = ()) -> None:
        folded = {v.strip().casefold() for v in values}
        self._values = frozenset(v for v in folded if len(v) >= MIN_AVOID_LEN)
        self._lengths = tuple(sorted({len(v) for v in self._values}))

    def hit(self, candidate: str) -> bool:
        """Whether ``candidate`` contains any avoided value (case-insensitive)."""
        if not self._values:
            return False
        folded = candidate.casefold()
        # Look up the candidate's substrings of the avoided values' lengths: a short
        # candidate costs the same whether the note holds ten values or a million
        # (scanning every value per draw made long notes full of PHI quadratic).
        n = len(folded)
        for i in range(n - self._lengths[0] + 1):
            for length in self._lengths:
                if i + length > n:
                    break
                if folded[i : i + length] in self._values:
                    return True
        return False

    def __bool__(self) -> bool:
        return bool(self._values)

    def __repr__(self) -> str:
        return f"AvoidSet({len(self._values)} values)"


NO_AVOID = AvoidSet()


class NoteContext:
    """What a note says around its values that a surrogate may follow: the sex its words
    and pronouns suggest for each name word (``"F"``/``"M"``), keyed by the word.

    Give the map, or a function that builds it: it is then built on the first question
    (most given names have a clear sex, and most notes never ask).  ``repr`` shows no
    names.
    """

    __slots__ = ("_build", "_name_sex")

    def __init__(
        self,
        name_sex: Mapping[str, str] | None = None,
        build: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self._name_sex: dict[str, str] | None = None
        self._build = build
        if build is None:
            self._name_sex = {_context_key(k): v for k, v in (name_sex or {}).items()}

    def sex_of(self, text: str) -> str | None:
        """The sex the note suggests for the name word ``text`` (any case), or None."""
        if self._name_sex is None:
            assert self._build is not None
            self._name_sex = {_context_key(k): v for k, v in self._build().items()}
        return self._name_sex.get(_context_key(text))

    def __repr__(self) -> str:
        known = "unread" if self._name_sex is None else f"{len(self._name_sex)} names"
        return f"NoteContext({known})"


def _context_key(text: str) -> str:
    return " ".join(text.casefold().split())


NO_CONTEXT = NoteContext()


class Draw(Protocol):
    """Draw the surrogate for one normalized value of one kind, for the bound patient.

    ``make`` gets Faker reseeded for the draw; lexicon samplers use its ``random``.
    ``context`` is what the note says around its values (``NoteContext``).
    """

    def __call__(self, kind: str, normalized: str, make: Callable[[Faker], str]) -> str: ...

    def pick(self, kind: str, normalized: str, make: Callable[[Random], str]) -> str:
        """The same for a draw from the lexicons: ``make`` gets a keyed ``Random``."""
        ...

    @property
    def context(self) -> NoteContext: ...


class SurrogateSource:
    """One seeded Faker and a digest-keyed cache; hands out per-patient ``Draw`` functions.

    ``make`` is called with Faker reseeded from the keyed hash of
    ``(patient, kind, normalized, attempt)``; a draw whose case-folded form equals
    ``normalized`` is rejected and redrawn with the next attempt, so a surrogate never
    reproduces the value it replaces.  Not thread-safe: use one per worker.
    """

    def __init__(self, key: SecretKey, cache_size: int = 100_000) -> None:
        self._key = key
        self._faker = Faker("en_US", use_weighting=False)
        self._cache: OrderedDict[bytes, str] = OrderedDict()
        self._cache_size = cache_size
        self._digest_random = DigestRandom()

    def __repr__(self) -> str:
        return f"SurrogateSource(key={self._key!r}, cached={len(self._cache)})"

    @property
    def faker(self) -> Faker:
        return self._faker

    def draw(
        self,
        patient_id: str,
        kind: str,
        normalized: str,
        make: Callable[[Faker], str],
        avoid: AvoidSet = NO_AVOID,
    ) -> str:
        """The surrogate for ``normalized`` of ``kind`` for ``patient_id`` (see class doc).

        A draw is rejected when it equals or contains the original, or contains a value
        of ``avoid``; only draws no ``avoid`` value changed are cached (the rest are
        specific to one note).
        """
        faker = self._faker

        def produce(seed: bytes) -> str:
            faker.seed_instance(int.from_bytes(seed[:16], "big"))
            return make(faker)

        return self._drawn(patient_id, kind, normalized, produce, avoid)

    def pick(
        self,
        patient_id: str,
        kind: str,
        normalized: str,
        make: Callable[[Random], str],
        avoid: AvoidSet = NO_AVOID,
    ) -> str:
        """Like :meth:`draw`, for draws from the lexicons: ``make`` gets a ``Random``
        whose numbers come straight from the keyed hash (seeding Faker's Mersenne Twister
        costs more than a whole lexicon draw)."""
        rng = self._digest_random

        def produce(seed: bytes) -> str:
            rng.reset(seed)
            return make(rng)

        return self._drawn(patient_id, kind, normalized, produce, avoid)

    def _drawn(
        self,
        patient_id: str,
        kind: str,
        normalized: str,
        produce: Callable[[bytes], str],
        avoid: AvoidSet,
    ) -> str:
        digest = self._key.derive(_DERIVATION_LABEL, patient_id, kind, normalized)
        cached = self._cache.get(digest)
        if cached is not None and not avoid.hit(cached):
            self._cache.move_to_end(digest)
            return cached
        original = normalized.casefold()
        seed = digest
        avoided = False
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                seed = self._key.derive(_DERIVATION_LABEL, patient_id, kind, normalized, attempt)
            value = produce(seed)
            folded = value.casefold()
            if folded == original or (len(original) >= MIN_AVOID_LEN and original in folded):
                continue
            if avoid.hit(value):
                avoided = True
                continue
            break
        else:  # pragma: no cover - needs MAX_ATTEMPTS rejected draws in a row
            raise RuntimeError(f"could not draw a {kind} surrogate that differs from the original")
        if self._cache_size and not avoided:
            self._store(digest, value)
        return value

    def _store(self, digest: bytes, value: str) -> None:
        self._cache[digest] = value
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def for_patient(
        self, patient_id: str, avoid: AvoidSet = NO_AVOID, context: NoteContext = NO_CONTEXT
    ) -> Draw:
        """A ``Draw`` bound to one patient (and one note's ``avoid`` set and context)."""
        return _PatientDraw(self, patient_id, avoid, context)

    def seeded(self, *parts: str | int) -> Faker:
        """Faker reseeded from the key and ``parts`` (for draws that need no caching)."""
        seed = self._key.derive(_DERIVATION_LABEL, *parts)
        self._faker.seed_instance(int.from_bytes(seed[:16], "big"))
        return self._faker


class _PatientDraw:
    """``SurrogateSource.draw`` bound to one patient, one note's avoid set and context."""

    __slots__ = ("_avoid", "_patient_id", "_source", "context")

    def __init__(
        self, source: SurrogateSource, patient_id: str, avoid: AvoidSet, context: NoteContext
    ) -> None:
        self._source, self._patient_id, self._avoid = source, patient_id, avoid
        self.context = context

    def __call__(self, kind: str, normalized: str, make: Callable[[Faker], str]) -> str:
        return self._source.draw(self._patient_id, kind, normalized, make, self._avoid)

    def pick(self, kind: str, normalized: str, make: Callable[[Random], str]) -> str:
        return self._source.pick(self._patient_id, kind, normalized, make, self._avoid)


class DigestRandom(Random):
    """A ``Random`` whose numbers are read from a keyed hash: ``reset(seed)`` makes it
    start over from ``seed`` (SHA-256 chained when more than four numbers are asked).
    Only ``random()`` is its own; ``choice``, ``randint`` ... build on it."""

    def __init__(self) -> None:
        super().__init__(0)
        self._block = b""
        self._pos = 0

    def reset(self, seed: bytes) -> None:
        self._block = seed  # an HMAC-SHA256 digest already
        self._pos = 0

    def random(self) -> float:
        if self._pos + 7 > len(self._block):
            self._block = hashlib.sha256(self._block).digest()
            self._pos = 0
        bits = int.from_bytes(self._block[self._pos : self._pos + 7], "big") >> 3  # 53 bits
        self._pos += 7
        return bits / _TWO_53
