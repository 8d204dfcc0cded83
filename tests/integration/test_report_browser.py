"""The HTML audit report as a steward's browser shows it: charts painted, no request made.

Renders a report in headless Chromium (Debian ``chromium``), watches every request the
page makes through the DevTools protocol, and samples the screenshot's pixels inside
every chart bar.  Two controls prove the watch can fail: the same page with an external
image shows the request, and our Content-Security-Policy blocks it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.report.html import render_html
from pipelines.report.risk import SampleInfo, estimate_risk
from tests.integration.chromium import Browser, browser, ensure_chromium
from tests.integration.png import read_png
from tests.pipelines.report.helpers import evaluation, write_run

pytestmark = pytest.mark.integration

ACCENT = (0x2F, 0x6D, 0xB5)  # svg.chart .bar fill
EXTERNAL = "http://127.0.0.1:9/tracker.png"

_CHARTS_JS = """[...document.querySelectorAll("svg.chart")].map(s => {
  const r = s.getBoundingClientRect();
  return {label: s.getAttribute("aria-label"), x: r.left + scrollX, y: r.top + scrollY,
    w: r.width, h: r.height,
    bars: [...s.querySelectorAll("rect.bar")].map(b => {
      const q = b.getBoundingClientRect();
      return [q.left - r.left, q.top - r.top, q.width, q.height]; })}; })"""


@pytest.fixture(scope="module")
def chromium() -> str:
    binary, why = ensure_chromium()
    if binary is None:
        pytest.skip(why)
    return binary


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report with an estimated risk (all four charts), as the pipeline writes it."""
    tmp = tmp_path_factory.mktemp("browser")
    out, report = write_run(tmp)
    report["risk"] = estimate_risk(
        evaluation(90, 100),
        phi_per_note=2.0,
        notes_in_run=5,
        sample=SampleInfo("my-sample.jsonl", "c" * 64),
        detector_config_hash="d" * 64,
    )
    page = out / "audit_report.html"
    page.write_text(render_html(report), encoding="utf-8")
    return page


@pytest.fixture(scope="module")
def page_browser(chromium: str) -> Iterator[Browser]:
    with browser(chromium, width=1280, height=1000) as b:
        yield b


def test_report_page_makes_no_request(page_browser: Browser, report_page: Path) -> None:
    load = page_browser.load(report_page.as_uri(), settle=0.5)
    assert load.requests == [report_page.as_uri()]  # the file itself, nothing else
    assert load.blocked == {} and load.console_errors == []


def test_every_chart_bar_is_painted(
    page_browser: Browser, report_page: Path, tmp_path: Path
) -> None:
    page_browser.load(report_page.as_uri(), settle=0.2)
    charts = page_browser.evaluate(_CHARTS_JS)
    assert [c["label"] for c in charts] == [
        "Full-cover recall per annotated type",
        "PHI spans by type",
        "PHI spans per 1,000 tokens by note type",
        "Spans by operator",
    ]
    sampled = 0
    for i, chart in enumerate(charts):
        assert chart["w"] > 200 and chart["h"] > 20 and chart["bars"]
        clip = {"x": chart["x"], "y": chart["y"], "width": chart["w"], "height": chart["h"]}
        shot = tmp_path / f"chart-{i}.png"
        page_browser.send_screenshot(shot, clip)
        image = read_png(shot)
        for x, y, w, _h in chart["bars"]:
            if w < 6:  # a bar for a tiny value is a sliver: anti-aliased, not sampled
                continue
            pixel = image.pixel(int(x + 3), int(y + 3))  # inside, clear of the CI line
            assert all(abs(a - b) <= 4 for a, b in zip(pixel, ACCENT, strict=True)), (
                f"{chart['label']}: bar at ({x:.0f}, {y:.0f}) painted {pixel}"
            )
            sampled += 1
        blank = image.pixel(int(chart["w"]) - 2, 1)  # top-right corner: background
        assert blank == (255, 255, 255)
    assert sampled >= 8


def test_watch_sees_an_external_request_and_the_csp_blocks_it(
    page_browser: Browser, report_page: Path, tmp_path: Path
) -> None:
    html = report_page.read_text(encoding="utf-8")
    injected = html.replace("</main>", f'<img src="{EXTERNAL}" alt=""></main>')
    with_csp = tmp_path / "with-csp.html"
    with_csp.write_text(injected, encoding="utf-8")
    without_csp = tmp_path / "without-csp.html"
    without_csp.write_text(
        re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", injected), encoding="utf-8"
    )

    open_page = page_browser.load(without_csp.as_uri(), settle=0.5)
    assert EXTERNAL in open_page.requests and "csp" not in open_page.blocked.values()

    guarded = page_browser.load(with_csp.as_uri(), settle=0.5)
    assert EXTERNAL in guarded.requests  # attempted ...
    assert list(guarded.blocked.values()) == ["csp"]  # ... and refused by the browser
