"""Drive the distribution's headless Chromium from the standard library.

``screenshot`` runs the plain ``--screenshot`` mode. ``Session`` speaks the DevTools
protocol over ``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-separated JSON), so
a test can load a page, collect console errors and network requests, switch to the dark
scheme and capture a full-page PNG without any websocket client.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--mute-audio",
]


def find_chromium() -> str | None:
    """Return the path of a Chromium binary, or None when none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def screenshot(
    exe: str, url: str, png: Path, profile: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """Run Chromium's ``--screenshot`` mode on ``url``; return the finished process."""
    cmd = [
        exe,
        *FLAGS,
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        f"--screenshot={png}",
        "--window-size=1280,2000",
        *extra,
        url,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


class Session:
    """One headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(self, exe: str, profile: Path) -> None:
        to_child, self._w = os.pipe()
        self._r, from_child = os.pipe()

        def wire() -> None:  # runs in the child: the pipe protocol wants fds 3 and 4
            high_in = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10)  # out of the way of 3 and 4
            high_out = fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire,
        )
        os.close(to_child)
        os.close(from_child)
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self._r], [], [], wait)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise ConnectionError("Chromium closed the DevTools pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        page: bool = False,
        timeout: float = 30,
    ) -> dict[str, Any]:
        """Send one command (to the page when ``page``) and return its result; events seen
        meanwhile are kept in ``events``."""
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if page:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        """Wait until an event named ``method`` has arrived."""
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read(deadline))

    def load(self, url: str, *, dark: bool = False, width: int = 1280, height: int = 2000) -> None:
        """Open ``url`` in the page with the given viewport and colour scheme; wait for load."""
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.call(f"{domain}.enable", page=True)
        scheme = "dark" if dark else "light"
        self.call(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
            page=True,
        )
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            page=True,
        )
        self.call("Page.navigate", {"url": url}, page=True)
        self.wait_for("Page.loadEventFired")
        self.call("Runtime.evaluate", {"expression": "1"}, page=True)  # let late events land

    def png(self, path: Path, *, full_page: bool = False) -> None:
        """Write a PNG of the viewport, or of the whole page when ``full_page``."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics", page=True)["cssContentSize"]
            params |= {
                "captureBeyondViewport": True,
                "clip": {
                    "x": 0,
                    "y": 0,
                    "width": size["width"],
                    "height": size["height"],
                    "scale": 1,
                },
            }
        data = self.call("Page.captureScreenshot", params, page=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def console_errors(self) -> list[str]:
        """Messages of console errors, uncaught exceptions and error log entries so far."""
        out = []
        for e in self.events:
            method, p = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif method == "Runtime.exceptionThrown":
                out.append(p["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(p["entry"].get("text", ""))
        return out

    def requests(self) -> list[str]:
        """URLs of every network request the page made (or tried to make) so far."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def close(self) -> None:
        """Close the browser and the pipe."""
        try:
            self.call("Browser.close", timeout=10)
        except (ConnectionError, TimeoutError, RuntimeError):
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
