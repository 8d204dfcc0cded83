"""Render the audit report (the JSON dict) as one self-contained HTML page.

Inline CSS, hand-written inline SVG charts, no script, no font, no image, no link to
anything: the page is opened on locked-down hospital machines.  Its
Content-Security-Policy (``default-src 'none'``) makes the browser itself refuse any
request the page might try.  Every value is HTML-escaped; the report holds counts,
names of types and checks, hashes and paths, never note text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CSS = """
:root { --ink:#1d2430; --muted:#5b6575; --line:#d9dee7; --bg:#f6f8fb; --accent:#2f6db5;
  --ok:#1f7a4d; --bad:#b3261e; --warn:#8a5a00; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
  color:var(--ink); background:#fff; }
main { max-width:1100px; margin:0 auto; padding:24px 28px 48px; }
header h1 { font-size:24px; margin:0 0 4px; }
header p { margin:0; color:var(--muted); }
h2 { font-size:19px; margin:32px 0 10px; padding-bottom:4px; border-bottom:1px solid var(--line); }
h3 { font-size:15px; margin:18px 0 6px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(150px,1fr)); gap:10px;
  margin-top:18px; }
.card { background:var(--bg); border:1px solid var(--line); border-radius:6px; padding:10px 12px; }
.card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.03em; }
.card .v { font-size:22px; font-weight:600; }
.card .s { color:var(--muted); font-size:12px; }
.card.wide { grid-column: span 2; }
.ok { color:var(--ok); } .bad { color:var(--bad); } .warn { color:var(--warn); }
.callout { border-left:4px solid var(--accent); background:var(--bg); padding:10px 14px;
  margin:10px 0; }
.callout.warn { border-color:var(--warn); }
table { border-collapse:collapse; margin:6px 0 10px; font-size:14px; }
th, td { border-bottom:1px solid var(--line); padding:4px 10px; text-align:left;
  vertical-align:top; }
th { background:var(--bg); font-weight:600; }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; }
code, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:13px; }
td .mono { word-break:break-all; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:18px; align-items:start; }
@media (max-width:800px) { .grid2 { grid-template-columns:1fr; } .card.wide { grid-column:auto; } }
svg.chart { display:block; max-width:100%; height:auto; }
svg.chart text { font:12px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
  fill:var(--ink); }
