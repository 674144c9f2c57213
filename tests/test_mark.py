"""`examgen mark` over real HTTP against its real server process (uvicorn): a grader team marking at
once (no mark lost or doubled, no answer handed to two graders, the audit log complete), a server
killed mid-marking losing no confirmed mark, bad input refused with a clear message and nothing
stored, accounts, the store's schema, and the marks sheet merging paper and screen."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import threading
from pathlib import Path

import marking
import pytest
from marking import Client, Server, add_account, examgen, make_course

from examgen.errors import ExamgenError
from examgen.marking.store import MIGRATIONS, STORE, Store, part_marks


@pytest.fixture
def course(tmp_path):
    """A scanned course with an examiner (ann) and two graders (bob, cid)."""
    make_course(tmp_path)
    add_account(tmp_path, "ann", "ann-password", examiner=True)
    for name in ("bob", "cid"):
        add_account(tmp_path, name, f"{name}-password")
    return tmp_path


def _store(root: Path) -> Store:
    return Store(root / "course" / marking.EXAM_ID / "scans" / STORE)


def _marks(root: Path) -> dict[tuple[str, str], float]:
    store = root / "course" / marking.EXAM_ID / "scans" / STORE
    return {(mark.code, mark.part): mark.points for mark in part_marks(store)}


def test_a_grader_marks_answers_one_after_another_and_a_stale_save_is_a_conflict(course):
    with Server.start(course) as server:
        bob, cid = Client(server.url), Client(server.url)
        assert bob.log_in("bob", "bob-password") == 200 and cid.log_in("cid", "cid-password") == 200
        first, page = bob.next("2.1")
        again, _ = bob.next("2.1")
        assert again == first  # the grader's lease: the same answer until it is saved
        other, other_page = cid.next("2.1")
        assert other != first  # never handed to two graders at once
        skipped_to = int(cid.request(f"/part/2.1/next?skip={other}")[1].rsplit("/", 1)[1])
        assert skipped_to not in (first, other)  # skip sets an answer aside, unsaved
        assert _store(course).answer(other).lease_grader is None
        status, after = bob.save(first, page, "1", notes=(0, 1), annotations='[{"kind": "tick", "x": 0.2, "y": 0.3}, '
                                 '{"kind": "text", "x": 0.5, "y": 0.5, "text": "</script><b>sic</b> & more"}]')
        assert status == 200 and f'action="/answer/{first}"' not in after  # on to the next answer
        # cid opens bob's answer (back to a marked one), bob changes it meanwhile: cid's save is a conflict
        _, cid_view = cid.request(f"/answer/{first}")[::2]
        _, bob_view = bob.request(f"/answer/{first}")[::2]
        assert "</script><b>" not in bob_view and "\\u003c/script\\u003e\\u003cb\\u003esic" in bob_view
        assert bob.save(first, bob_view, "2")[0] == 200
        status, shown = cid.save(first, cid_view, "1")
        assert status == 409 and "Conflict" in shown and "bob saved this answer" in shown
        assert _marks(course)[_store(course).answer(first).code, "2.1"] == 2  # not overwritten
        status, _ = cid.save(first, shown, "1")  # saved knowingly over bob's, from the conflict's page
        assert status == 200
    store = _store(course)
    saved = store.answer(first)
    assert (saved.points, saved.grader, saved.version) == (1, "cid", 3)
    assert saved.notes == ()
    trail = [(row["grader"], row["old"] is None) for row in store.audit(first)]
    assert trail == [("bob", True), ("bob", False), ("cid", False)]


def test_twenty_graders_at_once_lose_and_double_no_mark(tmp_path):
    make_course(tmp_path, copies=60, images=False)
    names = [f"grader{number:02d}" for number in range(20)]
    for name in names:
        add_account(tmp_path, name, f"{name}-password")
    handed: dict[str, list[int]] = {name: [] for name in names}
    failures: list[str] = []
    with Server.start(tmp_path) as server:
        def grade(name: str) -> None:
            client = Client(server.url)
            if client.log_in(name, f"{name}-password") != 200:
                failures.append(f"{name} could not log in")
                return
            for part, points in (("2.1", "2"), ("2.2", "1.5")):
                while True:
                    answer, page = client.next(part)
                    if answer is None:
                        break
                    handed[name].append(answer)
                    status, body = client.save(answer, page, points)
                    if status != 200:
                        failures.append(f"{name}: {status} {body[:200]}")
                        return

        threads = [threading.Thread(target=grade, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not failures
    every = [answer for answers in handed.values() for answer in answers]
    assert len(every) == len(set(every)) == 120  # each answer handed out once, to one grader
    store = _store(tmp_path)
    answers = store.answers()
    assert all(answer.version == 1 and answer.points is not None for answer in answers)
    assert {answer.id: answer.grader for answer in answers} == {
        answer: name for name, got in handed.items() for answer in got}
    audit = store.audit()
    assert sorted(row["answer"] for row in audit) == sorted(every)  # one entry per save, none lost
    assert sum(1 for answers in handed.values() if answers) > 1  # they really marked side by side


def test_a_killed_server_keeps_every_confirmed_mark(course):
    confirmed: dict[int, str] = {}
    server = Server.start(course)
    client = Client(server.url)
    client.log_in("bob", "bob-password")
    for points in ("0", "0.5", "1", "1.5", "1"):
        answer, page = client.next("2.2")
        assert client.save(answer, page, points)[0] == 200
        confirmed[answer] = points
    typing, _ = client.next("2.2")  # opened, not saved when the server dies
    server.kill()
    with Server.start(course) as again:
        client = Client(again.url)
        client.log_in("bob", "bob-password")
        status, _, body = client.request("/part/2.2/next")
        assert status == 200
        store = _store(course)
        assert {answer: store.answer(answer).points for answer in confirmed} == {
            answer: float(points) for answer, points in confirmed.items()}
        assert store.answer(typing).version == 0
        assert len(store.audit()) == len(confirmed)


def test_bad_input_is_refused_with_a_clear_message_and_nothing_is_stored(course):
    with Server.start(course) as server:
        bob = Client(server.url)
        bob.log_in("bob", "bob-password")
        answer, page = bob.next("2.2")
        refusals = {
            "above the maximum": bob.save(answer, page, "2"),
            "off the step": bob.save(answer, page, "0.25"),
            "not a number": bob.save(answer, page, "lots"),
            "an unknown note": bob.save(answer, page, "1", notes=(7,)),
            "bad annotations": bob.save(answer, page, "1", annotations='[{"kind": "heart", "x": 2, "y": 0}]'),
            "neither points nor flag": bob.save(answer, page, ""),
        }
        no_csrf = bob.request(f"/answer/{answer}", {"version": "0", "points": "1"})
        stranger = Client(server.url)
        stranger.cookies.set_cookie(_cookie("examgen_marking", "forged-or-foreign-session-token"))
        foreign = stranger.request(f"/answer/{answer}", {"csrf": field_of(page), "version": "0", "points": "1"})
        foreign_get = stranger.request("/part/2.2/next")
        unknown_part = bob.request("/part/9.9/next")
        unknown_answer = bob.request("/answer/99999")
        wrong_host = bob.request("/", headers={"Host": "evil.example"})
        grader_in_examiner_view = bob.request("/examiner")
    messages = {name: body for name, (status, body) in refusals.items()}
    assert all(status == 400 for status, _ in refusals.values())
    assert "2 points is outside 0 to 1.5, part 2.2&#39;s maximum" in messages["above the maximum"]
    assert "0.25 points is not a multiple of 0.5, part 2.2&#39;s step" in messages["off the step"]
    assert "&#39;lots&#39; is not a number of points" in messages["not a number"]
    assert "part 2.2 has no correction note 7" in messages["an unknown note"]
    assert "an annotation must be one of tick, cross, text" in messages["bad annotations"]
    assert "give points, or flag the answer" in messages["neither points nor flag"]
    assert no_csrf[0] == 403 and "no valid security token (CSRF)" in no_csrf[2]
    assert foreign[0] == 401 and "you are not logged in" in foreign[2]
    assert foreign_get[0] == 200 and "/login" in foreign_get[1]  # sent to log in, shown nothing
    assert unknown_part[0] == 404 and "the exam has no part &#39;9.9&#39; marked on screen (it has 2.1, 2.2)" in \
        unknown_part[2]
    assert unknown_answer[0] == 404 and "there is no answer 99999" in unknown_answer[2]
    assert wrong_host[0] == 400
    assert grader_in_examiner_view[0] == 403
    store = _store(course)
    assert store.audit() == [] and all(answer.version == 0 for answer in store.answers())
    removed = examgen(course, "mark", marking.EXAM_ID, "--remove-grader", "bob")
    assert removed.returncode == 0 and "bob removed" in removed.stdout
    with Server.start(course) as server:
        assert Client(server.url).log_in("bob", "bob-password") == 401


def field_of(page: str) -> str:
    return marking.field(page, "csrf")


def _cookie(name: str, value: str):
    import http.cookiejar

    return http.cookiejar.Cookie(0, name, value, None, False, "127.0.0.1", True, False, "/", True, False, None, True,
                                 None, None, {})


def test_marking_needs_accounts_and_accounts_need_a_password(tmp_path):
    make_course(tmp_path)
    for where in (("--host", "127.0.0.2"), ()):  # on the network, and on this machine
        refused = examgen(tmp_path, "mark", marking.EXAM_ID, *where, "--port", "0")
        assert refused.returncode == 11 and "marking needs accounts" in refused.stderr
    everywhere = examgen(tmp_path, "mark", marking.EXAM_ID, "--host", "0.0.0.0", "--port", "0")
    assert everywhere.returncode == 11 and "names no one address" in everywhere.stderr
    short = examgen(tmp_path, "mark", marking.EXAM_ID, "--add-grader", "ann", stdin="short\n")
    assert short.returncode == 11 and "shorter than 8 characters" in short.stderr
    bad_name = examgen(tmp_path, "mark", marking.EXAM_ID, "--add-grader", "a b", stdin="long-enough\n")
    assert bad_name.returncode == 11 and "is not a grader's name" in bad_name.stderr
    unknown = examgen(tmp_path, "mark", marking.EXAM_ID, "--remove-grader", "zed")
    assert unknown.returncode == 11 and "there is no account 'zed' (there are: none)" in unknown.stderr
    no_scan = examgen(tmp_path, "mark", marking.EXAM_ID, "--scan", str(tmp_path / "nowhere"), "--add-grader", "ann",
                      stdin="long-enough\n")
    assert no_scan.returncode == 11 and "holds no scanned answers" in no_scan.stderr


def test_a_store_of_an_older_schema_is_brought_up_and_one_of_a_newer_refused(tmp_path):
    path = tmp_path / STORE
    Store(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    from examgen.errors import MarkingError

    with pytest.raises(MarkingError, match="made by a newer examgen"):
        Store(path)
    older = tmp_path / "older.sqlite"
    sqlite3.connect(older).close()  # schema 0: an empty file from before the first version
    Store(older).close()
    with sqlite3.connect(older) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_the_marks_sheet_merges_paper_and_screen_and_lists_their_conflicts(tmp_path):
    codes = marking.codes(3)
    scans = make_course(tmp_path, copies=3, paper={(codes[0], "2.1"): "1", (codes[1], "2.1"): "2"})
    add_account(tmp_path, "bob", "bob-password")
    with Server.start(tmp_path) as server:
        bob = Client(server.url)
        bob.log_in("bob", "bob-password")
        for points in ("1", "1", "0"):  # copies 1 (agrees with the paper), 2 (disagrees), 3
            answer, page = bob.next("2.1")
            bob.save(answer, page, points)
        answer, page = bob.next("2.2")
        bob.save(answer, page, "", flag="cannot read the second line")
    done = examgen(tmp_path, "mark", marking.EXAM_ID, "--export", "sheet.csv")
    assert done.returncode == 0, done.stderr
    assert f"conflict: copy {codes[1]}, part 2.1: 2 points on paper, 1 on screen (by bob)" in done.stderr
    assert f"flagged without points: copy {codes[0]}, part 2.2: cannot read the second line" in done.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "sheet.csv").read_text(encoding="utf-8"))))
    assert [row["2.1"] for row in rows[1:]] == ["1", "", "0"]
    assert (scans / "marks.csv").read_text().count("\n") == 5  # the scan's own sheet as it was


def _type_into(browser, selector: str, text: str) -> None:
    browser.evaluate(f"(() => {{ const e = document.querySelector({selector!r}); e.focus(); e.value = {text!r}; }})()")


def _key(browser, key: str, code: str, modifiers: int = 0, text: str = "") -> None:
    for kind in ("keyDown", "keyUp"):
        browser.call("Input.dispatchKeyEvent", session=True, type=kind, key=key, code=code, modifiers=modifiers,
                     text=text if kind == "keyDown" else "",
                     windowsVirtualKeyCode={"Enter": 13}.get(key, ord(key.upper()) if len(key) == 1 else 0))


def _click_at(browser, selector: str, x: float, y: float) -> None:
    """A mouse click at fractions of an element's box."""
    box = browser.evaluate(f"(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect(); "
                           "return [r.left, r.top, r.width, r.height]; })()")
    left, top, width, height = box
    for kind in ("mousePressed", "mouseReleased"):
        browser.call("Input.dispatchMouseEvent", session=True, type=kind, x=left + x * width, y=top + y * height,
                     button="left", clickCount=1)


