"""Headless Chromium (Debian's ``chromium``, which ``make test`` installs) driven over its
DevTools pipe: commands on fd 3, answers on fd 4, NUL-separated JSON; no websocket library.
The preview's test and the benchmark load ``examgen serve``'s page with it."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import signal
import subprocess
import tempfile
import time
from pathlib import Path


def _above_four(fd: int) -> int:
    """The same pipe end on a descriptor above 4, so that placing the ends on 3 and 4 moves none twice."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Browser:
    """One page of a headless Chromium, of ``width`` x ``height`` CSS pixels."""

    def __init__(self, url: str, width: int = 1400, height: int = 1000):
        self.profile = tempfile.TemporaryDirectory(prefix="examgen-chromium-")
        to_browser, self._commands = os.pipe()
        self._answers, from_browser = os.pipe()
        to_browser, from_browser = (_above_four(fd) for fd in (to_browser, from_browser))
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--remote-debugging-pipe",
                 "--no-first-run", f"--user-data-dir={self.profile.name}", f"--window-size={width},{height}"]
        self.process = subprocess.Popen(  # bash puts the pipes on fds 3 and 4, where Chromium looks
            ["bash", "-c", f'exec chromium "$@" 3<&{to_browser} 4>&{from_browser}', "bash", *flags, "about:blank"],
            pass_fds=(to_browser, from_browser), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        os.close(to_browser)
        os.close(from_browser)
        self._next_id, self._buffer = 0, b""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False,
                  session=True)
        self.call("Page.navigate", url=url, session=True)

    def call(self, method: str, session: bool = False, timeout: float = 30, **params: object) -> dict:
        """Send a DevTools command and wait for its answer (events met meanwhile are dropped)."""
        self._next_id += 1
        message: dict[str, object] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self._buffer:
                ready, _, _ = select.select([self._answers], [], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    raise TimeoutError(f"Chromium did not answer {method}")
                chunk = os.read(self._answers, 1 << 20)
                if not chunk:
                    raise ConnectionError("Chromium closed its DevTools pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def evaluate(self, expression: str) -> object:
        """A JavaScript expression's value in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True,
                           session=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60) -> object:
        """Wait until a JavaScript expression is truthy in the page; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.02)
        raise TimeoutError(f"the page never satisfied {expression}")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png", session=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        """End Chromium and every process it started (its session)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        os.close(self._commands)
        os.close(self._answers)
        self.profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
