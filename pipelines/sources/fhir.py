"""FHIR source: notes from a Bulk Data export (``$export`` NDJSON) or Bundle JSON files.

A note is a ``DocumentReference`` (text in ``content[].attachment``) or a
``DiagnosticReport`` (``presentedForm[]``).  Fields map as:

==========================  ===================================================
note field                  FHIR
==========================  ===================================================
``note_id``                 ``<resourceType>/<id>`` (ids are unique per type only)
``patient_id``              ``subject.reference`` (``Patient/123`` -> ``123``)
``note_date``               ``date`` or ``context.period.start`` (DocumentReference),
                            ``effectiveDateTime``, ``effectivePeriod.start`` or
                            ``issued`` (DiagnosticReport); a partial date
                            (``2024-03``) leaves it empty
``note_type``               ``type`` (DocumentReference) or ``code`` (DiagnosticReport):
                            first coding's ``display``, else its ``code``, else ``text``
``encounter_id``            ``context.encounter[0]`` (R4), ``context[0]`` (R5) or
                            ``encounter`` (DiagnosticReport), ``Encounter/`` stripped
``text``                    the first readable attachment, preferring text/plain,
                            then text/html, then text/rtf
==========================  ===================================================

An attachment holds base64 ``data``, decoded in its declared charset (default UTF-8),
or a ``url`` to a ``Binary`` resource of the same export (``Binary/<id>``, or a full URL
ending so), found through an index of ``Binary`` lines built on first need (file,
offset, length per id; the resources themselves are re-read when used).  HTML is turned
into text with the standard library's parser, RTF with ``striprtf``.

Validation is of the fields used, by hand, not a full ``fhir.resources`` model per
resource: full pydantic validation of every resource would cost far more than the
parsing itself, and the reader must keep pace with the detector
(``benchmarks/fhir_reader.py``).  A note that cannot be used is quarantined with a
reason: ``EMPTY_TEXT`` (no attachment with data or url), ``UNSUPPORTED_CONTENT``
(only PDF, images...), ``UNDECODABLE`` (bad base64, bytes not in the charset),
``UNRESOLVED_REFERENCE`` (a url outside the export), ``MISSING_ID``, ``MALFORMED`` (not
JSON, not an object), ``OVERSIZED`` (by reference).  Other resources are counted as
skipped (``NOT_A_NOTE``), as are files other than ``*.ndjson``/``*.json``.  The
resource's JSON goes to the quarantine (restricted) only, never into a message.

Lines are read with the files source's bounded reader: memory holds one line (up to the
byte limit), the Binary index, and one Bundle file when Bundles are read.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import os
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import IO, Any

from striprtf.striprtf import rtf_to_text

from pipelines.config import FhirSource
from pipelines.records import MAX_NESTING, RawRecord, Reason, Skip, nesting_depth
from pipelines.sources import RecordSource
from pipelines.sources.files import _lines, _parse_json_object, json_lines, record_byte_limit

NOTE_TYPES = ("DocumentReference", "DiagnosticReport")
READABLE = ("text/plain", "text/html", "text/rtf")
"""Content types read, in order of preference when a note offers several."""
_ALIASES = {"application/rtf": "text/rtf", "application/xhtml+xml": "text/html"}
BUNDLE_MAX_BYTES = 256 << 20
"""A Bundle file is parsed whole; a larger one is quarantined as OVERSIZED."""


class _Problem(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


class FhirRecordSource(RecordSource):
    """Reads the files of ``source`` (a folder, or one file), sorted by name."""

    def __init__(self, source: FhirSource, max_note_chars: int) -> None:
        self.source = source
        # A resource line holds the note base64-encoded (4/3) in JSON, plus the resource.
        self.byte_limit = record_byte_limit("jsonl", max_note_chars)
        self._binaries: dict[str, tuple[str, int, int]] | None = None

    def describe(self) -> dict[str, Any]:
        return {"kind": "fhir", "name": self.source.name}

    # --- files ---------------------------------------------------------------------------

    def files(self) -> list[tuple[str, Callable[[], IO[bytes]]]]:
        """``(name relative to the export, opener)`` of every file, sorted by name."""
        if self.source.url is not None:
            return self._remote_files(self.source.url)
        root = self.source.local_path()
        if not root.is_dir():
            return [(root.name, lambda: root.open("rb"))]
        found = []
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in names:
                path = os.path.join(folder, name)
                found.append((os.path.relpath(path, root), path))
        return [(rel, _local_opener(path)) for rel, path in sorted(found)]

    def _remote_files(self, url: str) -> list[tuple[str, Callable[[], IO[bytes]]]]:
        from pipelines.sources._remote import BLOCK_SIZE, filesystem

        fs, path = filesystem(url, self.source.storage_options)
        if not fs.isdir(path):
            return [(self.source.name, lambda: fs.open(path, "rb", block_size=BLOCK_SIZE))]
        base = path.rstrip("/") + "/"
        keys = sorted(k for k in fs.find(path) if k.startswith(base))

        def opener(key: str) -> Callable[[], IO[bytes]]:
            return lambda: fs.open(key, "rb", block_size=BLOCK_SIZE)

        return [(k[len(base) :], opener(k)) for k in keys]

    def count(self) -> int:
        """How many entries ``records`` will yield (resources, bad lines, other files):
        the progress bar's total.  NDJSON lines are held up to 64 bytes only; a Bundle
        is parsed (as ``records`` does)."""
        total = 0
        for name, opener in self.files():
            base = name.rsplit("/", 1)[-1]
            if base.endswith(".ndjson") and not base.startswith("."):
                with opener() as fh:
                    total += sum(1 for ln in _lines(fh, 64) if ln.data is None or ln.data.strip())
            elif base.endswith(".json") and not base.startswith("."):
                total += sum(1 for _ in self._bundle(name, opener))
            else:
                total += 1
        return total

    def records(self) -> Iterator[RawRecord]:
        for name, opener in self.files():
            base = name.rsplit("/", 1)[-1]
            if base.startswith("."):
                yield RawRecord(name, skipped=Skip.HIDDEN)
            elif base.endswith(".ndjson"):
                yield from self._ndjson(name, opener)
            elif base.endswith(".json"):
                yield from self._bundle(name, opener)
            else:
                yield RawRecord(name, skipped=Skip.NOT_FHIR_FILE)

    def _ndjson(self, name: str, opener: Callable[[], IO[bytes]]) -> Iterator[RawRecord]:
        with opener() as fh:
            for item in json_lines(fh, name, self.byte_limit):
                if isinstance(item, RawRecord):
                    yield item
                    continue
                where = {"file": name, "line": item.line.number}
                yield self._resource(item.ref, item.obj, item.data, where)

    def _bundle(self, name: str, opener: Callable[[], IO[bytes]]) -> Iterator[RawRecord]:
        with opener() as fh:
            data = fh.read(BUNDLE_MAX_BYTES + 1)
        if len(data) > BUNDLE_MAX_BYTES:
            detail = f"Bundle file of more than {BUNDLE_MAX_BYTES} bytes"
            yield RawRecord(name, problem=Reason.OVERSIZED, detail=detail, location={"file": name})
            return
        obj, detail = _parse_json_object(data)
        if obj is None:
            yield RawRecord(name, problem=Reason.MALFORMED, detail=detail, location={"file": name})
            return
        if obj.get("resourceType") != "Bundle":
            yield self._resource(name, obj, data, {"file": name})
            return
        entry = obj.get("entry")
        entries: list[Any] = entry if isinstance(entry, list) else []
        resources = [e.get("resource") if isinstance(e, dict) else None for e in entries]
        local = _bundle_binaries(entries)
        for i, resource in enumerate(resources, start=1):
            ref = f"{name}:entry {i}"
            if not isinstance(resource, dict):
                yield RawRecord(
                    ref, problem=Reason.MALFORMED, detail="entry without a resource object"
                )
                continue
            raw = json.dumps(resource, ensure_ascii=False).encode("utf-8")
            yield self._resource(ref, resource, raw, {"file": name, "entry": i}, local)

    # --- one resource ---------------------------------------------------------------------

    def _resource(
        self,
        ref: str,
        obj: dict[str, Any],
        raw: bytes,
        location: dict[str, Any],
        bundle_binaries: dict[str, dict[str, Any]] | None = None,
    ) -> RawRecord:
        kind = obj.get("resourceType")
        if kind not in NOTE_TYPES:
            return RawRecord(ref, skipped=Skip.NOT_A_NOTE)
        fields = note_fields(obj)
        try:
            fields["text"] = self._text(obj, bundle_binaries)
        except _Problem as problem:
            return RawRecord(
                ref,
                fields,
                canonical=True,
                problem=problem.reason,
                raw=raw,
                detail=problem.detail,
                location=location,
            )
        return RawRecord(ref, fields, canonical=True, location=location)

    def _text(self, obj: dict[str, Any], bundle_binaries: dict[str, dict[str, Any]] | None) -> str:
        key = "content" if obj.get("resourceType") == "DocumentReference" else "presentedForm"
        items = obj.get(key)
        attachments: list[dict[str, Any]] = []
        for item in items if isinstance(items, list) else []:
            att = item.get("attachment") if key == "content" and isinstance(item, dict) else item
            if isinstance(att, dict) and (att.get("data") or att.get("url")):
                attachments.append(att)
        if not attachments:
            raise _Problem(Reason.EMPTY_TEXT, f"no {key} attachment with data or url")
        typed = sorted(
            ((READABLE.index(m) if m in READABLE else len(READABLE), i, m, charset, att))
            for i, att in enumerate(attachments)
            for m, charset in [media_type(att.get("contentType"))]
        )
        rank, _, mime, charset, att = typed[0]
        if rank == len(READABLE):
            kinds = sorted({(t[2] or "(none)")[:40] for t in typed})  # metadata, cut short
            raise _Problem(Reason.UNSUPPORTED_CONTENT, f"content types {', '.join(kinds)}")
        if att.get("data"):
            payload = _b64(att["data"])
        else:
            binary = self._binary(str(att["url"]), bundle_binaries)
            b_mime, b_charset = media_type(binary.get("contentType"))
            mime, charset = (b_mime or mime), (b_charset or charset)
            if mime not in READABLE:
                kind = (mime or "(none)")[:40]
                raise _Problem(Reason.UNSUPPORTED_CONTENT, f"Binary of type {kind}")
            payload = _b64(binary.get("data"))
        return to_text(payload, mime, charset)

    # --- Binary references ----------------------------------------------------------------

    def _binary(
        self, url: str, bundle_binaries: dict[str, dict[str, Any]] | None
    ) -> dict[str, Any]:
        if bundle_binaries is not None and url in bundle_binaries:
            return bundle_binaries[url]
        if "://" in url or url.startswith("urn:"):
            # Absolute: another server's (never fetched), unless the Bundle held it.
            raise _Problem(Reason.UNRESOLVED_REFERENCE, "attachment url outside the export")
        binary_id = binary_id_of(url)
        if binary_id is None:
            raise _Problem(Reason.UNRESOLVED_REFERENCE, "attachment url is not a Binary")
        if bundle_binaries is not None and f"Binary/{binary_id}" in bundle_binaries:
            return bundle_binaries[f"Binary/{binary_id}"]
        if self._binaries is None:
            self._binaries = self._index_binaries()
        where = self._binaries.get(binary_id)
        if where is None:
            raise _Problem(Reason.UNRESOLVED_REFERENCE, "Binary not in the export")
        return self._read_binary(*where)

    def _index_binaries(self) -> dict[str, tuple[str, int, int]]:
        """``{Binary id: (file, offset, length)}`` over the export's NDJSON files."""
        index: dict[str, tuple[str, int, int]] = {}
        for name, opener in self.files():
            if not name.endswith(".ndjson"):
                continue
            with opener() as fh:
                for line in _lines(fh, self.byte_limit):
                    if line.data is None or b'"Binary"' not in line.data:
                        continue
                    obj, _ = _parse_json_object(line.data)
                    if (
                        obj
                        and obj.get("resourceType") == "Binary"
                        and isinstance(obj.get("id"), str)
                    ):
                        index.setdefault(obj["id"], (name, line.offset, line.length))
        return index

    def _read_binary(self, name: str, offset: int, length: int) -> dict[str, Any]:
        opener = dict(self.files())[name]
        with opener() as fh:
            fh.seek(offset)
            obj, _ = _parse_json_object(fh.read(length))
        if obj is None:  # pragma: no cover - indexed from a parsed line
            raise _Problem(Reason.UNRESOLVED_REFERENCE, "Binary unreadable")
        return obj