def _go(browser, action: str, path: str) -> None:
    """Run JavaScript that leaves the page; wait until a page at ``path`` (a prefix ending in '/', else
    the whole path) has loaded."""
    browser.evaluate("window.leaving = true")
    browser.evaluate(action)
    test = f"location.pathname.startsWith({path!r})" if path.endswith("/") and path != "/" else \
        f"location.pathname === {path!r}"
    browser.wait_for(f"!window.leaving && document.readyState === 'complete' && {test}")


@pytest.mark.browser
def test_marking_in_a_browser_with_rubric_keyboard_annotations_a_conflict_and_the_examiners_views(course, tmp_path):
    from browser import Browser

    with Server.start(course) as server, Browser(server.url) as browser:
        browser.wait_for("location.pathname === '/login' && document.readyState === 'complete'")
        _type_into(browser, "input[name=name]", "bob")
        _type_into(browser, "input[name=password]", "bob-password")
        _go(browser, "document.querySelector('form').submit()", "/")
        assert "Pick a part to mark" in browser.evaluate("document.body.innerText")
        _go(browser, "document.querySelector('a[href=\"/part/2.1/next\"]').click()", "/answer/")
        browser.wait_for("document.querySelector('.space img').complete")
        first = browser.evaluate("location.pathname")
        # the rubric: "correct product" (2) then "a slip" (-0.5): 1.5, which part 2.1 (whole points) refuses;
        # the grader types 1 instead, annotates, undoes one annotation, saves with Enter
        browser.evaluate("document.querySelectorAll('input[name=note]')[0].click()")
        assert browser.evaluate("document.getElementById('points').value") == "2"
        _key(browser, "2", "Digit2", modifiers=1)  # Alt+2: the second note
        assert browser.evaluate("document.getElementById('points').value") == "1.5"
        browser.evaluate("document.getElementById('points').blur()")
        _key(browser, "x", "KeyX", text="x")
        _click_at(browser, ".space", 0.5, 0.5)
        _key(browser, "v", "KeyV", text="v")
        _click_at(browser, ".space", 0.2, 0.3)
        _click_at(browser, ".space", 0.8, 0.3)
        _key(browser, "z", "KeyZ", modifiers=2)  # Ctrl+Z: the last tick goes
        browser.evaluate("document.querySelector('[data-tool=text]').click()")
        _type_into(browser, "#annotation-text", "sign?")
        _click_at(browser, ".space", 0.6, 0.7)
        browser.evaluate("(() => { const p = document.getElementById('points'); p.value = ''; p.blur(); })()")
        _key(browser, "1", "Digit1", text="1")  # a digit anywhere goes into the points
        assert browser.evaluate("document.getElementById('points').value") == "1"
        browser.screenshot(tmp_path / "marking.png")
        browser.evaluate("document.getElementById('points').focus()")
        browser.evaluate("window.leaving = true")
        _key(browser, "Enter", "Enter", text="\r")
        browser.wait_for(f"!window.leaving && location.pathname !== {first!r} && document.readyState === 'complete'")
        saved = _store(course).answer(int(first.rsplit("/", 1)[1]))
        assert (saved.points, saved.grader, saved.notes) == (1, "bob", ("correct product", "a slip in the working"))
        assert [(a.kind, round(a.x, 2), round(a.y, 2), a.text) for a in saved.annotations] == [
            ("cross", 0.5, 0.5, ""), ("tick", 0.2, 0.3, ""), ("text", 0.6, 0.7, "sign?")]
        # back to the answer marked, while the examiner changes it: bob's save shows the conflict
        _go(browser, f"location.href = {first!r}", first)
        ann = Client(server.url)
        ann.log_in("ann", "ann-password")
        _, _, page = ann.request(first)
        assert ann.save(int(first.rsplit("/", 1)[1]), page, "2", comment="full marks after all")[0] == 200
        browser.evaluate("document.getElementById('points').value = '0'")
        browser.evaluate("document.getElementById('save-stay').click()")
        browser.wait_for("!!document.getElementById('conflict')")
        assert "ann saved this answer (2) after you opened it" in browser.evaluate(
            "document.getElementById('conflict').innerText")
        browser.screenshot(tmp_path / "conflict.png")
        assert _store(course).answer(int(first.rsplit("/", 1)[1])).points == 2
        _go(browser, "document.getElementById('logout').click()", "/login")
        _go(browser, "location.href = '/'", "/login")  # logged out: sent to log in
        # the examiner's views
        _type_into(browser, "input[name=name]", "ann")
        _type_into(browser, "input[name=password]", "ann-password")
        _go(browser, "document.querySelector('form').submit()", "/")
        _go(browser, "location.href = '/examiner'", "/examiner")
        assert "2.1" in browser.evaluate("document.getElementById('progress').innerText")
        browser.screenshot(tmp_path / "examiner.png")
        _go(browser, "location.href = '/examiner/marks/2.1'", "/examiner/marks/2.1")
        assert "full marks after all" in browser.evaluate("document.getElementById('marks').innerText")
        _go(browser, "location.href = '/examiner/compare/2.1'", "/examiner/compare/2.1")
        assert "ann" in browser.evaluate("document.getElementById('compare').innerText")
        browser.screenshot(tmp_path / "compare.png")


