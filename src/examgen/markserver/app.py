"""The marking web application (Starlette): log in, pick a part, mark its answers one at a time with
the rubric beside them, go back to any answer marked; the examiner's views of progress, flags, marks
and graders' distributions. Every change is a POST carrying the session's CSRF token; a save names
the version of the mark it was made on, so one made on an old version is shown as a conflict.
Changes to the store run in worker threads (a mark's save waits for the disk), reads on the event
loop, so one grader's save never holds up another's page."""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from statistics import mean
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..commands.mark import MarkedPart, Marking
from ..marking.store import Answer, Conflict, Given, Session, annotations_json, annotations_of
from ..numbers import format_number

COOKIE = "examgen_marking"
LOGIN_COOKIE = "examgen_login"  # the login form's own CSRF token (double submit), before there is a session
MAX_COMMENT = 2000
MAX_FLAG = 500
FAILED_LOGIN_PAUSE = 1.0  # seconds before a wrong name or password is answered
ACCOUNT_FAILURES = 5  # failed logins of one account name, then it is locked (docs/marking.md)
ADDRESS_FAILURES = 20  # failed logins from one client address (a lab's graders may share one), then it is locked
LOCK_SECONDS = 30.0  # the first lock's length, doubled with each failure after it
LONGEST_LOCK = 900.0
MINE_SHOWN = 60  # a grader's latest marked answers of the part, listed to go back to
HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Cache-Control": "no-store",
           "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                      "script-src 'self'; frame-ancestors 'none'; form-action 'self'"}

Handler = Callable[[Request, Session], Awaitable[Response]]


