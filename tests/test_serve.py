"""``examgen serve`` and ``examgen watch``: a new exam previewed in headless Chromium, edited,
broken and stopped; the server's paths; a port in use."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path

import pytest
from browser import Browser
from support import REPO

from examgen.stages.check import part_pages, read_view

EXAMGEN = [sys.executable, "-m", "examgen.cli"]
URL = re.compile(rb"preview at (http://127\.0\.0\.1:(\d+)/)")
PAGE_DIGESTS = "[...document.querySelectorAll('img[data-view=\"{view}\"]')].map(i => i.dataset.digest)"


def _session_processes(session: int) -> list[int]:
    """The processes of a session (the serve process and all it started), from /proc."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = Path(entry.path, "stat").read_bytes().rpartition(b")")[2].split()
            except OSError:
                continue
            if int(fields[3]) == session and fields[0] != b"Z":
                found.append(int(entry.name))
    return found


class Served:
    """``examgen serve`` running in a project folder, as an examiner starts it."""

    def __init__(self, root: Path, exam: str):
        self.process = subprocess.Popen([*EXAMGEN, "serve", exam, "--port", "0"], cwd=root, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        match = URL.search(first)
        assert match, first
        self.url, self.port = match.group(1).decode(), int(match.group(2))

    def status(self, path: str, **headers: str) -> int:
        """The HTTP status of a GET of ``path`` exactly as written (no client normalises it)."""
        return self.ask("GET", path, **headers)[0]

    def ask(self, method: str, path: str, **headers: str) -> tuple[int, bytes]:
        """A request's status and body; ``headers`` as given (``Sec_Fetch_Site`` for Sec-Fetch-Site),
        Host 127.0.0.1:<port> unless they name another."""
        connection = HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request(method, path, headers={name.replace("_", "-"): value for name, value in headers.items()})
        response = connection.getresponse()
        answer = response.status, response.read()
        connection.close()
        return answer

    def stop(self) -> tuple[int, str]:
        """SIGINT, as Ctrl-C sends it; the exit code and what it printed."""
        self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=30)
        return self.process.returncode, output.decode()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh project with one exam, as ``examgen new`` starts it."""
    subprocess.run([*EXAMGEN, "new", "demo"], cwd=tmp_path, check=True, capture_output=True)
    return tmp_path


def _edit(exam_file: Path, old: str, new: str) -> None:
    text = exam_file.read_text()
    assert old in text
    exam_file.write_text(text.replace(old, new))


@pytest.mark.latex
@pytest.mark.browser
def test_preview_follows_edits_shows_errors_and_stops(project: Path, tmp_path: Path) -> None:
    exam_file = project / "exams" / "demo" / "exam.yaml"
    served = Served(project, "demo")
    try:
        with Browser(served.url) as browser:
            browser.wait_for("document.body.dataset.status === 'ok'")
            reported = "fetch(`/shown/${document.body.dataset.generation}`, {method: 'POST'}).then(r => r.status)"
            assert browser.evaluate(reported) == 204  # Chromium's own post passes the same-origin check
            before = {view: browser.evaluate(PAGE_DIGESTS.format(view=view)) for view in ("student", "solution")}
            assert all(before.values()) and all(all(pages) for pages in before.values())
            browser.screenshot(tmp_path / "1-built.png")
            solution_pdf = project / "build" / "demo" / "solution.pdf"
            page = part_pages(read_view(solution_pdf, solution=True))["1.2"]
            generation = browser.evaluate("Number(document.body.dataset.generation)")
            browser.evaluate(f"document.querySelectorAll('.row')[{page - 1}].scrollIntoView()")
            scrolled = browser.evaluate("window.scrollY")
            assert scrolled > 0

            _edit(exam_file, r"$s = \sqrt{2", r"The side is $s = \sqrt{2")  # the sample solution of part 1.2
            browser.wait_for(f"Number(document.body.dataset.generation) > {generation} "
                             "&& document.body.dataset.status === 'ok'")
            assert browser.evaluate("window.scrollY") == scrolled  # the page stays where the examiner was
            browser.screenshot(tmp_path / "2-edited.png")
            after = {view: browser.evaluate(PAGE_DIGESTS.format(view=view)) for view in ("student", "solution")}
            assert after["student"] == before["student"]  # a solution's edit leaves the student view as it was
            changed = [number for number, (old, new) in enumerate(zip(before["solution"], after["solution"]), 1)
                       if old != new]
            assert changed == [page]
            image = f"/pages/{after['solution'][page - 1]}.png"
            assert urllib.request.urlopen(served.url.rstrip("/") + image).read().startswith(b"\x89PNG")

            _edit(exam_file, "The side is", r"The side is \notamacro")
            errors = browser.wait_for("document.body.dataset.status === 'failed' "
                                      "&& document.getElementById('errors').textContent")
            assert re.search(r"exams/demo/exam\.yaml:\d+: part 1\.2: LaTeX error: Undefined control sequence", errors)
            assert browser.evaluate(PAGE_DIGESTS.format(view="solution")) == after["solution"]  # the last good pages
            browser.screenshot(tmp_path / "3-broken.png")
            assert browser.evaluate("document.querySelector('.row img').naturalWidth") > 500

        for path in ("/../exam.yaml", "/%2e%2e/exam.yaml", "/%2e%2e/%2e%2e/etc/passwd", "/pages/../exam.yaml",
                     f"/pages/{'0' * 64}.png", "/exams/demo/exam.yaml", "/build/demo/solution.pdf"):
            assert served.status(path) == 404, path
        for host in ("evil.example", f"evil.example:{served.port}"):  # a page whose name was rebound to us
            assert served.status(image, Host=host) == 403 and served.status("/state", Host=host) == 403
    finally:
        code, output = served.stop()
    assert code == 0, output
    assert "stopped" in output and "Traceback" not in output
    assert _session_processes(served.process.pid) == []


@pytest.fixture
def served_broken(project: Path) -> Iterator[Served]:
    """``examgen serve`` of an exam that does not load: the server runs, and no LaTeX does."""
    (project / "exams" / "demo" / "exam.yaml").write_text("course: [\n")
    served = Served(project, "demo")
    connection = HTTPConnection("127.0.0.1", served.port, timeout=60)
    connection.request("GET", "/events")
    events = connection.getresponse()
    while events.readline() != b"data: 1\n":  # the first build's failure is published
        pass
    connection.close()
    yield served
    code, output = served.stop()
    assert code == 0, output


def _listening(port: int) -> list[str]:
    """The local addresses (hex, as /proc/net/tcp and tcp6 give them) of the sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, _, state = line.split()[1:4]
            address, _, local_port = local.partition(":")
            if state == "0A" and int(local_port, 16) == port:
                found.append(address)
    return found