@pytest.mark.browser
def test_a_grader_zooms_the_answer_applies_notes_on_a_mac_keyboard_and_goes_on_to_the_next_part(tmp_path):
    from browser import Browser

    make_course(tmp_path, copies=2)
    add_account(tmp_path, "bob", "bob-password")
    with Server.start(tmp_path) as server, Browser(server.url, 1366, 768) as browser:
        browser.wait_for("location.pathname === '/login' && document.readyState === 'complete'")
        _type_into(browser, "input[name=name]", "bob")
        _type_into(browser, "input[name=password]", "bob-password")
        _go(browser, "document.querySelector('form').submit()", "/")
        _go(browser, "location.href = '/part/2.2/next'", "/answer/")
        width = "document.querySelector('.space').getBoundingClientRect().width"
        fitted = browser.evaluate(width)
        browser.evaluate("document.getElementById('points').blur()")
        _key(browser, "+", "Equal", modifiers=8, text="+")
        _key(browser, "+", "Equal", modifiers=8, text="+")
        assert browser.evaluate("document.getElementById('zoom-level').textContent") == "150%"
        assert browser.evaluate(width) > 1.4 * fitted
        _key(browser, "¡", "Digit1", modifiers=1)  # Option+1 on a Mac types '¡': the key is what counts
        assert browser.evaluate("document.getElementById('points').value") == "1"
        for _ in range(2):
            browser.evaluate("window.leaving = true")
            browser.evaluate("document.getElementById('points').value = '1'; document.getElementById('save').click()")
            browser.wait_for("!window.leaving && document.readyState === 'complete'")
            if browser.evaluate("!!document.getElementById('zoom-level')"):  # the zoom kept for the next answer
                assert browser.evaluate("document.getElementById('zoom-level').textContent") == "150%"
        text = browser.evaluate("document.body.innerText")
        assert "Part 2.2: nothing left for you" in text and "2 of 2 marked" in text
        assert browser.evaluate("location.pathname") == "/part/2.2/next"  # reloading it posts nothing again
        browser.wait_for("document.activeElement.id === 'next-part'", timeout=10)  # Enter goes on (autofocus comes
        # at the page's next rendering, after its load)
        browser.screenshot(tmp_path / "done.png")
        browser.evaluate("window.leaving = true")
        _key(browser, "Enter", "Enter", text="\r")
        browser.wait_for("!window.leaving && document.readyState === 'complete' && "
                         "location.pathname.startsWith('/answer/')")
        assert "Part 2.1" in browser.evaluate("document.title")


