"""Key loading, derivation and fingerprints (deid.anonymization.keys)."""

from __future__ import annotations

import hashlib
import hmac
import sys
import types

import pytest

from deid.anonymization.deidentifier import Deidentifier
from deid.anonymization.keys import MIN_KEY_BYTES, MissingKeyError, SecretKey, load_key
from deid.config import AnonymizationConfig

SECRET = "s3cret-value-for-tests-0123456789"


def test_key_from_environment_variable() -> None:
    key = load_key(AnonymizationConfig(), environ={"DEIDFLOW_KEY": SECRET + "\n"})
    assert key == SecretKey.from_text(SECRET)
    assert key.fingerprint() == SecretKey.from_text(SECRET).fingerprint()


def test_missing_key_is_a_clear_error_naming_the_variable() -> None:
    with pytest.raises(MissingKeyError) as err:
        load_key(AnonymizationConfig(), environ={})
    message = str(err.value)
    assert "DEIDFLOW_KEY" in message
    assert "export DEIDFLOW_KEY=" in message


def test_missing_key_names_a_custom_variable() -> None:
    with pytest.raises(MissingKeyError, match="SITE_DEID_KEY"):
        load_key(AnonymizationConfig(key_env="SITE_DEID_KEY"), environ={"DEIDFLOW_KEY": SECRET})


@pytest.mark.parametrize("value", ["", "   \n", "short-key"])
def test_blank_or_short_key_is_refused_without_echoing_it(value: str) -> None:
    with pytest.raises(MissingKeyError) as err:
        load_key(AnonymizationConfig(), environ={"DEIDFLOW_KEY": value})
    if value.strip():
        assert value not in str(err.value)
        assert str(MIN_KEY_BYTES) in str(err.value)


def test_deidentifier_without_key_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEIDFLOW_KEY", raising=False)
    with pytest.raises(MissingKeyError, match="DEIDFLOW_KEY"):
        Deidentifier()


def test_repr_and_str_show_only_the_fingerprint() -> None:
    key = SecretKey.from_text(SECRET)
    for shown in (repr(key), str(key), f"{key}", repr([key])):
        assert SECRET not in shown
        assert key.fingerprint() in shown


def test_fingerprint_is_short_hex_and_differs_between_keys() -> None:
    a, b = SecretKey.from_text(SECRET), SecretKey.from_text(SECRET + "x")
    assert len(a.fingerprint()) == 16
    int(a.fingerprint(), 16)
    assert a.fingerprint() != b.fingerprint()
    assert a != b


def test_derive_is_keyed_and_unambiguous() -> None:
    a, b = SecretKey.from_text(SECRET), SecretKey.from_text(SECRET + "x")
    assert a.derive("p1", "PERSON", "smith") == a.derive("p1", "PERSON", "smith")
    assert a.derive("p1", "PERSON", "smith") != b.derive("p1", "PERSON", "smith")
    assert a.derive("ab", "c") != a.derive("a", "bc")  # parts are length-prefixed
    assert a.derive("1") != a.derive(1)
    assert len(a.derive("x")) == 32


def test_derive_keeps_its_format() -> None:
    """Surrogates must not change between versions for the same key: the digest stays
    HMAC-SHA256 over (4-byte length, type letter + bytes) per part."""
    key = SecretKey.from_text(SECRET)
    parts: list[str | bytes | int] = ["p1", b"\x00raw", 7, True, "h\u00e9"]
    blobs = [b"sp1", b"b\x00raw", b"i7", b"o1", "sh\u00e9".encode()]
    message = b"".join(len(blob).to_bytes(4, "big") + blob for blob in blobs)
    spec = hmac.new(SECRET.encode(), message, hashlib.sha256).digest()
    assert key.derive(*parts) == spec


def _fake_prefect(monkeypatch: pytest.MonkeyPatch, value: str | Exception) -> list[str]:
    loaded: list[str] = []

    class Secret:
        @staticmethod
        def load(name: str) -> Secret:
            loaded.append(name)
            if isinstance(value, Exception):
                raise value
            return Secret()

        def get(self) -> str:
            return value  # type: ignore[return-value]

    module = types.ModuleType("prefect.blocks.system")
    module.Secret = Secret  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "prefect.blocks.system", module)
    return loaded


def test_key_from_prefect_secret_block_when_variable_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = _fake_prefect(monkeypatch, SECRET)
    config = AnonymizationConfig(key_secret_block="deid-key")
    assert load_key(config, environ={}) == SecretKey.from_text(SECRET)
    assert loaded == ["deid-key"]


def test_environment_variable_wins_over_secret_block(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = _fake_prefect(monkeypatch, "block-value-0123456789abcdef")
    config = AnonymizationConfig(key_secret_block="deid-key")
    assert load_key(config, environ={"DEIDFLOW_KEY": SECRET}) == SecretKey.from_text(SECRET)
    assert loaded == []


def test_unloadable_secret_block_is_a_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_prefect(monkeypatch, ValueError("payload-that-must-not-show"))
    with pytest.raises(MissingKeyError) as err:
        load_key(AnonymizationConfig(key_secret_block="deid-key"), environ={})
    assert "deid-key" in str(err.value)
    assert "payload-that-must-not-show" not in str(err.value)
