"""``examgen scan ID --review``: the scan's review page (scanning/review.py) served on 127.0.0.1,
where every decision is written to decisions.csv at once and "Apply decisions" runs the scan again
(from its cache: no image is read again), so the page shows what is left.

Answered only as the preview is (server.py's LocalHandler: its own name and page); the page is
made anew on every load from decisions.csv, so a reload loses nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http import HTTPStatus
from urllib.parse import urlsplit

from ..errors import ExamgenError
from ..scanning.review import SERVED, Review
from .server import HOST, LocalHandler, local_server

MAX_BODY = 64 * 1024  # bytes of a decision's request: a few fields


class Reviewing:
    """The review shown now, and how to run the scan again for a new one."""

    def __init__(self, review: Review, rescan: Callable[[], Review]):
        self.review, self.rescan = review, rescan
        self.lock = threading.Lock()

    def page(self) -> bytes:
        with self.lock:
            return self.review.page(SERVED).encode()

    def record(self, row: dict) -> str | None:
        with self.lock:
            return self.review.record(row)

    def apply(self) -> str | None:
        """The scan run again with the decisions; what went wrong, or None."""
        with self.lock:
            try:
                self.review = self.rescan()
            except ExamgenError as exc:
                return "\n".join(str(problem) for problem in exc.problems)
            return None


def _handler(reviewing: Reviewing) -> type[LocalHandler]:
    class Handler(LocalHandler):
        def do_GET(self) -> None:
            if not self._ours():
                self._refuse()
                return
            if urlsplit(self.path).path == "/":
                self._send(reviewing.page(), "text/html; charset=utf-8")
            else:
                self._send(b"not found\n", "text/plain", HTTPStatus.NOT_FOUND)

        def do_POST(self) -> None:
            """``/decisions``: one decision (JSON: code, part, decision, bundle, page); ``/apply``: the scan
            run again with them."""
            if not self._ours(posting=True):
                self._refuse()
                return
            path = urlsplit(self.path).path
            if path == "/decisions":
                length = int(self.headers.get("Content-Length") or 0)
                if not 0 < length <= MAX_BODY:
                    self._send(b"a decision is a small JSON object\n", "text/plain", HTTPStatus.BAD_REQUEST)
                    return
                try:
                    row = json.loads(self.rfile.read(length))
                except ValueError:
                    row = None
                problem = reviewing.record(row) if isinstance(row, dict) else "a decision is a JSON object"
            elif path == "/apply":
                problem = reviewing.apply()
            else:
                self._send(b"not found\n", "text/plain", HTTPStatus.NOT_FOUND)
                return
            if problem:
                self._send(f"{problem}\n".encode(), "text/plain; charset=utf-8", HTTPStatus.BAD_REQUEST)
            else:
                self._send(b"", "text/plain", HTTPStatus.NO_CONTENT)

    return Handler


def serve_review(review: Review, rescan: Callable[[], Review], port: int, announce: Callable[[str], None],
                 until: Callable[[], None]) -> None:
    """Serve the review until ``until`` returns (a stop): ``announce`` gets its address."""
    server = local_server(port, _handler(Reviewing(review, rescan)))
    thread = threading.Thread(target=server.serve_forever, name="examgen-review", daemon=True)
    thread.start()
    try:
        announce(f"http://{HOST}:{server.server_address[1]}/")
        until()
    finally:
        server.shutdown()
        server.server_close()