def test_the_examiner_sees_flags_and_reopens_a_part_whose_marks_stay_until_marked_again(course):
    with Server.start(course) as server:
        bob, ann = Client(server.url), Client(server.url)
        bob.log_in("bob", "bob-password")
        ann.log_in("ann", "ann-password")
        first, page = bob.next("2.2")
        bob.save(first, page, "1.5")
        second, page = bob.next("2.2")
        bob.save(second, page, "", flag="written in pencil, too faint")
        _, _, view = ann.request("/examiner")
        assert "written in pencil, too faint" in view and f"/answer/{second}" in view
        assert bob.request("/examiner/reopen/2.2", {"csrf": marking.field(page, "csrf")})[0] == 403
        _, _, view = ann.request("/examiner")
        assert ann.request("/examiner/reopen/2.2", {"csrf": marking.field(view, "csrf")})[0] == 200
        assert _marks(course)[_store(course).answer(first).code, "2.2"] == 1.5  # kept until marked again
        _, _, history = ann.request(f"/answer/{first}")
        assert "History (2)" in history and "1.5 → 1.5" not in history and "– → 1.5" in history
        cid = Client(server.url)
        cid.log_in("cid", "cid-password")
        again, page = cid.next("2.2")  # bob holds the answer after his last: cid gets the first re-opened
        assert again == first and "The examiner re-opened this part" in page and 'value="1.5"' in page
        cid.save(first, page, "1")
    assert _marks(course)[_store(course).answer(first).code, "2.2"] == 1
    assert [row["action"] for row in _store(course).audit(first)] == ["mark", "reopen", "mark"]


