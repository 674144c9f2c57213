"""A course to mark on screen, made from data: an exam with parts graders mark, and a scan folder
as `examgen scan` leaves it (answers/<code>/<part>[-N].jpg, marks.csv) with handwriting-like answer
images drawn by Pillow; and `examgen mark`'s server run as a real process (uvicorn) on a free port."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw
from support import quiz_header, write_exam

from examgen.codes import check_character

EXAM = quiz_header("Q0003") + """\
problems:
  - title: Choices
    parts:
      - points: 1
        prompt: Which numbers are prime?
        options: [{text: "2", correct: true}, "4", {text: "5", correct: true}, "9"]
  - title: Working
    parts:
      - points: 2
        prompt: What is $6 \\cdot 7$?
        space: 3cm
        solution: Forty-two, as six sevens make $42$.
        notes:
          - text: correct product
            points: 2
          - text: a slip in the working
            points: -0.5
          - Any way of multiplying is fine.
      - points: 1.5
        prompt: Name a square number and say why it is one.
        space: 3cm
        solution: Sixteen is the square of four.
        notes:
          - text: a square number
            points: 1
          - text: the reason
            points: 0.5
"""
EXAM_ID = "quiz"
PARTS = {"2.1": 2.0, "2.2": 1.5}
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}


def codes(count: int) -> list[str]:
    found = []
    for number in range(1, count + 1):
        stem = f"Q0003-{number:04d}"
        found.append(f"{stem}-{check_character(stem)}")
    return found


def answer_image(path: Path, words: str, rng: random.Random, height: int = 220) -> None:
    """An answer space as scanned: grid paper with a few lines of 'handwriting'."""
    image = Image.new("L", (900, height), 250)
    draw = ImageDraw.Draw(image)
    for x in range(0, 900, 20):
        draw.line([(x, 0), (x, height)], fill=228)
    for y in range(0, height, 20):
        draw.line([(0, y), (900, y)], fill=228)
    for line, text in enumerate(words.split("\n")):
        x = 30 + rng.randint(0, 20)
        for char in text:
            draw.text((x, 30 + 40 * line + rng.randint(-2, 2)), char, fill=rng.randint(20, 60),
                      font_size=26)
            x += 17
    image.save(path, "JPEG", quality=80)


def make_course(root: Path, copies: int = 6, spaces: dict[str, int] | None = None,
                paper: dict[tuple[str, str], str] | None = None, images: bool = True, exam: str = EXAM) -> Path:
    """The project with the exam and its scan folder (course/<id>/scans); the scan folder.
    ``paper``: points read from the paper's boxes, in marks.csv."""
    write_exam(root / "exams" / EXAM_ID, exam)
    scans = root / "course" / EXAM_ID / "scans"
    rng = random.Random(3)
    rows = ["code,registration,name,1.1,2.1,2.2", "max,,,1,2,1.5"]
    first_image: dict[int, Path] = {}
    for index, code in enumerate(codes(copies)):
        folder = scans / "answers" / code
        folder.mkdir(parents=True)
        for part in PARTS:
            for space in range((spaces or {}).get(part, 1)):
                path = folder / f"{part}{'' if space == 0 else f'-{space + 1}'}.jpg"
                if images or index == 0:
                    words = f"6 x 7 = {40 + index % 5}\nso the answer is {40 + index % 5}" if part == "2.1" else \
                        f"{(index % 5 + 1) ** 2} = {index % 5 + 1} squared"
                    answer_image(path, words, rng)
                    first_image.setdefault(space, path)
                else:
                    os.link(first_image[space], path)
        cells = [(paper or {}).get((code, part), "") for part in PARTS]
        rows.append(f"{code},,,," + ",".join(cells))
    (scans / "marks.csv").write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    return scans


def examgen(root: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "examgen.cli", *args], cwd=root, env=ENV, input=stdin,
                          capture_output=True, text=True, timeout=120)


def add_account(root: Path, name: str, password: str, examiner: bool = False) -> None:
    done = examgen(root, "mark", EXAM_ID, "--add-grader", name, *(["--examiner"] if examiner else []),
                   stdin=password + "\n")
    assert done.returncode == 0, done.stderr


@dataclass
class Server:
    """`examgen mark` running in its own process."""

    process: subprocess.Popen
    url: str

    @staticmethod
    def start(root: Path, *args: str) -> Server:
        process = subprocess.Popen([sys.executable, "-m", "examgen.cli", "mark", EXAM_ID, "--port", "0", *args],
                                   cwd=root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://\S+/", line)
        if not found:
            process.kill()
            raise AssertionError(f"no server: {line}{process.communicate()[1]}")
        return Server(process, found[0])

    def kill(self) -> None:
        """SIGKILL: no shutdown, as a crash."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.communicate()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.communicate(timeout=30)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Client:
    """A grader's browser without the browser: cookies, the forms' hidden fields, redirects followed."""

    def __init__(self, url: str):
        import http.cookiejar
        import urllib.request

        self.url = url
        self.landed = ""  # where the last save led (the next answer's page)
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(self, path: str, form: dict | list | None = None, headers: dict | None = None) -> tuple[int, str, str]:
        """(status, the final address, the body)."""
        import urllib.error
        import urllib.parse
        import urllib.request

        data = None if form is None else urllib.parse.urlencode(form, doseq=True).encode()
        request = urllib.request.Request(self.url.rstrip("/") + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.url, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read().decode()

    def log_in(self, name: str, password: str) -> int:
        _, _, body = self.request("/login")
        token = field(body, "login_token")
        status, _, _ = self.request("/login", {"login_token": token, "name": name, "password": password, "next": "/"})
        return status

    def next(self, part: str) -> tuple[int | None, str]:
        """The answer handed out next (None: none left) and its page."""
        status, url, body = self.request(f"/part/{part}/next")
        assert status == 200, body
        found = re.search(r"/answer/(\d+)$", url)
        return (int(found[1]) if found else None), body

    def save(self, answer: int, page: str, points: str, notes: tuple[int, ...] = (), **extra: str) -> tuple[int, str]:
        form = [("csrf", field(page, "csrf")), ("version", field(page, "version")), ("points", points),
                *(("note", str(note)) for note in notes), *extra.items()]
        status, self.landed, body = self.request(f"/answer/{answer}", form)
        return status, body


def field(page: str, name: str) -> str:
    """A hidden field's value in a page."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no field {name} in the page"
    return found[1]