class LoginGuard:
    """Failed logins counted per account name and per client address: after ``ACCOUNT_FAILURES``
    (or ``ADDRESS_FAILURES``) in a row, logins there are refused unchecked for ``LOCK_SECONDS``,
    the lock doubling with each further failure up to ``LONGEST_LOCK``; a success clears its
    account's count (not its address's: one's own account must not reset a guesser's), a failure is
    forgotten after the longest lock without another. Kept in memory:
    a restart of the server (by the examiner) lifts every lock."""

    def __init__(self) -> None:
        self.failures: dict[tuple[str, str], tuple[int, float]] = {}  # (kind, who) -> (count, last at)

    def _keys(self, name: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("account", name.strip().lower()), ("address", address)

    def _locked_until(self, key: tuple[str, str], now: float) -> float:
        count, last = self.failures.get(key, (0, 0.0))
        if now - last > LONGEST_LOCK:
            self.failures.pop(key, None)
            return 0.0
        limit = ACCOUNT_FAILURES if key[0] == "account" else ADDRESS_FAILURES
        return 0.0 if count < limit else last + min(LOCK_SECONDS * 2 ** (count - limit), LONGEST_LOCK)

    def locked(self, name: str, address: str, now: float) -> str | None:
        """Why a login is refused unchecked (None: it may be tried)."""
        for key in self._keys(name, address):
            until = self._locked_until(key, now)
            if until > now:
                what = "this account" if key[0] == "account" else "this network address"
                return (f"too many failed logins for {what}: try again in {int(until - now) + 1} seconds (the "
                        "examiner can set a new password with --add-grader, or restart the server to lift the lock)")
        return None

    def failed(self, name: str, address: str, now: float) -> None:
        for key in self._keys(name, address):
            count, _ = self.failures.get(key, (0, 0.0))
            self.failures[key] = (count + 1, now)

    def succeeded(self, name: str) -> None:
        self.failures.pop(("account", name.strip().lower()), None)


class Refused(Exception):
    """A request refused with a message for the person who sent it; nothing was stored."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def points_problem(text: str, part: MarkedPart) -> tuple[float | None, str | None]:
    """The points typed for a part, or what is wrong with them: a number from 0 to the part's maximum,
    in multiples of its step ("" is none)."""
    text = text.strip().replace(",", ".")
    if not text:
        return None, None
    try:
        value = float(text)
    except ValueError:
        return None, f"'{text}' is not a number of points"
    if not 0 <= value <= part.points:
        return None, f"{text} points is outside 0 to {format_number(part.points)}, part {part.number}'s maximum"
    if not (value / part.step).is_integer():
        return None, f"{text} points is not a multiple of {format_number(part.step)}, part {part.number}'s step"
    return value, None


def make_app(marking: Marking, hosts: list[str]) -> Starlette:
    """The application over a marking; ``hosts``: the Host headers it answers (any other is refused)."""
    templates = Environment(loader=PackageLoader("examgen.markserver", "templates"),
                            autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    templates.filters["points"] = lambda value: "" if value is None else format_number(value)
    store = marking.store
    guard = LoginGuard()

    def page(name: str, session: Session | None, status: int = 200, **values: object) -> HTMLResponse:
        html = templates.get_template(name).render(title=marking.title, exam=marking.exam, session=session,
                                                   parts=marking.parts, **values)
        return HTMLResponse(html, status, headers=HEADERS)

    def refused(request: Request, session: Session | None, problem: Refused) -> HTMLResponse:
        came_from = request.headers.get("referer", "")
        return page("refused.html", session, problem.status, message=problem.message,
                    back=came_from if came_from.startswith(("http://", "https://")) else "/")

    def signed_in(handler: Handler, examiner: bool = False, changes: bool = False):
        """A handler for logged-in graders (or the examiner only); one that changes something needs
        the session's CSRF token in its form."""

        async def endpoint(request: Request) -> Response:
            session = store.session(request.cookies.get(COOKIE, ""))
            if session is None:
                if request.method == "GET":
                    return RedirectResponse(f"/login?next={quote(request.url.path)}", 303, headers=HEADERS)
                return refused(request, None, Refused(401, "you are not logged in (or your session ended): log in "
                                                           "again; nothing was saved"))
            try:
                if examiner and not session.grader.examiner:
                    raise Refused(403, "this is the examiner's: log in with an examiner's account")
                if changes:
                    form = await request.form()
                    if not hmac.compare_digest(str(form.get("csrf", "")), session.csrf):
                        raise Refused(403, "the form carries no valid security token (CSRF): reload the page and "
                                           "try again; nothing was saved")
                return await handler(request, session)
            except Refused as problem:
                return refused(request, session, problem)

        return endpoint

    def marked_part(number: str) -> MarkedPart:
        if number not in marking.parts:
            raise Refused(404, f"the exam has no part '{number}' marked on screen (it has "
                               f"{', '.join(marking.parts) or 'none'})")
        return marking.parts[number]

    def answer_of(request: Request) -> Answer:
        try:
            found = store.answer(int(request.path_params["answer"]))
        except ValueError:
            found = None
        if found is None:
            raise Refused(404, f"there is no answer {request.path_params['answer']}")
        return found

    # logging in and out

    def login_page(then: str, failed: bool) -> Response:
        """The login form, with a fresh token for it in a cookie and in the form."""
        token = secrets.token_urlsafe(24)
        response = page("login.html", None, 401 if failed else 200, login_token=token, next=_local(then),
                        failed=failed)
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict")
        return response

    async def login_form(request: Request) -> Response:
        return login_page(request.query_params.get("next", "/"), False)

    async def login(request: Request) -> Response:
        form = await request.form()
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if not cookie or not hmac.compare_digest(str(form.get("login_token", "")), cookie):
            return refused(request, None, Refused(403, "the login form carries no valid security token: open the "
                                                       "login page again"))
        name, address = str(form.get("name", "")), request.client.host if request.client else ""
        locked = guard.locked(name, address, time.monotonic())
        if locked:
            return refused(request, None, Refused(429, locked))
        session = await run_in_threadpool(store.log_in, name, str(form.get("password", "")))
        if session is None:
            guard.failed(name, address, time.monotonic())
            await asyncio.sleep(FAILED_LOGIN_PAUSE)  # guessing passwords goes slowly
            return login_page(str(form.get("next", "/")), True)
        guard.succeeded(name)
        response = RedirectResponse(_local(str(form.get("next", "/"))), 303, headers=HEADERS)
        response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict")
        response.delete_cookie(LOGIN_COOKIE)
        return response

    async def logout(request: Request, session: Session) -> Response:
        await run_in_threadpool(store.log_out, session.token)
        response = RedirectResponse("/login", 303, headers=HEADERS)
        response.delete_cookie(COOKIE)
        return response

    # grading

    async def home(request: Request, session: Session) -> Response:
        return page("home.html", session, progress=store.progress())

    async def next_answer(request: Request, session: Session) -> Response:
        skipped = request.query_params.get("skip", "")
        return await handed_out(marked_part(request.path_params["part"]), session,
                                int(skipped) if skipped.isdigit() else None)

    async def handed_out(part: MarkedPart, session: Session, skipped: int | None = None,
                         saved: bool = False) -> Response:
        """The part's next answer for the grader (leased to them), or the page saying none is left
        (after a save, at the part's own address, so that reloading it saves nothing again)."""
        found = await run_in_threadpool(store.next_answer, part.number, session.grader.name, skipped)
        if found is None and saved:
            return RedirectResponse(f"/part/{part.number}/next", 303, headers=HEADERS)
        if found is None:
            progress = store.progress()
            after = [*marking.parts][[*marking.parts].index(part.number) + 1:] + [*marking.parts]
            left = next((progress[number] for number in after if number in progress and number != part.number
                         and progress[number].marked < progress[number].answers), None)
            return page("done.html", session, part=part, progress=progress.get(part.number), next_part=left,
                        mine=_mine(part.number, session.grader.name))
        return RedirectResponse(f"/answer/{found.id}", 303, headers=HEADERS)

    async def show_answer(request: Request, session: Session) -> Response:
        answer = answer_of(request)
        return marking_page(session, answer)

    def marking_page(session: Session, answer: Answer, status: int = 200, conflict: Answer | None = None,
                     mine: Given | None = None) -> HTMLResponse:
        marked_part(answer.part)
        part = marking.part_of(answer.code, answer.part)
        shown = mine or Given(answer.points, answer.notes, answer.comment, answer.annotations, answer.flag)
        held = answer.lease_grader if answer.lease_grader not in (None, session.grader.name) and \
            (answer.lease_until or 0) > time.time() else None
        state = {"max": part.points, "step": part.step, "notes": [note.points for note in part.notes],
                 "applied": [index for index, note in enumerate(part.notes) if note.text in shown.notes],
                 "annotations": json.loads(annotations_json(shown.annotations)), "points": shown.points}
        return page("mark.html", session, status, part=part, answer=answer, shown=shown, state=_script_json(state),
                    progress=store.progress(part.number).get(part.number), held=held, conflict=conflict,
                    variant_unknown=marking.variant_unknown(answer.code),
                    mine=_mine(answer.part, session.grader.name),
                    history=[_change(row) for row in store.audit(answer.id)] if session.grader.examiner else [])

    def _mine(part: str, grader: str) -> list[Answer]:
        return store.answers(part=part, grader=grader, marked_only=True, latest=MINE_SHOWN)

    async def save(request: Request, session: Session) -> Response:
        answer = answer_of(request)
        marked_part(answer.part)
        part = marking.part_of(answer.code, answer.part)
        form = await request.form()
        given, problems = _given(form, part, answer)
        if problems:
            raise Refused(400, "nothing was saved: " + "; ".join(problems))
        assert given is not None
        try:
            version = int(str(form.get("version", "")))
        except ValueError:
            raise Refused(400, "the form names no version of the mark: reload the page") from None
        saved = await run_in_threadpool(store.save, answer.id, session.grader.name, version, given)
        if isinstance(saved, Conflict):
            return marking_page(session, saved.current, 409, conflict=saved.current, mine=given)
        if form.get("then") == "stay":
            return RedirectResponse(f"/answer/{answer.id}", 303, headers=HEADERS)
        return await handed_out(part, session, saved=True)

    async def image(request: Request, session: Session) -> Response:
        answer = answer_of(request)
        space = int(request.path_params["space"])
        path = marking.image(answer.code, answer.part, space)
        if space >= answer.spaces or not path.is_file():
            raise Refused(404, f"answer {answer.id} has no image of answer space {space + 1}")
        return FileResponse(path, headers={**HEADERS, "Cache-Control": "private, max-age=3600"})

    async def figure(request: Request, session: Session) -> Response:
        found = marking.figures.get(request.path_params["name"])
        if found is None:
            raise Refused(404, f"the exam has no figure '{request.path_params['name']}'")
        kind = "image/jpeg" if found.name.lower().endswith((".jpg", ".jpeg")) else "image/png"
        return Response(found.data, media_type=kind, headers={**HEADERS, "Cache-Control": "private, max-age=3600"})

    # the examiner's views

    async def examiner(request: Request, session: Session) -> Response:
        flagged = store.answers(flagged_only=True)
        return page("examiner.html", session, progress=store.progress(), flagged=flagged)

    async def all_marks(request: Request, session: Session) -> Response:
        part = marked_part(request.path_params["part"])
        return page("marks.html", session, part=part, answers=store.answers(part=part.number))

    async def compare(request: Request, session: Session) -> Response:
        part = marked_part(request.path_params["part"])
        given: dict[str, list[float]] = {}
        for answer in store.answers(part=part.number, marked_only=True):
            if answer.points is not None and answer.grader:
                given.setdefault(answer.grader, []).append(answer.points)
        steps = [index * part.step for index in range(int(part.points / part.step) + 1)]
        rows = [(grader, len(points), mean(points), Counter(points)) for grader, points in sorted(given.items())]
        return page("compare.html", session, part=part, steps=steps, rows=rows,
                    widest=max((max(counts.values()) for *_, counts in rows), default=1))

    async def reopen(request: Request, session: Session) -> Response:
        part = marked_part(request.path_params["part"])
        await run_in_threadpool(store.reopen, part.number, session.grader.name)
        return RedirectResponse("/examiner", 303, headers=HEADERS)

    routes = [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", signed_in(logout, changes=True), methods=["POST"]),
        Route("/", signed_in(home)),
        Route("/part/{part}/next", signed_in(next_answer)),
        Route("/answer/{answer}", signed_in(show_answer), methods=["GET"]),
        Route("/answer/{answer}", signed_in(save, changes=True), methods=["POST"]),
        Route("/answer/{answer}/space/{space:int}", signed_in(image)),
        Route("/figure/{name:path}", signed_in(figure)),
        Route("/examiner", signed_in(examiner, examiner=True)),
        Route("/examiner/marks/{part}", signed_in(all_marks, examiner=True)),
        Route("/examiner/compare/{part}", signed_in(compare, examiner=True)),
        Route("/examiner/reopen/{part}", signed_in(reopen, examiner=True, changes=True), methods=["POST"]),
        Mount("/static", StaticFiles(directory=Path(__file__).with_name("static")), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])


def _given(form: FormData, part: MarkedPart, answer: Answer) -> tuple[Given | None, list[str]]:
    """What the marking form gives, and every problem with it."""
    problems = []
    points, problem = points_problem(str(form.get("points", "")), part)
    if problem:
        problems.append(problem)
    notes = []
    for index in map(str, form.getlist("note")):
        if not index.isdigit() or int(index) >= len(part.notes):
            problems.append(f"part {part.number} has no correction note {index}")
        else:
            notes.append(part.notes[int(index)].text)
    comment, flag = str(form.get("comment", "")).strip(), str(form.get("flag", "")).strip()
    if len(comment) > MAX_COMMENT:
        problems.append(f"the comment is longer than {MAX_COMMENT} characters")
    if len(flag) > MAX_FLAG:
        problems.append(f"the note to the examiner is longer than {MAX_FLAG} characters")
    try:
        annotations = annotations_of(str(form.get("annotations", "[]")))
        if any(annotation.space >= answer.spaces for annotation in annotations):
            problems.append(f"an annotation is on an answer space the answer does not have (it has {answer.spaces})")
    except (ValueError, TypeError) as exc:  # json's errors are ValueErrors
        problems.append(f"the annotations cannot be read: {exc}")
        annotations = ()
    if points is None and not flag and not problems:
        problems.append("give points, or flag the answer for the examiner with a note")
    return (None if problems else Given(points, tuple(notes), comment, annotations, flag)), problems


def _change(row: sqlite3.Row) -> dict[str, object]:
    """An audit log entry as the examiner reads it: when, who, what, the points before and after."""
    old, new = (json.loads(row[side]) if row[side] else {} for side in ("old", "new"))
    return {"at": row["at"], "grader": row["grader"], "action": row["action"],
            "old": old.get("points"), "new": new.get("points"), "flag": new.get("flag", "")}


def _script_json(value: object) -> str:
    """JSON to put inside a <script> element: no '<', '>' or '&' that could end it (a grader's
    annotation text such as '</script>' stays text)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _local(target: str) -> str:
    """A place to go after logging in, on this server only (never //elsewhere)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"