def test_each_copy_shows_its_own_variants_solution_and_an_answer_of_two_spaces_shows_both(tmp_path):
    import json

    from examgen.commands.mark import marked_parts
    from examgen.project import Project

    exam = marking.EXAM.replace("examiner: Dr. Test\n", "examiner: Dr. Test\nvariants: [A, B]\n").replace(
        "  - title: Working\n", "  - title: Working\n    compute: |\n      a = draw(100, 100000)\n").replace(
        "solution: Forty-two, as six sevens make $42$.", "solution: Seven times << a >> is << 7 * a >>.")
    make_course(tmp_path, copies=2, spaces={"2.1": 2}, exam=exam)
    codes = marking.codes(2)
    copies = tmp_path / "course" / marking.EXAM_ID / "copies"
    copies.mkdir(parents=True)
    (copies / "manifest.json").write_text(json.dumps({"entries": [{"code": codes[0], "variant": "A"},
                                                                  {"code": codes[1], "variant": "B"}]}))
    variants = marked_parts(Project(tmp_path).resolve(marking.EXAM_ID)).variants
    solutions = {label: parts["2.1"].solution for label, parts in variants.items()}
    assert solutions["A"] != solutions["B"]
    add_account(tmp_path, "bob", "bob-password")
    with Server.start(tmp_path) as server:
        bob = Client(server.url)
        bob.log_in("bob", "bob-password")
        first, page_a = bob.next("2.1")
        assert bob.save(first, page_a, "", flag="see the second space")[0] == 200
        second, page_b = bob.next("2.1")
        assert _store(tmp_path).answer(first).code == codes[0]
        status, _, image = bob.request(f"/answer/{first}/space/1")
        missing = bob.request(f"/answer/{first}/space/2")
    assert solutions["A"] in page_a and solutions["B"] in page_b and solutions["B"] not in page_a
    assert page_a.count('class="space"') == 2 and status == 200
    assert missing[0] == 404 and "has no image of answer space 3" in missing[2]