def _local_opener(path: str) -> Callable[[], IO[bytes]]:
    return lambda: open(path, "rb")  # noqa: SIM115 - the caller closes it


def _bundle_binaries(entries: list[Any]) -> dict[str, dict[str, Any]]:
    """The Bundle's own Binary resources by ``fullUrl`` and ``Binary/<id>``."""
    found: dict[str, dict[str, Any]] = {}
    for entry in entries:
        res = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(res, dict) and res.get("resourceType") == "Binary":
            if isinstance(entry.get("fullUrl"), str):
                found[entry["fullUrl"]] = res
            if isinstance(res.get("id"), str):
                found[f"Binary/{res['id']}"] = res
    return found


def binary_id_of(url: str) -> str | None:
    """``Binary/abc`` -> ``abc``; else ``None``."""
    parts = url.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == "Binary" and parts[-1]:
        return parts[-1]
    return None


# --- fields ---------------------------------------------------------------------------


def _ref_id(value: Any, kind: str) -> str | None:
    """``{"reference": "Patient/123"}`` -> ``123`` (another reference kept whole)."""
    ref = value.get("reference") if isinstance(value, dict) else None
    if not isinstance(ref, str) or not ref.strip():
        return None
    ref = ref.strip()
    prefix = f"{kind}/"
    if ref.startswith(prefix):
        return ref[len(prefix) :]
    if f"/{prefix}" in ref:  # an absolute URL
        return ref.rsplit(f"/{prefix}", 1)[1]
    return ref