def test_the_preview_listens_on_the_loopback_interface_only(served_broken: Served) -> None:
    assert _listening(served_broken.port) == ["0100007F"]  # 127.0.0.1; 0.0.0.0 would be every interface


def test_the_preview_answers_only_requests_to_its_own_name_from_its_own_page(served_broken: Served) -> None:
    """A page of another site (its name rebound to 127.0.0.1, or posting across origins) gets 403."""
    port = served_broken.port
    ours = f"http://127.0.0.1:{port}"
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        assert served_broken.ask("GET", "/state", Host=host)[0] == 200, host
    assert served_broken.status("/state", Origin=ours, Sec_Fetch_Site="same-origin") == 200
    assert served_broken.status("/", Sec_Fetch_Site="none") == 200  # the address typed in
    for refused in ({"Host": "evil.example"}, {"Host": f"evil.example:{port}"}, {"Host": f"127.0.0.1:{port + 1}"},
                    {"Host": "127.0.0.1"}, {"Origin": "http://evil.example"}, {"Origin": "null"},
                    {"Origin": f"http://localhost:{port}"}, {"Sec_Fetch_Site": "cross-site"},
                    {"Sec_Fetch_Site": "same-site"}):
        for path in ("/", "/state", "/events", f"/pages/{'0' * 64}.png"):
            status, body = served_broken.ask("GET", path, **refused)
            assert (status, body) == (403, b"forbidden: this server answers only its own page\n"), (refused, path)
    assert served_broken.ask("POST", f"/shown/{10 ** 24}", Origin="http://evil.example")[0] == 403
    assert served_broken.ask("POST", "/shown/1")[0] == 403  # a browser's post says its origin
    assert served_broken.ask("POST", "/shown/1", Origin=ours, Sec_Fetch_Site="cross-site")[0] == 403
    assert served_broken.ask("POST", "/shown/1", Origin=ours)[0] == 204  # the failed first build is generation 1
    assert served_broken.ask("POST", "/shown/2", Origin=ours)[0] == 400  # no such build yet
    assert served_broken.ask("POST", f"/shown/{10 ** 24}", Origin=ours)[0] == 404
    assert json.loads(served_broken.ask("GET", "/state")[1])["shown"]["generation"] == 1


@pytest.mark.parametrize("path", [
    "/pages/../../../../../../../../etc/passwd", "/pages/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/pages/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", "/pages/%2fetc%2fpasswd", "/pages//etc/passwd",
    "/pages/../../../../../../../../etc/passwd.png", "//etc/passwd", "/../../../../../../etc/passwd",
    "/pages/%252e%252e/%252e%252e/etc/passwd"])
def test_no_path_reaches_a_file(served_broken: Served, path: str) -> None:
    assert served_broken.ask("GET", path) == (404, b"not found\n")