def test_repeated_failed_logins_lock_the_account_then_the_address(course):
    from concurrent.futures import ThreadPoolExecutor

    from examgen.markserver.app import ACCOUNT_FAILURES, ADDRESS_FAILURES

    def fail(name: str) -> int:
        return Client(server.url).log_in(name, "wrong-password")

    with Server.start(course) as server:
        with ThreadPoolExecutor(ACCOUNT_FAILURES) as pool:
            assert set(pool.map(fail, ["bob"] * ACCOUNT_FAILURES)) == {401}
        bob = Client(server.url)
        assert bob.log_in("bob", "bob-password") == 429  # the right password, refused unchecked
        assert "too many failed logins for this account" in bob.request("/login", {
            "login_token": marking.field(bob.request("/login")[2], "login_token"), "name": "BOB",
            "password": "bob-password"})[2]
        assert bob.request("/")[1].endswith("/login?next=/")  # no session
        assert Client(server.url).log_in("cid", "cid-password") == 200  # another account from the address
        others = [f"guess{number}" for number in range(ADDRESS_FAILURES - ACCOUNT_FAILURES)]
        with ThreadPoolExecutor(len(others)) as pool:
            assert set(pool.map(fail, others)) == {401}
        cid = Client(server.url)
        assert cid.log_in("cid", "cid-password") == 429
        assert "too many failed logins for this network address" in cid.request("/login", {
            "login_token": marking.field(cid.request("/login")[2], "login_token"), "name": "cid",
            "password": "cid-password"})[2]