def _date(value: Any) -> str | None:
    """A FHIR date/dateTime/instant as ``YYYY-MM-DD``; partial dates give ``None``."""
    if isinstance(value, str) and len(value) >= 10:
        return value[:10]
    return None


def _concept(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    for coding in value.get("coding") or []:
        if isinstance(coding, dict):
            label = coding.get("display") or coding.get("code")
            if isinstance(label, str) and label.strip():
                return label
    text = value.get("text")
    return text if isinstance(text, str) else None


def note_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """The note's fields but its text, from a DocumentReference or DiagnosticReport."""
    kind = obj.get("resourceType")
    rid = obj.get("id")
    fields: dict[str, Any] = {
        "note_id": f"{kind}/{rid}" if isinstance(rid, str) and rid.strip() else None,
        "patient_id": _ref_id(obj.get("subject"), "Patient"),
    }
    if kind == "DocumentReference":
        context = obj.get("context")
        period = context.get("period") if isinstance(context, dict) else None
        date = _date(obj.get("date")) or _date(
            period.get("start") if isinstance(period, dict) else None
        )
        # R4: context.encounter is a list of references; R5: context is that list.
        encounters = context.get("encounter") if isinstance(context, dict) else context
        encounter = encounters[0] if isinstance(encounters, list) and encounters else None
        fields.update(
            note_type=_concept(obj.get("type")),
            note_date=date,
            encounter_id=_ref_id(encounter, "Encounter"),
        )
    else:
        period = obj.get("effectivePeriod")
        date = (
            _date(obj.get("effectiveDateTime"))
            or _date(period.get("start") if isinstance(period, dict) else None)
            or _date(obj.get("issued"))
        )
        fields.update(
            note_type=_concept(obj.get("code")),
            note_date=date,
            encounter_id=_ref_id(obj.get("encounter"), "Encounter"),
        )
    if nesting_depth(fields) > MAX_NESTING:  # pragma: no cover - flat by construction
        raise ValueError("fields nested")
    return fields


# --- decoding -------------------------------------------------------------------------


def media_type(content_type: Any) -> tuple[str | None, str | None]:
    """``"text/plain; charset=ISO-8859-1"`` -> ``("text/plain", "iso-8859-1")``."""
    if not isinstance(content_type, str) or not content_type.strip():
        return None, None
    mime, *params = (p.strip() for p in content_type.split(";"))
    mime = mime.lower()
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"').lower()
    return _ALIASES.get(mime, mime), charset


def _b64(data: Any) -> bytes:
    if not isinstance(data, str):
        raise _Problem(Reason.UNDECODABLE, "attachment data is not base64 text")
    try:
        return base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _Problem(Reason.UNDECODABLE, "attachment data is not valid base64") from None


def to_text(payload: bytes, mime: str | None, charset: str | None) -> str:
    """The attachment's plain text: decoded in ``charset``, HTML and RTF converted."""
    name = charset or "utf-8"
    try:
        codecs.lookup(name)
    except LookupError:
        raise _Problem(Reason.UNDECODABLE, f"unknown charset {name[:40]}") from None
    if payload.startswith(codecs.BOM_UTF8) and name.replace("-", "") == "utf8":
        payload = payload[len(codecs.BOM_UTF8) :]
    try:
        text = payload.decode(name)
    except UnicodeDecodeError:
        raise _Problem(Reason.UNDECODABLE, f"bytes not valid {name}") from None
    if mime == "text/html":
        return html_to_text(text)
    if mime == "text/rtf":
        try:
            return str(rtf_to_text(text, errors="strict"))
        except (UnicodeDecodeError, ValueError, IndexError):
            raise _Problem(Reason.UNDECODABLE, "RTF that cannot be converted") from None
    return text


_BLOCKS = frozenset(
    ("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "li")
    + ("fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5")
    + ("h6", "header", "hr", "main", "nav", "ol", "p", "pre", "section", "table", "td")
    + ("th", "tr", "ul")
)
_HIDDEN = frozenset(("script", "style", "head", "title", "template"))


class _HtmlText(HTMLParser):
    """Text of an HTML document: block elements end lines, scripts and styles dropped,
    entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of ``html`` (lines trimmed, runs of blank lines collapsed to one)."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
