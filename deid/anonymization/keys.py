"""The secret key behind surrogates and date shifts: loading, derivation, fingerprint.

Every surrogate and every per-patient date offset is derived from one secret key with
HMAC-SHA256, so the same key reproduces the same output and a different key gives
unrelated output.  The key comes from an environment variable (``DEIDFLOW_KEY`` by
default) or, if configured, a Prefect Secret block; there is deliberately no default
key.  Only the key's fingerprint may be reported.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Protocol

from deid.errors import PhiSafeError

MIN_KEY_BYTES = 16
DEFAULT_KEY_ENV = "DEIDFLOW_KEY"
"""The environment variable that holds the key unless the config names another."""
_FINGERPRINT_LABEL = b"deidflow/key-fingerprint/v1\x00"


class MissingKeyError(PhiSafeError, RuntimeError):
    """No usable secret key was found (message names where to put one, never a key)."""


class SecretKey:
    """A secret key for keyed derivations.  Its ``repr`` shows the fingerprint only."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise MissingKeyError(f"secret key is too short: need at least {MIN_KEY_BYTES} bytes")
        self._key = bytes(key)

    @classmethod
    def from_text(cls, text: str) -> SecretKey:
        """Key from a string (UTF-8; surrounding whitespace such as a trailing newline dropped)."""
        return cls(text.strip().encode("utf-8"))

    def derive(self, *parts: str | bytes | int) -> bytes:
        """HMAC-SHA256 of the parts, length-prefixed so that no two part lists collide."""
        # One message, one C-level HMAC call: the same digest as updating part by part,
        # at a fraction of the cost (surrogates derive once or more per span).
        blobs = [_as_bytes(part) for part in parts]
        message = b"".join([len(blob).to_bytes(4, "big") + blob for blob in blobs])
        return hmac.digest(self._key, message, "sha256")

    def fingerprint(self) -> str:
        """First 16 hex digits of SHA-256 over a fixed label and the key: safe to report."""
        return hashlib.sha256(_FINGERPRINT_LABEL + self._key).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"SecretKey(fingerprint={self.fingerprint()!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretKey):
            return NotImplemented
        return hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash(self.fingerprint())


def _as_bytes(part: str | bytes | int) -> bytes:
    if isinstance(part, str):  # the common case first
        return b"s" + part.encode("utf-8")
    if isinstance(part, bytes):
        return b"b" + part
    if isinstance(part, bool):  # bool is an int: keep it distinct
        return b"o" + (b"1" if part else b"0")
    if isinstance(part, int):
        return b"i" + str(part).encode()
    raise TypeError(f"cannot derive from a part of type {type(part).__name__}")


class KeySettings(Protocol):
    """Where the key comes from (``deid.config.AnonymizationConfig`` has both settings)."""

    @property
    def key_env(self) -> str: ...

    @property
    def key_secret_block(self) -> str | None: ...


def load_key(
    settings: KeySettings | None = None, environ: Mapping[str, str] | None = None
) -> SecretKey:
    """The secret key: from the configured environment variable, else a Prefect Secret block.

    ``settings`` is the anonymization config (default: ``DEFAULT_KEY_ENV``, no block).
    Raises ``MissingKeyError`` (naming the variable and how to set it) when neither
    source yields a key of at least ``MIN_KEY_BYTES`` bytes.  Prefect is imported only
    when a Secret block is configured and the variable is unset.
    """
    key_env = settings.key_env if settings is not None else DEFAULT_KEY_ENV
    secret_block = settings.key_secret_block if settings is not None else None
    env = os.environ if environ is None else environ
    value = env.get(key_env, "")
    if value.strip():
        return _checked(value, f"environment variable {key_env}", key_env)
    if secret_block:
        return _checked(
            _read_secret_block(secret_block), f"Prefect Secret block {secret_block!r}", key_env
        )
    raise MissingKeyError(
        f"no de-identification key: the environment variable {key_env} is not set — "
        f"set it to a secret of at least {MIN_KEY_BYTES} characters "
        f"(e.g. `export {key_env}=$(openssl rand -hex 32)`) and keep it (the same key "
        "reproduces the same surrogates), or name a Prefect Secret block in "
        "deid.anonymization.key_secret_block"
    )


def _checked(value: str, source: str, key_env: str) -> SecretKey:
    try:
        return SecretKey.from_text(value)
    except MissingKeyError:
        raise MissingKeyError(
            f"the key from {source} is shorter than {MIN_KEY_BYTES} bytes — "
            f"use a longer secret (e.g. `export {key_env}=$(openssl rand -hex 32)`)"
        ) from None


def _read_secret_block(block_name: str) -> str:
    try:
        from prefect.blocks.system import Secret  # lazy: deid/ must not need Prefect otherwise
    except ImportError as exc:  # pragma: no cover - prefect is a dependency of the pipeline
        raise MissingKeyError(
            f"anonymization.key_secret_block is {block_name!r} but Prefect is not installed"
        ) from exc
    try:
        value = Secret.load(block_name).get()  # type: ignore[union-attr]  # sync call
    except Exception as exc:  # Prefect raises ValueError / HTTP errors; never echo the payload
        raise MissingKeyError(
            f"could not load Prefect Secret block {block_name!r} ({type(exc).__name__})"
        ) from None
    if not isinstance(value, str) or not value.strip():
        raise MissingKeyError(f"Prefect Secret block {block_name!r} holds no key text")
    return value