def test_under_per_copy_variants_each_copy_shows_its_own_solution_and_notes(tmp_path):
    import json

    exam = marking.EXAM.replace("examiner: Dr. Test\n", "examiner: Dr. Test\nvariants: per-copy\n").replace(
        "  - title: Working\n", "  - title: Working\n    compute: |\n      a = draw(100, 100000)\n").replace(
        "solution: Forty-two, as six sevens make $42$.", "solution: Seven times << a >> is << 7 * a >>.").replace(
        "text: correct product", "text: the product << 7 * a >>")
    make_course(tmp_path, copies=4, exam=exam)
    codes = marking.codes(4)
    copies = tmp_path / "course" / marking.EXAM_ID / "copies"
    copies.mkdir(parents=True)
    (copies / "manifest.json").write_text(json.dumps({"entries": [{"code": code, "variant": str(number)}
                                                                  for number, code in enumerate(codes[:3], 1)]}))
    add_account(tmp_path, "bob", "bob-password")
    pages = {}
    with Server.start(tmp_path) as server:
        bob = Client(server.url)
        bob.log_in("bob", "bob-password")
        for _ in codes:
            answer, page = bob.next("2.1")
            pages[_store(tmp_path).answer(answer).code] = page
            assert bob.save(answer, page, "1")[0] == 200
    unknown = pages.pop(codes[3])  # a copy the manifest does not name: the screen says so
    assert 'id="variant-unknown"' in unknown and not any('id="variant-unknown"' in page for page in pages.values())
    shown = {code: re.search(r"Seven times (\d+) is (\d+)", page).groups() for code, page in pages.items()}
    assert len({a for a, _ in shown.values()}) == 3  # three copies, three draws
    for code, (a, product) in shown.items():
        assert int(product) == 7 * int(a) and f"the product {product}" in pages[code]


def test_a_solutions_figure_is_shown_beside_it_and_one_without_an_image_is_said_to_be_missing(tmp_path):
    from PIL import Image

    figures = ("    figures:\n      - id: grid\n        caption: The grid.\n        image: grid.png\n"
               "      - id: lost\n        caption: A picture that cannot compile.\n"
               "        tikz: \\begin{tikzpicture}\\undefinedcommand\\end{tikzpicture}\n")
    exam = marking.EXAM.replace("  - title: Working\n", "  - title: Working\n" + figures).replace(
        "solution: Forty-two, as six sevens make $42$.",
        "solution: |\n          Forty-two, as the grid shows: << figure('grid') >>\n"
        "      - points: 1\n        prompt: Nothing.\n        space: 1cm\n"
        "        solution: \"See << figure('lost') >>\"")
    make_course(tmp_path, copies=1, exam=exam)
    Image.new("RGB", (40, 30), "red").save(tmp_path / "exams" / marking.EXAM_ID / "grid.png")
    add_account(tmp_path, "bob", "bob-password")
    with Server.start(tmp_path) as server:
        bob = Client(server.url)
        bob.log_in("bob", "bob-password")
        _, page = bob.next("2.1")
        source = re.search(r'<img src="(/figure/[^"]+)" alt="Figure \S+: The grid\."', page)
        assert source, page
        status, _, _ = bob.request(source[1])
        missing = bob.request("/figure/nothing.png")
        _, lost = bob.next("2.2")
    assert status == 200 and missing[0] == 404
    assert re.search(r'class="unshown">Not shown here \(the figure \S+ has no rendered image\)', lost), lost


