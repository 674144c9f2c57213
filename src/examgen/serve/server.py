"""The preview: a page on 127.0.0.1 that shows the student and the solution view side by side,
page by page (with variants, of the variant chosen on the page), and refreshes itself
(server-sent events) after every build.

The server answers a fixed set of paths and serves nothing from the file system by name: a
page image is looked up by its digest among the images of the current pages, so no URL (``/../exam.yaml``,
``/%2e%2e/``) can reach a file. It answers only requests addressed to it by name (``Host``:
127.0.0.1 or localhost with its port) and, from a browser, only its own page's (``Origin``,
``Sec-Fetch-Site``): another site's page, even one whose name was rebound to 127.0.0.1, gets
403 and never the solutions.
"""

from __future__ import annotations

import errno
import json
import re
import tempfile
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ..errors import EnvironmentProblem, ExamgenError
from ..project import Target
from .loop import Outcome, rebuild_on_change
from .pages import PageImages

HOST = "127.0.0.1"  # the preview is for the examiner at this machine, never the network
KEEPALIVE_SECONDS = 15  # an idle event stream sends a comment this often: a closed page is noticed
IMAGE = re.compile(r"/pages/([0-9a-f]{64})\.png")
SHOWN = re.compile(r"/shown/([0-9]{1,12})")
LOCAL_NAMES = ("127.0.0.1", "localhost")  # the names a Host header may give the preview by
OWN_SITE = (None, "same-origin", "none")  # Sec-Fetch-Site of the preview's own requests (none: typed in)


class Preview:
    """What the page shows, shared by the loop (which changes it) and the requests (which read it):
    the last good pages, the last build's errors and warnings, a generation counted up on every change."""

    def __init__(self, images: PageImages, exam_id: str):
        self.images = images
        self.changed = threading.Condition()
        self.generation = 0
        self.closed = False
        self.on_screen: str | None = None  # the variant the page shows: its views compile first
        self.state: dict[str, object] = {"exam": exam_id, "status": "building", "errors": [], "warnings": [],
                                         "pages": {}, "variants": [], "build_seconds": None,
                                         "shown": {"generation": 0, "at": None}}

    def publish(self, **changes: object) -> None:
        with self.changed:
            self.generation += 1
            self.state.update(changes)
            self.changed.notify_all()

    def snapshot(self) -> bytes:
        with self.changed:
            return json.dumps({**self.state, "generation": self.generation}).encode()

    def image(self, digest: str) -> Path | None:
        with self.changed:
            return self.images.images.get(digest)

    def shown(self, generation: int, variant: str | None = None) -> bool:
        """A page reports that it shows this generation's pages (of ``variant``): the first report of
        the newest generation is kept, with its time.monotonic() (the benchmark reads it). False for a
        generation there has not been."""
        with self.changed:
            if generation > self.generation:
                return False
            variants = self.state["variants"]
            assert isinstance(variants, list)
            if variant in variants:
                self.on_screen = variant
            shown = self.state["shown"]
            assert isinstance(shown, dict)
            if generation > shown["generation"]:
                self.state["shown"] = {"generation": generation, "at": time.monotonic()}
            return True

    def wait(self, generation: int) -> int | None:
        """The generation after ``generation`` once there is one (None on timeout or when closed)."""
        with self.changed:
            self.changed.wait_for(lambda: self.closed or self.generation != generation, KEEPALIVE_SECONDS)
            return None if self.closed or self.generation == generation else self.generation

    def close(self) -> None:
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def built(self, outcome: Outcome) -> None:
        """A build's outcome: new pages (only changed ones rendered) or errors over the last good pages."""
        if outcome.result is None:
            self.publish(status="failed", errors=list(outcome.errors), warnings=[], build_seconds=outcome.seconds)
            return
        pdfs = {view: pdf for view, pdf in outcome.pdfs.items()  # a view LaTeX did not run for stands
                if view in outcome.result.compiled or view not in self.images.pages}
        try:
            with self.changed:  # under the lock: no request sees an image half made
                pages = self.images.update(pdfs, outcome.pdfs)
        except ExamgenError as exc:  # pdftoppm failed: the page says so over the last pages it has
            self.publish(status="failed", errors=[str(exc)], warnings=[], build_seconds=outcome.seconds)
            return
        self.publish(status="ok", errors=[], warnings=outcome.result.warnings, pages=pages,
                     variants=list(outcome.variants), build_seconds=outcome.seconds)

    def first_built(self, pdfs: dict[str, Path], seconds: float) -> None:
        """The variant on screen compiled before the others: its new pages at once (the build's
        checks and the other variants follow)."""
        names = {name.removesuffix(".pdf"): pdf for name, pdf in pdfs.items()}
        try:
            with self.changed:
                pages = self.images.update(names, set(self.images.pages) | set(names))
        except ExamgenError:
            return  # the whole build's outcome says so
        variant = next(iter(names)).partition("/")[0]
        self.publish(status="first", pages=pages, build_seconds=seconds,
                     first={"variant": variant, "generation": self.generation + 1,  # the loop alone publishes
                            "seconds": seconds})


