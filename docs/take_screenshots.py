"""Take the README's screenshots with headless Chromium (Debian ``chromium``).

    python docs/take_screenshots.py --report out/sample/audit_report.html \\
        --server http://127.0.0.1:4200 --flow-run <flow run id> --out docs/

Writes ``audit-report.png`` (the top of the HTML report), and with ``--server`` and
``--flow-run`` also ``prefect-flow-run.png`` (the run's page in the Prefect UI) and
``prefect-run-summary.png`` (the run's summary artifact).  Uses the DevTools helper of
the browser tests, so run it from the repository root.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.chromium import browser, ensure_chromium  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report", type=Path, help="an audit_report.html")
    ap.add_argument("--server", help="Prefect server URL, e.g. http://127.0.0.1:4200")
    ap.add_argument("--flow-run", help="flow run ID to show")
    ap.add_argument("--out", type=Path, default=Path("docs"))
    args = ap.parse_args()
    binary, why = ensure_chromium()
    if binary is None:
        print(f"no chromium: {why}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    if args.report:
        with browser(binary, width=1280, height=1900) as page:
            load = page.load(args.report.resolve().as_uri(), settle=0.5)
            assert load.requests == [args.report.resolve().as_uri()], load.requests
            print(page.screenshot(args.out / "audit-report.png"))
    if args.server and args.flow_run:
        with browser(binary, width=1440, height=1000) as page:
            page.load(f"{args.server}/runs/flow-run/{args.flow_run}", settle=4)
            print(page.screenshot(args.out / "prefect-flow-run.png"))
            artifact = _summary_artifact(args.server, args.flow_run)
            page.load(f"{args.server}/artifacts/artifact/{artifact}", settle=3)
            time.sleep(1)
            print(page.screenshot(args.out / "prefect-run-summary.png"))
    return 0


def _summary_artifact(server: str, flow_run: str) -> str:
    body = {"artifacts": {"flow_run_id": {"any_": [flow_run]}, "type": {"any_": ["markdown"]}}}
    request = urllib.request.Request(
        f"{server}/api/artifacts/filter",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - local server
        (artifact,) = json.load(reply)
    return artifact["id"]


if __name__ == "__main__":
    sys.exit(main())
