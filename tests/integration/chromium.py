"""Headless Chromium driven over the DevTools protocol: load a page, see every request it
makes, measure what it rendered, take a screenshot.

Uses Debian's ``chromium`` (``/usr/bin/chromium``); when it is missing and we are root
with apt, installs it first (playwright's own browser download does not work offline).
Only the page's own target is watched, so the browser's background traffic (update
checks and the like) is not mistaken for requests made by the page.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # tests may run as root in a container
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def ensure_chromium() -> tuple[str | None, str]:
    """The Chromium binary (installing Debian's package if root), or ``None`` and why not."""
    found = find_chromium()
    if found:
        return found, ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "chromium is not installed (apt-get install chromium) and we are not root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
    ):
        done = subprocess.run(cmd, env=env, capture_output=True, timeout=900)
        if done.returncode != 0:
            return None, f"{' '.join(cmd)} exited {done.returncode}"
    found = find_chromium()
    return found, "" if found else "chromium still missing after apt-get install"


@dataclass
class PageLoad:
    """What one navigation did: requests by URL, requests blocked (and why), console errors."""

    requests: list[str] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)
    console_errors: list[str] = field(default_factory=list)


class Browser:
    """One headless Chromium process and one page (tab) in it."""

    def __init__(self, binary: str, width: int = 1280, height: int = 900) -> None:
        from websockets.sync.client import connect

        self._profile = Path(tempfile.mkdtemp(prefix="deidflow-chromium-"))
        self._proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port, path = self._devtools_endpoint()
            self._ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=20)
            self._ids = itertools.count(1)
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            attached = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})
            self._session = attached["sessionId"]
            for domain in ("Page", "Network", "Runtime", "Log"):
                self.send(f"{domain}.enable")
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
        except BaseException:
            self.close()
            raise
        self._events: list[dict[str, Any]] = []

    # -- protocol ----------------------------------------------------------------------
    def _devtools_endpoint(self, timeout: float = 300.0) -> tuple[str, str]:
        port_file = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self._proc.returncode}")
            if port_file.is_file():
                lines = port_file.read_text().split()
                if len(lines) >= 2:
                    return lines[0], lines[1]
            time.sleep(0.05)
        raise TimeoutError("chromium did not open its DevTools port")

    def _call(self, method: str, params: dict[str, Any] | None = None, **extra: Any) -> Any:
        msg_id = next(self._ids)
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}, **extra}))
        while True:
            message = json.loads(self._ws.recv(timeout=60))
            if message.get("id") == msg_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message and hasattr(self, "_events"):
                self._events.append(message)

    def send(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """A command to the page's session."""
        return self._call(method, params, sessionId=self._session)

    def _pump(self, until: float) -> None:
        """Collect events until the deadline."""
        while (left := until - time.monotonic()) > 0:
            try:
                message = json.loads(self._ws.recv(timeout=left))
            except TimeoutError:
                return
            if "method" in message:
                self._events.append(message)

    # -- what tests use ----------------------------------------------------------------
    def load(self, url: str, settle: float = 1.0, timeout: float = 300.0) -> PageLoad:
        """Navigate, wait for the load event plus ``settle`` seconds, report the requests."""
        self._events = []
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while not any(e["method"] == "Page.loadEventFired" for e in self._events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"page did not load: {url}")
            self._pump(min(deadline, time.monotonic() + 0.2))
        self._pump(time.monotonic() + settle)
        result = PageLoad()
        for event in self._events:
            params = event.get("params", {})
            if event["method"] == "Network.requestWillBeSent":
                result.requests.append(params["request"]["url"])
            elif event["method"] == "Network.loadingFailed" and params.get("blockedReason"):
                result.blocked[params["requestId"]] = params["blockedReason"]
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                result.console_errors.append(params["entry"].get("text", ""))
        return result

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page (DevTools is not bound by the page's CSP)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluation failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": size["height"],
                "scale": 1,
            }
        data = self.send("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def send_screenshot(self, path: Path, clip: dict[str, float]) -> Path:
        """A PNG of the page region ``clip`` (``x``, ``y``, ``width``, ``height`` in CSS px)."""
        params = {"format": "png", "captureBeyondViewport": True, "clip": {**clip, "scale": 1}}
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", params)["data"]))
        return path

    def close(self) -> None:
        ws = getattr(self, "_ws", None)
        if ws is not None:
            ws.close()
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        shutil.rmtree(self._profile, ignore_errors=True)


@contextmanager
def browser(binary: str, width: int = 1280, height: int = 900) -> Iterator[Browser]:
    """A headless Chromium page, closed (process ended) afterwards."""
    b = Browser(binary, width, height)
    try:
        yield b
    finally:
        b.close()