def test_an_open_event_stream_gets_a_new_build_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A published build wakes the waiting streams: with no keepalive within the hour, the event can
    only come from the wake-up (the read's timeout only keeps a broken wake-up from hanging the suite)."""
    from examgen.serve import server
    from examgen.serve.pages import PageImages

    monkeypatch.setattr(server, "KEEPALIVE_SECONDS", 3600)
    preview = server.Preview(PageImages(tmp_path), "demo")
    http = server.local_server(0, server._handler(preview))
    threading.Thread(target=http.serve_forever, daemon=True).start()
    connection = HTTPConnection("127.0.0.1", http.server_address[1], timeout=60)
    try:
        connection.request("GET", "/events")
        events = connection.getresponse()
        assert events.readline() == b"data: 0\n" and events.readline() == b"\n"
        preview.publish(status="failed", errors=["exam.yaml:1: a new build"])
        assert events.readline() == b"data: 1\n"
        assert json.loads(preview.snapshot())["errors"] == ["exam.yaml:1: a new build"]
    finally:
        connection.close()
        preview.close()
        http.shutdown()
        http.server_close()


def test_a_port_in_use_is_a_clear_error(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([*EXAMGEN, "serve", "demo", "--port", str(port)], cwd=project, capture_output=True,
                             text=True, timeout=60)
    assert run.returncode == 6
    assert f"error: port {port} on 127.0.0.1 is in use" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.latex
@pytest.mark.browser
def test_the_preview_of_an_exam_with_variants_shows_the_variant_chosen(tmp_path: Path) -> None:
    """The sample builds variants A and B: the page offers both, shows A first and B's own pages
    once B is chosen (and keeps the choice in its address)."""
    for folder in ("sample", "lib"):
        shutil.copytree(REPO / "exams" / folder, tmp_path / "exams" / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "test_*.py"))
    served = Served(tmp_path, "sample")
    try:
        with Browser(served.url) as browser:
            browser.wait_for("document.body.dataset.status === 'ok'")
            state = json.loads(urllib.request.urlopen(served.url + "state").read())
            assert state["variants"] == ["A", "B"]
            assert sorted(state["pages"]) == ["A/solution", "A/student", "B/solution", "B/student"]
            assert browser.evaluate("[...document.getElementById('variant').options].map(o => o.value)") == ["A", "B"]
            for view in ("student", "solution"):
                assert browser.evaluate(PAGE_DIGESTS.format(view=view)) == state["pages"][f"A/{view}"]
            browser.evaluate("(p => { p.value = 'B'; p.dispatchEvent(new Event('change')); })"
                             "(document.getElementById('variant'))")
            wanted = ",".join(state["pages"]["B/solution"])
            browser.wait_for(f"{PAGE_DIGESTS.format(view='solution')}.join() === '{wanted}'")
            assert browser.evaluate(PAGE_DIGESTS.format(view="student")) == state["pages"]["B/student"]
            assert browser.evaluate("document.querySelectorAll('img.changed').length") == 0  # no edit to point at
            assert state["pages"]["B/student"] != state["pages"]["A/student"]
            assert browser.evaluate("location.hash") == "#B"
            browser.screenshot(tmp_path / "variant-b.png")
            # an edit: B's views, on screen, compile first and show before A's are done
            before = browser.evaluate("Number(document.body.dataset.generation)")
            source = tmp_path / "exams" / "sample" / "exam.yaml"
            source.write_text(source.read_text().replace("And without its bias?", "And without the bias?"))
            browser.wait_for(f"document.body.dataset.status === 'ok' && document.body.dataset.generation > {before}")
            state = json.loads(urllib.request.urlopen(served.url + "state").read())
            assert state["first"]["variant"] == "B" and before < state["first"]["generation"] < state["generation"]
    finally:
        code, output = served.stop()
    assert code == 0, output


@pytest.mark.latex
def test_watch_rebuilds_on_save_and_stops_on_sigint(project: Path) -> None:
    watching = subprocess.Popen([*EXAMGEN, "watch", "demo"], cwd=project, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert watching.stdout is not None
    lines = [watching.stdout.readline() for _ in range(2)]
    assert "built (compiled student and solution)" in lines[1], lines
    student = (project / "build" / "demo" / "student.pdf").resolve()
    time.sleep(0.3)  # the watcher is set up once the first build is done; give it a moment
    _edit(project / "exams" / "demo" / "exam.yaml", "doubled the area", "the area doubled")
    lines = [watching.stdout.readline() for _ in range(2)]
    assert "exam.yaml changed, building" in lines[0]
    assert "built (compiled solution; student unchanged)" in lines[1], lines
    assert student.exists() and (project / "build" / "demo" / "solution.pdf").resolve() != student.parent
    watching.send_signal(signal.SIGINT)
    output, _ = watching.communicate(timeout=30)
    assert watching.returncode == 0 and "stopped" in output
    assert _session_processes(watching.pid) == []


def test_a_file_that_came_and_went_within_a_batch_of_changes_is_no_change(tmp_path: Path) -> None:
    from examgen.serve.loop import lasting

    source, scratch, gone = tmp_path / "exam.yaml", tmp_path / "sedAb12Cd", tmp_path / "old.yaml"
    source.write_text("x")
    assert lasting({("added", scratch), ("modified", scratch), ("deleted", scratch)}) == []
    assert lasting({("added", scratch), ("deleted", scratch), ("modified", source)}) == [source]
    assert lasting({("deleted", gone)}) == [gone]  # a source deleted is a change: the build says what is missing
    assert lasting({("deleted", source), ("added", source)}) == [source]  # an editor's save by rename