class LocalHandler(BaseHTTPRequestHandler):
    """A request to a server of examgen's on 127.0.0.1 (the preview, the scan's review): answered quietly,
    and only when it comes from the server's own page."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Quiet: the terminal shows what the server does, not every request."""

    def _send(self, body: bytes, content_type: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache" if content_type != "image/png" else "max-age=86400")
        self.end_headers()
        self.wfile.write(body)

    def _ours(self, posting: bool = False) -> bool:
        """Whether the request is addressed to this server by name, not by a name rebound to
        127.0.0.1, and comes from its own page or no page at all (a command line client, an
        address typed in). A post must say its origin: a browser always does."""
        port = self.connection.getsockname()[1]  # the port this server listens on
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1 or hosts[0].lower() not in {f"{name}:{port}" for name in LOCAL_NAMES}:
            return False
        origin = self.headers.get("Origin")
        if origin is None and posting:
            return False
        return (origin is None or origin.lower() == f"http://{hosts[0].lower()}") and \
            self.headers.get("Sec-Fetch-Site") in OWN_SITE

    def _refuse(self) -> None:
        self._send(b"forbidden: this server answers only its own page\n", "text/plain", HTTPStatus.FORBIDDEN)


def _handler(preview: Preview) -> type[BaseHTTPRequestHandler]:
    page = files(__package__).joinpath("page.html").read_bytes()

    class Handler(LocalHandler):
        def do_GET(self) -> None:
            if not self._ours():
                self._refuse()
                return
            path = urlsplit(self.path).path  # as sent: never unquoted, never joined to a folder
            if path == "/":
                self._send(page, "text/html; charset=utf-8")
            elif path == "/state":
                self._send(preview.snapshot(), "application/json")
            elif path == "/events":
                self._events()
            elif (match := IMAGE.fullmatch(path)) and (image := preview.image(match.group(1))):
                self._send(image.read_bytes(), "image/png")
            else:
                self._send(b"not found\n", "text/plain", HTTPStatus.NOT_FOUND)

        def do_POST(self) -> None:
            """``/shown/<generation>?variant=B``: the page's report that it shows a build (for the benchmark),
            and which variant (whose views the next build compiles first)."""
            if not self._ours(posting=True):
                self._refuse()
                return
            address = urlsplit(self.path)
            match = SHOWN.fullmatch(address.path)
            variant = parse_qs(address.query).get("variant", [None])[0]
            if match and preview.shown(int(match.group(1)), variant):
                self._send(b"", "text/plain", HTTPStatus.NO_CONTENT)
            elif match:
                self._send(b"no such build\n", "text/plain", HTTPStatus.BAD_REQUEST)
            else:
                self._send(b"not found\n", "text/plain", HTTPStatus.NOT_FOUND)

        def _events(self) -> None:
            """An event per new generation, until the page or the server goes away."""
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            generation = -1  # a new page gets the current state at once
            try:
                while not preview.closed:
                    newer = preview.wait(generation)
                    self.wfile.write(b": still here\n\n" if newer is None else f"data: {newer}\n\n".encode())
                    self.wfile.flush()
                    generation = newer if newer is not None else generation
            except (BrokenPipeError, ConnectionResetError):
                return

    return Handler


def local_server(port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """The HTTP server on 127.0.0.1:port; a port in use or not ours to take is a clear error."""
    try:
        server = ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise EnvironmentProblem(f"port {port} on {HOST} is in use (another examgen serve?): "
                                     f"choose another with --port") from None
        if exc.errno == errno.EACCES:
            raise EnvironmentProblem(f"port {port} on {HOST} may not be used by this user: choose one "
                                     f"above 1023 with --port") from None
        raise
    server.daemon_threads = True  # a page's event stream does not hold up the end
    return server


def serve(target: Target, port: int, announce: Callable[[str], None], building: Callable[[list[Path]], None],
          built: Callable[[Outcome], None]) -> None:
    """Serve the preview of ``target`` until a stop: ``announce`` gets its address, ``building`` and
    ``built`` what the loop tells (for the terminal)."""
    with tempfile.TemporaryDirectory(prefix="examgen-serve-") as folder:
        preview = Preview(PageImages(Path(folder)), target.id)
        server = local_server(port, _handler(preview))
        thread = threading.Thread(target=server.serve_forever, name="examgen-serve", daemon=True)
        thread.start()
        announce(f"http://{HOST}:{server.server_address[1]}/")

        def started(changed: list[Path]) -> None:
            building(changed)
            if changed:
                preview.publish(status="building")

        def finished(outcome: Outcome) -> None:
            preview.built(outcome)
            built(outcome)

        try:
            rebuild_on_change(target, started, finished, lambda: preview.on_screen, preview.first_built)
        finally:
            preview.close()
            server.shutdown()
            server.server_close()
