"""Typed, validated configuration for detection and anonymization.

One ``DeidConfig`` object is loaded from YAML (or built in code), validated at start,
and hashed into every output's metadata.  Secrets never live here: the config names
*where* the key comes from (an environment variable or a Prefect Secret block), not
the key itself.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from deid.anonymization.keys import DEFAULT_KEY_ENV
from deid.entities import ENTITY_NAMES
from deid.errors import PhiSafeError

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
        DEFAULT_KEY_ENV, description="Environment variable that holds the secret key."
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


PIPELINE_MARKERS = frozenset({"source", "output"})
"""Top-level keys every pipeline config has: such a file holds this config under ``deid:``."""


class DeidConfig(_Strict):
    """Everything the ``deid`` library needs; nested in the pipeline config."""

    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    anonymization: AnonymizationConfig = Field(default_factory=AnonymizationConfig)

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None) -> DeidConfig:
        try:
            return cls.model_validate(data or {})
        except ValidationError as err:
            raise config_error(err, cls) from None

    @classmethod
    def from_file(cls, path: str | Path) -> DeidConfig:
        """Load and validate a YAML config file.

        A pipeline config file (one with ``source:`` and ``output:``) is accepted too: its
        ``deid:`` part is used, so every command can take the same file.  Errors are
        ``ConfigError``s naming the file, line and setting.
        """
        doc = read_yaml_document(path)
        data, prefix = doc.data, cast(KeyPath, ())
        if "deid" in data or data.keys() >= PIPELINE_MARKERS:
            data, prefix = data.get("deid") or {}, ("deid",)
            if not isinstance(data, dict):
                raise ConfigError([doc.locate(prefix, "must be a mapping")])
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise config_error(err, cls, doc, prefix) from None

    def config_hash(self) -> str:
        """Stable SHA-256 of the validated config (goes into manifests and reports)."""
        return stable_hash(self.model_dump(mode="json"))


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with an error that names the file (never its content)."""
    return read_yaml_document(path).data


def stable_hash(obj: Any) -> str:
    """SHA-256 over canonical JSON."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


# --- config files with line numbers ----------------------------------------------------


class ConfigError(PhiSafeError, ValueError):
    """An invalid config: each problem reads ``file:line: key.path: message``.

    The message shows the first problem (and how many more there are); ``problems``
    holds them all.  It names settings and files, never data.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems) or ["invalid config"]
        text = self.problems[0]
        if len(self.problems) > 1:
            text += f" (and {len(self.problems) - 1} more problem(s))"
        super().__init__(text)

    def __reduce__(self) -> tuple[type[ConfigError], tuple[list[str]]]:
        return (type(self), (self.problems,))


KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """A parsed config file and the line of every key in it (1-based)."""

    path: Path | None
    data: dict[str, Any]
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, keys: KeyPath) -> int | None:
        """The line of the deepest of ``keys`` present in the file."""
        for depth in range(len(keys), -1, -1):
            line = self.lines.get(tuple(keys[:depth]))
            if line is not None:
                return line
        return None

    def locate(self, keys: KeyPath, message: str) -> str:
        """``file:line: key.path: message`` for the deepest of ``keys`` present in the file."""
        line = self.line_of(keys)
        where = "" if self.path is None else f"{self.path}:{line}: " if line else f"{self.path}: "
        return f"{where}{format_key_path(keys)}: {message}" if keys else f"{where}{message}"


