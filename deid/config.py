"""Typed, validated configuration for detection and anonymization.

One ``DeidConfig`` object is loaded from YAML (or built in code), validated at start,
and hashed into every output's metadata.  Secrets never live here: the config names
*where* the key comes from (an environment variable or a Prefect Secret block), not
the key itself.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from deid.entities import ENTITY_NAMES

Mode = Literal["surrogate", "tag", "mask"]
Policy = Literal["safe_harbor", "strict"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectionConfig(_Strict):
    """What to look for and how sure to be."""

    score_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Keep detections scoring at least this."
    )
    entities: tuple[str, ...] = Field(ENTITY_NAMES, description="Entity types to detect.")
    allow_list: tuple[str, ...] = Field(
        (), description="Extra words never treated as PHI (case-insensitive)."
    )
    site_person_names: Path | None = Field(
        None, description="Site staff directory: one name per line."
    )
    site_place_names: Path | None = Field(
        None, description="Local hospitals, wards, places: one per line."
    )
    propagate_within_note: bool = Field(
        True,
        description="Mark every mention of a word found as a name or place elsewhere in the note.",
    )
    use_tagger: bool = Field(True, description="Run the trained PHI tagger for names and places.")
    tagger_model: Path | None = Field(
        None, description="A tagger model file to use instead of the shipped one."
    )
    tagger_threshold: float = Field(
        0.1,  # chosen by cross-validation (make cv): the lowest with token precision >= 0.85
        gt=0.0,
        lt=1.0,
        description="P(PHI) above which a token is tagged (lower: more recall).",
    )

    @field_validator("entities")
    @classmethod
    def _known_entities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(ENTITY_NAMES))
        if unknown:
            raise ValueError(f"unknown entity types {unknown}; known: {list(ENTITY_NAMES)}")
        return value

    @field_validator("site_person_names", "site_place_names", "tagger_model")
    @classmethod
    def _file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"site list {value} does not exist")
        return value


class AnonymizationConfig(_Strict):
    """How detected PHI is replaced."""

    policy: Policy = "safe_harbor"
    default_mode: Mode = "surrogate"
    modes: dict[str, Mode] = Field(
        default_factory=dict, description="Per-entity override of default_mode."
    )
    date_shift_days: tuple[int, int] = Field(
        (-365, -1),
        description="Inclusive range of per-patient date offsets in days; 0 is never used.",
    )
    key_env: str = Field(
        "DEIDFLOW_KEY", description="Environment variable that holds the secret key."
    )
    key_secret_block: str | None = Field(
        None, description="Prefect Secret block name to read the key from instead."
    )
    date_shift_min_abs_days: int = Field(
        30,
        ge=1,
        description="Smallest |offset| used: tiny shifts barely hide dates and make shifted dates "
        "collide with other real dates of the same note.",
    )
    keep_bare_years: bool = Field(
        True,
        description="Safe Harbor lets a year on its own stay; False shifts bare years too "
        "(by whole years, in the direction of the patient's offset).",
    )
    mask_char: str = Field(
        "*", min_length=1, max_length=1, description="Character the mask mode writes."
    )
    surrogate_cache_size: int = Field(
        100_000, ge=0, description="Surrogates cached per worker, keyed by HMAC digest; 0: none."
    )

    @field_validator("mask_char")
    @classmethod
    def _mask_char_not_alnum(cls, value: str) -> str:
        if value.isalnum():
            raise ValueError("mask_char must not be a letter or digit")
        return value

    @field_validator("modes")
    @classmethod
    def _known_mode_entities(cls, value: dict[str, Mode]) -> dict[str, Mode]:
        unknown = sorted(set(value) - set(ENTITY_NAMES))
        if unknown:
            raise ValueError(f"modes name unknown entity types {unknown}")
        return value

    @model_validator(mode="after")
    def _shift_range(self) -> AnonymizationConfig:
        lo, hi = self.date_shift_days
        if lo > hi:
            raise ValueError("date_shift_days must be (low, high) with low <= high")
        if lo == hi == 0:
            raise ValueError("date_shift_days must allow a non-zero offset")
        return self

    @model_validator(mode="after")
    def _shift_magnitude(self) -> AnonymizationConfig:
        lo, hi = self.date_shift_days
        if max(abs(lo), abs(hi)) < self.date_shift_min_abs_days:
            raise ValueError("date_shift_days holds no offset as large as date_shift_min_abs_days")
        return self

    def mode_for(self, entity_type: str) -> Mode:
        return self.modes.get(entity_type, self.default_mode)


class DeidConfig(_Strict):
    """Everything the ``deid`` library needs; nested in the pipeline config."""

    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    anonymization: AnonymizationConfig = Field(default_factory=AnonymizationConfig)

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None) -> DeidConfig:
        return cls.model_validate(data or {})

    @classmethod
    def from_file(cls, path: str | Path) -> DeidConfig:
        """Load and validate a YAML config file."""
        return cls.from_mapping(load_yaml(path))

    def config_hash(self) -> str:
        """Stable SHA-256 of the validated config (goes into manifests and reports)."""
        return stable_hash(self.model_dump(mode="json"))


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with an error that names the file (never its content)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file {p} not found")
    data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"config file {p} must hold a mapping at the top level")
    return data


def stable_hash(obj: Any) -> str:
    """SHA-256 over canonical JSON."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()