svg.chart .bar { fill:var(--accent); }
svg.chart .ci { stroke:var(--ink); stroke-width:1.5; }
svg.chart .axis { stroke:var(--line); }
ol.notes, ul.tight { margin:6px 0; padding-left:22px; } ol.notes li, ul.tight li { margin:3px 0; }
footer { margin-top:36px; color:var(--muted); font-size:13px; }
@media print { .card { break-inside:avoid; } h2 { break-after:avoid; } }
"""


def render_html(report: dict[str, Any]) -> str:
    """The whole page for ``report`` (an ``audit_report.json`` dict)."""
    run = report["run"]
    title = f"deidflow audit report — run {run.get('run_id') or '(none)'}"
    body = "\n".join(
        [
            _header(report),
            _cards(report),
            _risk(report["risk"]),
            _phi(report),
            _operators(report["operators"]),
            _quarantine(report["quarantine"]),
            _validation(report["validation"]),
            _shards(report["shards"], report["lineage"]),
            _provenance(report),
            _footer(report),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


# --- sections -------------------------------------------------------------------------


def _header(report: dict[str, Any]) -> str:
    run, source = report["run"], report["source"]
    return (
        "<header><h1>De-identification audit report</h1>"
        f"<p>Run <code>{_e(run.get('run_id') or '(none)')}</code> · source "
        f"<code>{_e(_source_label(source))}</code> · generated {_e(report['generated_at'])}"
        f" · report schema {_e(report['schema_version'])}</p>"
        f"<p>Output <code>{_e(run.get('output_dir'))}</code> (manifest "
        f"<code>{_e(run.get('manifest'))}</code>)</p></header>"
    )


def _cards(report: dict[str, Any]) -> str:
    counts, phi, validation, risk = (
        report["counts"],
        report["phi"],
        report["validation"],
        report["risk"],
    )
    passed = validation["success"]
    cards = [
        _card("Rows in", _n(counts["rows_in"])),
        _card("Rows out", _n(counts["rows_out"])),
        _card("Quarantined", _n(counts["quarantined"]), "held beside the source (RESTRICTED)"),
        _card("Duplicates removed", _n(counts["duplicates_removed"])),
        _card(
            "Near-duplicates removed",
            _n(counts.get("near_duplicates_removed", 0)),
            "copy-forward notes (MinHash LSH)",
        ),
        _card(
            "Filtered",
            _n(counts.get("filtered", 0)),
            ", ".join(f"{k} {v:,}" for k, v in counts.get("filtered_by_reason", {}).items())
            or "no content, too long, non-text",
        ),
        *(
            [_card("Skipped", _n(counts["skipped"]), "not records: hidden or not *.txt")]
            if counts.get("skipped")
            else []
        ),
        _card(
            "PHI replaced",
            _n(phi["total"]),
            f"{_f(phi['per_note'], 2)} per note · {_f(phi['per_1000_tokens'], 1)} per 1,000 tokens",
        ),
        _card(
            "Validation",
            f'<span class="{"ok" if passed else "bad"}">{"passed" if passed else "FAILED"}</span>',
            f"{_n(validation['expectations_evaluated'])} expectations in "
            f"{_n(validation['windows'])} window(s)",
            raw=True,
        ),
    ]
    if risk["status"] == "estimated":
        leaks = risk["expected_leaks_per_10k_notes"]
        lo, hi = leaks["ci95"]
        cards.append(
            _card(
                "Expected leaked identifiers",
                f"{_f(leaks['estimate'], 1)} <small>per 10,000 notes</small>",
                f"95 % CI {_f(lo, 1)} – {_f(hi, 1)} · recall "
                f"{_pct(risk['recall']['estimate'])} on {_e(risk['sample']['name'])}",
                raw=True,
                wide=True,
            )
        )
    else:
        cards.append(
            _card(
                "Residual risk",
                '<span class="warn">not estimated</span>',
                "no annotated sample given — see below",
                raw=True,
                wide=True,
            )
        )
    return f'<section class="cards" aria-label="headline">{"".join(cards)}</section>'


def _risk(risk: dict[str, Any]) -> str:
    parts = ['<section id="risk"><h2>Residual risk: identifiers the detector may have missed</h2>']
    if risk["status"] != "estimated":
        parts.append(
            f'<div class="callout warn"><p><strong>{_e(risk["message"])}</strong></p>'
            f"<p>{_e(risk['how_to'])}</p></div>"
        )
        parts.append(_method(risk))
        parts.append("</section>")
        return "".join(parts)
    sample, recall = risk["sample"], risk["recall"]
    leaks, run_leaks = risk["expected_leaks_per_10k_notes"], risk["expected_leaks_in_run"]
    rlo, rhi = recall["ci95"]
    llo, lhi = leaks["ci95"]
    qlo, qhi = run_leaks["ci95"]
    parts.append(
        '<div class="callout"><p>'
        f"On the annotated sample <code>{_e(sample['name'])}</code> ({_n(sample['notes'])} notes, "
        f"{_n(recall['gold'])} annotated identifiers) the detector fully covered "
        f"{_n(recall['full_cover'])}: full-cover recall <strong>{_pct(recall['estimate'])}</strong> "
        f"(95 % CI {_pct(rlo)} – {_pct(rhi)}, {_e(recall['method'])}).</p><p>"
        f"At this run's density of {_f(risk['phi_per_note'], 2)} replaced PHI spans per note, "
        f"about <strong>{_f(leaks['estimate'], 1)} identifiers per 10,000 notes</strong> are "
        f"expected to remain in the output (95 % CI {_f(llo, 1)} – {_f(lhi, 1)}); for this "
        f"run's {_n(run_leaks['notes'])} notes: {_f(run_leaks['estimate'], 1)} "
        f"({_f(qlo, 1)} – {_f(qhi, 1)}).</p></div>"
    )
    per_type = risk["per_type"]
    if per_type:
        parts.append("<h3>Full-cover recall per annotated type (bar: estimate; line: 95 % CI)</h3>")
        parts.append(_recall_chart(per_type))
        parts.append(
            _table(
                ["Type", "Annotated", "Fully covered", "Recall", "95 % CI"],
                [
                    [
                        _e(t["type"]),
                        _n(t["gold"]),
                        _n(t["full_cover"]),
                        _pct(t["recall"]),
                        f"{_pct(t['ci95'][0])} – {_pct(t['ci95'][1])}",
                    ]
                    for t in per_type
                ],
                numeric=(1, 2, 3, 4),
            )
        )
    parts.append(
        f'<p class="mono">sample sha256 {_e(sample["sha256"])} · detector config '
        f"{_e(str(risk['detector_config_hash'])[:16])} · {_n(sample['predicted_spans'])} "
        "spans predicted on the sample</p>"
    )
    parts.append(_method(risk))
    parts.append("</section>")
    return "".join(parts)


def _method(risk: dict[str, Any]) -> str:
    items = "".join(f"<li>{_e(a)}</li>" for a in risk["assumptions"])
    return (
        f"<h3>Method</h3><p>{_e(risk['formula'])}</p>"
        f'<p>Assumptions:</p><ol class="notes">{items}</ol>'
    )


def _phi(report: dict[str, Any]) -> str:
    phi = report["phi"]
    by_type = sorted(phi["by_type"].items(), key=lambda kv: (-kv[1], kv[0]))
    by_note_type = phi["by_note_type"]
    sources = phi["by_source"]
    parts = [
        '<section id="phi"><h2>PHI found and replaced</h2>'
        '<h3>By type and source</h3><div class="grid2">',
        _bar_chart([(k, v) for k, v in by_type], label="PHI spans by type"),
        _table(
            ["Type", *(f"spans in {s['source']}" for s in sources)],
            [["<strong>all types</strong>", *(_n(s["total"]) for s in sources)]]
            + [[_e(t), *(_n(s["by_type"].get(t, 0)) for s in sources)] for t, _ in by_type],
            numeric=tuple(range(1, len(sources) + 1)),
        ),
        '</div><h3>Density by note type (PHI spans per 1,000 tokens)</h3><div class="grid2">',
        _bar_chart(
            [(r["note_type"], r["phi_per_1000_tokens"] or 0.0) for r in by_note_type],
            label="PHI spans per 1,000 tokens by note type",
            digits=1,
        ),
        _table(
            ["Note type", "Notes", "Tokens", "PHI", "per 1,000 tokens", "per note"],
            [
                [
                    _e(r["note_type"]),
                    _n(r["notes"]),
                    _n(r["tokens"]),
                    _n(r["phi"]),
                    _f(r["phi_per_1000_tokens"], 1),
                    _f(r["phi_per_note"], 2),
                ]
                for r in by_note_type
            ],
            numeric=(1, 2, 3, 4, 5),
        ),
        "</div>",
    ]
    parts.append(
        f"<p>Tokens are <code>\\w+</code> runs of the original text "
        f"({_n(phi['tokens'])} in this run). Counts are spans the policy replaced; detections "
        "the policy keeps (e.g. a bare year under Safe Harbor) are under <em>keep</em> below.</p>"
    )
    parts.append("</section>")
    return "".join(parts)


def _operators(operators: dict[str, int]) -> str:
    rows = sorted(operators.items(), key=lambda kv: (-kv[1], kv[0]))
    return (
        '<section id="operators"><h2>Surrogate operations</h2>'
        + _bar_chart(rows, label="Spans by operator")
        + _table(["Operator", "Spans"], [[_e(k), _n(v)] for k, v in rows], numeric=(1,))
        + "<p><em>surrogate</em>: keyed consistent fake value · <em>date_shift</em>: date moved "
        "by the patient's offset · <em>generalize</em>: Safe Harbor rule (ages over 89, ZIP "
        "codes) · <em>tag</em>/<em>mask</em>: placeholder · <em>keep</em>: detected but left "
        "by the policy.</p></section>"
    )


def _quarantine(quarantine: dict[str, Any]) -> str:
    rows = sorted(quarantine["by_reason"].items(), key=lambda kv: (-kv[1], kv[0]))
    table = (
        _table(["Reason", "Records"], [[_e(k), _n(v)] for k, v in rows], numeric=(1,))
        if rows
        else "<p>No record was quarantined.</p>"
    )
    where = (
        f"<p>Quarantined records are kept unchanged in <code>{_e(quarantine['directory'])}</code>"
        f" (report <code>{_e(quarantine['report_file'])}</code>). That folder holds raw PHI "
        "(RESTRICTED): give it the source's protection.</p>"
        if quarantine["total"]
        else ""
    )
    return (
        f'<section id="quarantine"><h2>Quarantine</h2>{table}{where}{_screen(quarantine)}</section>'
    )


def _screen(quarantine: dict[str, Any]) -> str:
    """A sentence on the residual-identifier screen (absent from older reports)."""
    screen = quarantine.get("residual_screen")
    if not screen:
        return ""
    checks = ", ".join(f"{_e(k)}: {_n(v)}" for k, v in sorted(screen["by_check"].items()))
    which = f" ({checks})" if checks else ""
    cap = f"{100 * float(screen['max_fraction']):g}"
    return (
        f"<p>Residual-identifier screen: {_n(screen['withheld'])} of {_n(screen['screened'])} "
        "de-identified notes were withheld because text outside the replaced spans still "
        f"matched a check{which}; a run fails when more than {_e(cap)} % are withheld.</p>"
    )


def _validation(validation: dict[str, Any]) -> str:
    passed = validation["success"]
    status = '<span class="ok">passed</span>' if passed else '<span class="bad">FAILED</span>'
    failures = validation["failures"]
    failure_table = (
        _table(
            ["Failed check", "Rows"],
            [[_e(f.get("name", f)), _n(f.get("rows", 0))] for f in failures],
            numeric=(1,),
        )
        if failures
        else ""
    )
    scope = ", ".join(validation["residual_scope"]) or "n/a"
    skipped = ", ".join(validation["skipped"]) or "none"
    checks = _table(
        ["Suite", "Check", "Expectations"],
        [[_e(c["suite"]), _e(c["check"]), _n(c["expectations"])] for c in validation["checks"]],
        numeric=(2,),
    )
    return (
        '<section id="validation"><h2>Validation (Great Expectations)</h2>'
        f"<p>Gate {status}: {_n(validation['expectations_evaluated'])} expectations evaluated "
        f"over {_n(validation['windows'])} window(s). Residual-identifier patterns ran on "
        f"<code>{_e(scope)}</code>; skipped checks: {_e(skipped)}; bounds of the kept-text "
        "length ratio (output/original characters outside the replaced spans) "
        f"{_e(validation['ratio_bounds'])}.</p>{failure_table}{checks}</section>"
    )


def _shards(shards: list[dict[str, Any]], lineage: dict[str, Any]) -> str:
    rows = [
        [
            _e(s["name"]),
            _n(s["rows"]),
            _n(s["bytes"]),
            f'<span class="mono">{_e(s["sha256"])}</span>',
        ]
        for s in shards
    ]
    sample = ", ".join(lineage["sample"]) + (", …" if lineage["rows_this_run"] > 5 else "")
    return (
        '<section id="shards"><h2>Shards written and lineage</h2>'
        + _table(["Shard", "Rows", "Bytes", "SHA-256"], rows, numeric=(1, 2))
        + "<h3>Lineage: input note → shard and row</h3>"
        + f"<p><code>{_e(lineage['file'])}</code> beside the manifest maps each of the "
        f"{_n(lineage['rows'])} published rows ({_n(lineage['rows_this_run'])} from this run) "
        f'to its shard and row. First keyed hashes of this run: <span class="mono">{_e(sample)}'
        f"</span>.</p><p>{_e(lineage['method'])}</p>"
        "</section>"
    )


def _provenance(report: dict[str, Any]) -> str:
    run, policy = report["run"], report["policy"]
    modes = ", ".join(f"{k}: {v}" for k, v in policy["modes"].items()) or "none"
    facts = [
        ["Policy", _e(policy["policy"])],
        ["Default mode", _e(policy["default_mode"])],
        ["Per-type modes", _e(modes)],
        ["Bare years kept", _e("yes" if policy["keep_bare_years"] else "no")],
        ["Date shift range (days)", _e(policy["date_shift_days"])],
        ["Policy versions", _e(", ".join(policy["policy_versions"]))],
        ["Config hash", f'<span class="mono">{_e(run["config_hash"])}</span>'],
        ["De-id config hash", f'<span class="mono">{_e(policy["deid_config_hash"])}</span>'],
        ["Key fingerprint", f'<span class="mono">{_e(run["key_fingerprint"])}</span>'],
        ["Pipeline version", _e(run["pipeline_version"])],
        ["Output schema version", _e(run["output_schema_version"])],
        ["Prefect flow run", f'<span class="mono">{_e(run["flow_run_id"])}</span>'],
        [
            "Wall time",
            f"{_f(run['wall_seconds'], 1)} s ({_f(run['notes_per_second'], 0)} notes/s)",
        ],
    ]
    software = [
        [_e(k), f'<span class="mono">{_e(v)}</span>'] for k, v in report["software"].items()
    ]
    return (
        '<section id="provenance"><h2>Policy, configuration and software</h2>'
        f"{_table(['Setting', 'Value'], facts)}<h3>Software</h3>"
        f"{_table(['Package', 'Version'], software)}</section>"
    )


def _footer(report: dict[str, Any]) -> str:
    return (
        "<footer><p>Generated by deidflow. This page holds counts, type names, hashes and "
        "paths only — no note text and no PHI values. It makes no network request; its "
        "Content-Security-Policy forbids any. Machine-readable twin: "
        f"<code>audit_report.json</code> (schema version {_e(report['schema_version'])}). "
        "Recall is measured on the steward's annotated sample; see Method above for what "
        "the risk estimate assumes.</p></footer>"
    )


# --- charts ---------------------------------------------------------------------------


def _bar_chart(
    rows: Sequence[tuple[str, float]], *, label: str, width: int = 520, digits: int = 0
) -> str:
    """Horizontal bars, one per row, scaled to the largest value; empty note if no rows."""
    if not rows:
        return "<p><em>Nothing to chart.</em></p>"
    bar_h, gap, label_w, value_w = 18, 6, 170, 60
    plot_w = width - label_w - value_w
    top = max(float(v) for _, v in rows) or 1.0
    height = len(rows) * (bar_h + gap) + gap
    items = []
    for i, (name, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = max(1.0, plot_w * float(value) / top) if value else 0.0
        items.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end">{_e(_clip(str(name), 26))}</text>'
            f'<rect class="bar" x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="2">'
            f"<title>{_e(name)}: {_e(_num(value, digits))}</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 13}">{_e(_num(value, digits))}</text>'
        )
    return _svg(width, height, label, items, axis_x=label_w)


def _recall_chart(per_type: Sequence[dict[str, Any]], width: int = 520) -> str:
    """Recall per type on a 0–100 % axis, with the 95 % interval drawn as a line."""
    bar_h, gap, label_w, value_w = 16, 8, 170, 60
    plot_w = width - label_w - value_w
    height = len(per_type) * (bar_h + gap) + gap + 16
    axis_y = height - 14
    items = [
        f'<line class="axis" x1="{label_w + plot_w * frac:.1f}" y1="0" '
        f'x2="{label_w + plot_w * frac:.1f}" y2="{axis_y}"/>'
        f'<text x="{label_w + plot_w * frac:.1f}" y="{height - 2}" text-anchor="middle">'
        f"{int(frac * 100)} %</text>"
        for frac in (0.0, 0.5, 1.0)
    ]
    for i, t in enumerate(per_type):
        y = gap + i * (bar_h + gap)
        recall = t["recall"] or 0.0
        lo, hi = t["ci95"]
        items.append(
            f'<text x="{label_w - 8}" y="{y + 12}" text-anchor="end">{_e(_clip(t["type"], 26))}</text>'
            f'<rect class="bar" x="{label_w}" y="{y}" width="{plot_w * recall:.1f}" '
            f'height="{bar_h}" rx="2"><title>{_e(t["type"])}: {_pct(t["recall"])} '
            f"(95 % CI {_pct(lo)} – {_pct(hi)}, n={t['gold']})</title></rect>"
            f'<line class="ci" x1="{label_w + plot_w * (lo or 0):.1f}" y1="{y + bar_h / 2}" '
            f'x2="{label_w + plot_w * (hi or 0):.1f}" y2="{y + bar_h / 2}"/>'
            f'<text x="{label_w + plot_w + 6}" y="{y + 12}">{_pct(t["recall"])}</text>'
        )
    return _svg(width, height, "Full-cover recall per annotated type", items, axis_x=None)


def _svg(width: int, height: int, label: str, items: Iterable[str], axis_x: int | None) -> str:
    axis = (
        f'<line class="axis" x1="{axis_x}" y1="0" x2="{axis_x}" y2="{height}"/>'
        if axis_x is not None
        else ""
    )
    return (
        f'<svg class="chart" role="img" '
        f'aria-label="{_e(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{_e(label)}</title>{axis}{"".join(items)}</svg>'
    )


# --- small helpers --------------------------------------------------------------------


def _card(key: str, value: str, sub: str = "", *, raw: bool = False, wide: bool = False) -> str:
    shown = value if raw else _e(value)
    cls = "card wide" if wide else "card"
    return (
        f'<div class="{cls}"><div class="k">{_e(key)}</div><div class="v">{shown}</div>'
        f'<div class="s">{sub if raw else _e(sub)}</div></div>'
    )


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()
) -> str:
    """A table whose cells are already-escaped HTML; ``numeric`` columns align right."""
    head = "".join(
        f'<th class="n">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
        for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _source_label(source: dict[str, Any]) -> str:
    from pipelines.report.audit import source_label

    return source_label(source)


def _e(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    return html.escape("" if value is None else str(value), quote=True)


def _n(value: Any) -> str:
    return "–" if value is None else f"{int(value):,}"


def _f(value: Any, digits: int) -> str:
    return "–" if value is None else f"{float(value):,.{digits}f}"


def _num(value: float, digits: int) -> str:
    return f"{float(value):,.{digits}f}" if digits else f"{int(round(float(value))):,}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f} %"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