def format_key_path(keys: KeyPath) -> str:
    """``deid.detection.entities[2]``."""
    text = ""
    for key in keys:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def read_yaml_document(path: str | Path) -> YamlDocument:
    """Parse a YAML config file, keeping each key's line for error messages.

    Raises ``FileNotFoundError`` if it is missing and ``ConfigError`` for a YAML syntax
    error (with its line), a duplicate key or a top level that is not a mapping.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file {p} not found")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError([f"{p}: not UTF-8 text (is it a config file?)"]) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        # ``problem``/``context`` describe the syntax; ``str(err)`` would quote the file.
        problem = "; ".join(x for x in (err.context, err.problem) if x)
        raise ConfigError([f"{p}{line}: YAML syntax error: {problem}"]) from None
    except yaml.YAMLError:
        raise ConfigError([f"{p}: YAML syntax error"]) from None
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{p}:1: the config must be a mapping of settings (key: value)"])
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _collect_lines(node, (), lines, p)
    return YamlDocument(p, data, lines)


def _collect_lines(node: yaml.Node, keys: KeyPath, lines: dict[KeyPath, int], path: Path) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = (*keys, key_node.value)
            line = key_node.start_mark.line + 1
            if key in lines:
                where = f"{path}:{line}: {format_key_path(key)}"
                raise ConfigError([f"{where}: set twice (first on line {lines[key]})"])
            lines[key] = line
            _collect_lines(value_node, key, lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*keys, i)] = item.start_mark.line + 1
            _collect_lines(item, (*keys, i), lines, path)


def config_error(
    err: ValidationError,
    model: type[BaseModel],
    doc: YamlDocument | None = None,
    prefix: KeyPath = (),
) -> ConfigError:
    """A ``ConfigError`` for pydantic's errors, one ``file:line: key.path: message`` each.

    ``prefix`` is where the validated part sits in the file (``("deid",)``).  Union tags
    that pydantic adds to locations (``source.files.path``) are left out.
    """
    doc = doc or YamlDocument(None, {})
    data: Any = doc.data
    for key in prefix:
        data = data.get(key) if isinstance(data, dict) else None
    problems = []
    for item in err.errors(include_url=False, include_input=False):
        keys = (*prefix, *_file_keys(data, item["loc"]))
        message = _message(item, model, tuple(item["loc"]))
        if item["type"] == "union_tag_not_found":
            keys = (*keys, "kind")
        # A misspelt key also makes the one it was meant to be "missing": name it first.
        first = item["type"] != "extra_forbidden"
        problems.append((first, doc.line_of(keys) or 0, doc.locate(keys, message)))
    return ConfigError([text for *_, text in sorted(problems, key=lambda p: p[:2])])


def _file_keys(data: Any, loc: tuple[str | int, ...]) -> KeyPath:
    """The keys of ``loc`` as the file spells them: discriminator tags dropped."""
    keys: list[str | int] = []
    node = data
    for part in loc:
        in_file = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if not in_file and isinstance(node, dict) and node.get("kind") == part:
            continue  # the union member pydantic tried: not a key of the file
        node = node[part] if in_file else None
        keys.append(part)
    return tuple(keys)


def _message(item: Any, model: type[BaseModel], loc: KeyPath) -> str:
    """pydantic's message, made specific where it is vague (``loc`` as pydantic gives it)."""
    kind, msg = item["type"], str(item["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if kind == "missing":
        return "required setting is missing"
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        tags = _union_tags(model, loc)
        return f"set kind to one of {', '.join(tags)}" if tags else msg
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        if allowed is None:
            return "unknown setting"
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown setting ({hint}allowed here: {', '.join(allowed)})"
    return msg


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation allows (through Optional, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _model_at(model: type[BaseModel], keys: KeyPath) -> list[type[BaseModel]]:
    """The model(s) a key path leads to (several where a union is not yet decided)."""
    models = [model]
    for key in keys:
        found = []
        for m in models:
            field_info = m.model_fields.get(key) if isinstance(key, str) else None
            if field_info is not None:
                found.extend(_models_in(field_info.annotation))
        if not found:  # a union tag in the path: keep the member it names
            found = [m for m in models if _kind(m) == key]
        models = found or []
    return models


def _kind(model: type[BaseModel]) -> Any:
    """The tag of a union member: its ``kind`` field's one allowed value."""
    field_info = model.model_fields.get("kind")
    if field_info is None:
        return None
    values = typing.get_args(field_info.annotation)
    return values[0] if typing.get_origin(field_info.annotation) is Literal and values else None


def _allowed_keys(model: type[BaseModel], keys: KeyPath) -> list[str] | None:
    models = _model_at(model, keys)
    if len(models) != 1:
        return None
    return list(models[0].model_fields)


def _union_tags(model: type[BaseModel], keys: KeyPath) -> list[str]:
    return [str(_kind(m)) for m in _model_at(model, keys) if _kind(m) is not None]