@pytest.mark.latex
def test_printed_copies_scanned_marked_on_screen_and_graded(tmp_path):
    """The round trip: copies (LaTeX), scans of them (tests/scansim.py), `examgen scan`, marking on
    screen, the marks sheet, `examgen grade`: paper and screen points where they belong."""
    import random

    import scansim
    from support import write_exam

    from examgen.commands.copies import CopiesRequest, make_copies
    from examgen.commands.grade import GradeRequest, grade
    from examgen.commands.returned import ReturnRequest, return_copies
    from examgen.commands.scan import ScanRequest, scan
    from examgen.project import Project
    from examgen.scanning.printed import read_printed

    write_exam(tmp_path / "exams" / marking.EXAM_ID, marking.EXAM)
    target = Project(tmp_path).resolve(marking.EXAM_ID)
    make_copies(target, CopiesRequest(count=3))
    printed = read_printed(target.copies, marking.EXAM_ID)
    rng = random.Random(11)
    truth = scansim.plan_marks(printed, rng, ambiguous_share=0, grader_slips=0)
    for key in [key for key in truth.marks if key[2] == "2.2"]:  # part 2.2 is left to the screen
        truth.marks[key] = "empty"
    pages = [scansim.scan_copy_page(printed, truth, code, page, rng, 200) for code in printed.codes
             for page in range(1, printed.pages_per_copy + 1)]
    scan(target, ScanRequest((scansim.write_pdf(pages, tmp_path / "bundle.pdf", 200),)))
    add_account(tmp_path, "bob", "bob-password")
    codes = list(printed.codes)
    on_screen = {codes[0]: "1.5", codes[1]: "1", codes[2]: "0.5"}
    with Server.start(tmp_path) as server:
        bob = Client(server.url)
        bob.log_in("bob", "bob-password")
        while (found := bob.next("2.2"))[0] is not None:
            answer, page = found
            assert bob.save(answer, page, on_screen[_store(tmp_path).answer(answer).code], notes=(0,),
                            comment="see the sample solution")[0] == 200
        def mark_21(code: str, points: float) -> None:
            answer = next(a for a in _store(tmp_path).answers(part="2.1") if a.code == code)
            _, _, page = bob.request(f"/answer/{answer.id}")
            assert bob.save(answer.id, page, f"{points:g}")[0] == 200

        mark_21(codes[0], truth.points[codes[0], "2.1"])  # agrees with the paper
        mark_21(codes[1], 2 - truth.points[codes[1], "2.1"] or 1)  # disagrees
        mark_21(codes[2], truth.points[codes[2], "2.1"])  # the paper's boxes were flagged: the screen decides
        done = examgen(tmp_path, "mark", marking.EXAM_ID, "--export", "sheet.csv")
        assert done.returncode == 0, done.stderr
        assert done.stderr.count("conflict:") == 1 and f"copy {codes[1]}, part 2.1" in done.stderr
        with pytest.raises(ExamgenError, match=f"copy {codes[1]}: not graded: part 2.1"):  # grade refuses a gap
            grade(target, GradeRequest(tmp_path / "sheet.csv", target.course / "scans" / "crosses.csv"))
        mark_21(codes[1], truth.points[codes[1], "2.1"])  # settled: the paper was right
    done = examgen(tmp_path, "mark", marking.EXAM_ID, "--export", "sheet.csv")
    assert done.returncode == 0 and "conflict" not in done.stderr
    result = grade(target, GradeRequest(tmp_path / "sheet.csv", target.course / "scans" / "crosses.csv"))
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(
        (result.out_dir / "results.csv").read_text(encoding="utf-8")))}
    assert {code: float(rows[code]["2.2"]) for code in codes} == {code: float(p) for code, p in on_screen.items()}
    assert {code: float(rows[code]["2.1"]) for code in codes} == {code: truth.points[code, "2.1"] for code in codes}
    returned = return_copies(target, ReturnRequest())  # the marks given on screen go back to the students
    assert returned.on_screen == 6 and returned.returned == 3
    assert not [warning for warning in returned.warnings if "screen" in warning]
    assert {mark.notes for mark in part_marks(target.course / "scans" / STORE) if mark.part == "2.2"} == {
        ("a square number",)}  # as the exam's source words it: the key the return finds its points by
