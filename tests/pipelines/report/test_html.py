"""The HTML page: self-contained, no request possible, charts present, values escaped."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.report.html import CSP, render_html
from pipelines.report.risk import SampleInfo, estimate_risk
from tests.pipelines.report.helpers import evaluation, write_run

# Anything that could make a browser fetch: URLs, src/href, CSS url()/@import, scripts.
_FETCHING = re.compile(
    r"(?i)https?:|//[a-z0-9]|\bsrc\s*=|\bhref\s*=|url\(|@import|<script|<link|<iframe|<img"
)


def _page(tmp_path: Path, estimated: bool) -> tuple[dict, str]:
    _, report = write_run(tmp_path)
    if estimated:
        report["risk"] = estimate_risk(
            evaluation(90, 100),
            phi_per_note=2.0,
            notes_in_run=5,
            sample=SampleInfo("my-sample.jsonl", "c" * 64),
            detector_config_hash="d" * 64,
        )
    return report, render_html(report)


def test_page_cannot_fetch_anything(tmp_path: Path) -> None:
    _, page = _page(tmp_path, estimated=True)
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "default-src 'none'" in CSP
    # The CSP meta itself is the only "http" in the page.
    assert _FETCHING.findall(page.replace('http-equiv="Content-Security-Policy"', "")) == []


def test_charts_have_one_bar_per_row(tmp_path: Path) -> None:
    report, page = _page(tmp_path, estimated=True)
    charts = re.findall(r'<svg class="chart".*?</svg>', page, flags=re.S)
    labels = [re.search(r'aria-label="([^"]*)"', c).group(1) for c in charts]
    assert labels == [
        "Full-cover recall per annotated type",
        "PHI spans by type",
        "PHI spans per 1,000 tokens by note type",
        "Spans by operator",
    ]
    bars = [len(re.findall(r'<rect class="bar"', c)) for c in charts]
    assert bars == [2, 2, len(report["phi"]["by_note_type"]), 3]
    widths = [
        float(w) for w in re.findall(r'class="bar" x="\d+" y="\d+" width="([\d.]+)"', charts[1])
    ]
    assert widths[0] > widths[1] > 0  # DATE 6 > PERSON 4, scaled to the largest


def test_headline_states_the_estimate_with_its_interval(tmp_path: Path) -> None:
    report, page = _page(tmp_path, estimated=True)
    leaks = report["risk"]["expected_leaks_per_10k_notes"]
    lo, hi = leaks["ci95"]
    assert f"{leaks['estimate']:,.1f} <small>per 10,000 notes</small>" in page
    assert f"95 % CI {lo:,.1f} – {hi:,.1f}" in page
    assert "full-cover recall <strong>90.0 %</strong>" in page
    assert "Assumptions" in page and "conservative" in page


def test_without_a_sample_the_page_says_so_and_how_to_provide_one(tmp_path: Path) -> None:
    _, page = _page(tmp_path, estimated=False)
    assert "not estimated" in page
    assert "deidflow report RUN_DIR --gold SAMPLE" in page
    assert "Full-cover recall per annotated type" not in page


def test_empty_run_renders(tmp_path: Path) -> None:
    report, _ = _page(tmp_path, estimated=False)
    report["phi"].update(by_type={}, by_note_type=[], total=0, per_note=None, per_1000_tokens=None)
    report["phi"]["by_source"][0].update(total=0, by_type={})
    report.update(operators={}, shards=[])
    report["lineage"].update(rows=0, rows_this_run=0, sample=[])
    page = render_html(report)
    assert "Nothing to chart" in page and page.rstrip().endswith("</html>")
