"""The marking store: one SQLite file beside the scans (``<scan folder>/marking.sqlite``, WAL mode; a
backup is a copy of it, docs/marking.md). It holds the graders' accounts and sessions, every answer
to mark with its current mark, the leases that keep two graders off the same answer, and the audit
log of every change. Every change is one transaction, committed (fsynced) before the grader is told
it is saved, so a killed server loses at most the answer being typed.

The schema is versioned (``PRAGMA user_version``): a later examgen opens an older store by applying
the MIGRATIONS it lacks, in order; a store of a newer examgen is refused, never changed."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import Loc, MarkingError
from .records import ANNOTATION_KINDS, Annotation, PartMark

STORE = "marking.sqlite"
LEASE_SECONDS = 15 * 60  # an answer handed out stays the grader's this long without a save
SESSION_SECONDS = 12 * 3600  # a login lasts a working day
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}  # hashlib.scrypt's cost: about 50 ms a login

# Each entry takes the schema one version up; the store's version is how many it has applied.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE graders (name TEXT PRIMARY KEY, salt BLOB NOT NULL, hash BLOB NOT NULL,
                          examiner INTEGER NOT NULL, created TEXT NOT NULL);
    CREATE TABLE sessions (token TEXT PRIMARY KEY, grader TEXT NOT NULL REFERENCES graders(name) ON DELETE CASCADE,
                           csrf TEXT NOT NULL, expires REAL NOT NULL);
    CREATE TABLE answers (id INTEGER PRIMARY KEY, code TEXT NOT NULL, part TEXT NOT NULL, spaces INTEGER NOT NULL,
                          points REAL, notes TEXT NOT NULL DEFAULT '[]', comment TEXT NOT NULL DEFAULT '',
                          annotations TEXT NOT NULL DEFAULT '[]', flag TEXT NOT NULL DEFAULT '',
                          grader TEXT, marked TEXT, version INTEGER NOT NULL DEFAULT 0,
                          reopened INTEGER NOT NULL DEFAULT 0, todo INTEGER NOT NULL DEFAULT 1,
                          lease_grader TEXT, lease_until REAL, UNIQUE (code, part));
    CREATE INDEX answers_queue ON answers (part, todo, id);
    CREATE INDEX answers_grader ON answers (grader, part);
    CREATE INDEX answers_progress ON answers (part, grader, points, flag, reopened);
    CREATE INDEX answers_lease ON answers (lease_grader);
    CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, grader TEXT NOT NULL, answer INTEGER NOT NULL,
                        code TEXT NOT NULL, part TEXT NOT NULL, action TEXT NOT NULL, old TEXT, new TEXT);
    """,
)


@dataclass(frozen=True)
class Grader:
    name: str
    examiner: bool  # sees every grader's marks and flags, re-opens parts


@dataclass(frozen=True)
class Session:
    token: str
    grader: Grader
    csrf: str  # the token every form and request that changes something must carry


@dataclass(frozen=True)
class Answer:
    """One part of one copy to mark, with its current mark (points None: not marked yet)."""

    id: int
    code: str
    part: str
    spaces: int  # answer spaces (images) of the part on the copy
    points: float | None
    notes: tuple[str, ...]
    comment: str
    annotations: tuple[Annotation, ...]
    flag: str  # the grader's words to the examiner; "" for none
    grader: str | None
    marked: str | None  # when (UTC, ISO 8601)
    version: int  # 0: never saved; each save adds one
    reopened: bool
    lease_grader: str | None
    lease_until: float | None


@dataclass(frozen=True)
class Given:
    """What a grader saves for an answer."""

    points: float | None
    notes: tuple[str, ...]
    comment: str
    annotations: tuple[Annotation, ...]
    flag: str


@dataclass(frozen=True)
class Conflict:
    """A save refused because someone else saved the answer since it was opened."""

    current: Answer


@dataclass(frozen=True)
class Progress:
    part: str
    answers: int
    marked: int
    flagged: int
    reopened: int
    by_grader: dict[str, int]


def _utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, **SCRYPT)


def annotations_json(annotations: Iterable[Annotation]) -> str:
    """Annotations as the store and the marking page keep them (annotations_of reads them back)."""
    return json.dumps([{"kind": a.kind, "x": a.x, "y": a.y, "text": a.text, "space": a.space} for a in annotations])


def annotations_of(text: str) -> tuple[Annotation, ...]:
    """Annotations from their JSON (the store's, or a marking form's): a list of objects with kind,
    x, y (0 to 1), text and space. Raises ValueError, with what is wrong, on anything else."""
    found = []
    for item in json.loads(text or "[]"):
        if not isinstance(item, dict) or item.get("kind") not in ANNOTATION_KINDS:
            raise ValueError(f"an annotation must be one of {', '.join(ANNOTATION_KINDS)}")
        x, y, space = item.get("x"), item.get("y"), item.get("space", 0)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in (x, y)):
            raise ValueError("an annotation's place must be fractions from 0 to 1 of the answer space")
        if not isinstance(space, int) or isinstance(space, bool) or space < 0:
            raise ValueError("an annotation's answer space must be a number from 0")
        words = item.get("text", "")
        if not isinstance(words, str) or len(words) > 200:
            raise ValueError("an annotation's text must be at most 200 characters")
        found.append(Annotation(item["kind"], float(x or 0), float(y or 0),
                                words if item["kind"] == "text" else "", space))
    return tuple(found)


class Store:
    """The open store: one connection, its calls serialised (the server calls it from its event loop
    and from worker threads alike)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.RLock()  # the writing connection's
        self._reader_lock = threading.Lock()  # a second connection's, for reads: WAL lets them go on during a write
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit survives the process being killed
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            self._reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
            self._reader.row_factory = sqlite3.Row
        except sqlite3.DatabaseError as exc:
            raise MarkingError(f"is not a marking store examgen can open ({exc}): restore it from a backup, or "
                               "move it aside to start marking anew", Loc(path)) from None

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise MarkingError(f"was made by a newer examgen (schema {version}, this examgen knows up to "
                               f"{len(MIGRATIONS)}): use that examgen, or a newer one", Loc(self.path))
        for number in range(version, len(MIGRATIONS)):
            with self._transaction(durable=True):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number + 1}")

    def _transaction(self, durable: bool = False):
        """A write transaction; a ``durable`` one (a mark) is on the disk before it returns, the others
        (leases, sessions) survive the server being killed but maybe not the machine losing power."""
        return _Transaction(self._db, self._lock, durable)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._reader_lock:
            yield self._reader

    def close(self) -> None:
        with self._lock, self._reader_lock:
            self._reader.close()
            self._db.close()

    # accounts and sessions

    def add_grader(self, name: str, password: str, examiner: bool) -> None:
        """Add an account, or give an existing one a new password (and role)."""
        salt = secrets.token_bytes(16)
        digest = _hash(password, salt)
        with self._transaction(durable=True) as db:
            db.execute("INSERT INTO graders VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                       "salt = excluded.salt, hash = excluded.hash, examiner = excluded.examiner",
                       (name, salt, digest, int(examiner), _utc()))
            db.execute("DELETE FROM sessions WHERE grader = ?", (name,))

    def remove_grader(self, name: str) -> bool:
        """Remove an account, its sessions and its leases; whether there was one."""
        with self._transaction(durable=True) as db:
            db.execute("UPDATE answers SET lease_grader = NULL, lease_until = NULL WHERE lease_grader = ?", (name,))
            return db.execute("DELETE FROM graders WHERE name = ?", (name,)).rowcount > 0

    def graders(self) -> list[Grader]:
        with self._reading() as db:
            return [Grader(row["name"], bool(row["examiner"]))
                    for row in db.execute("SELECT name, examiner FROM graders ORDER BY name")]

    def log_in(self, name: str, password: str) -> Session | None:
        """A new session for the account, or None where the name or password is wrong (hashing as long
        for an unknown name, so the time does not tell which)."""
        with self._reading() as db:
            row = db.execute("SELECT salt, hash, examiner FROM graders WHERE name = ?", (name,)).fetchone()
        digest = _hash(password, row["salt"] if row else b"\0" * 16)
        if row is None or not hmac.compare_digest(digest, row["hash"]):
            return None
        session = Session(secrets.token_urlsafe(32), Grader(name, bool(row["examiner"])), secrets.token_urlsafe(32))
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE expires < ?", (time.time(),))
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                       (session.token, name, session.csrf, time.time() + SESSION_SECONDS))
        return session

    def session(self, token: str) -> Session | None:
        with self._reading() as db:
            row = db.execute("SELECT s.token, s.csrf, g.name, g.examiner FROM sessions s JOIN graders g "
                                   "ON g.name = s.grader WHERE s.token = ? AND s.expires > ?",
                                   (token, time.time())).fetchone()
        return Session(row["token"], Grader(row["name"], bool(row["examiner"])), row["csrf"]) if row else None

    def log_out(self, token: str) -> None:
        with self._transaction() as db:
            row = db.execute("DELETE FROM sessions WHERE token = ? RETURNING grader", (token,)).fetchone()
            if row:
                db.execute("UPDATE answers SET lease_grader = NULL, lease_until = NULL WHERE lease_grader = ?",
                           (row["grader"],))

    # answers

    def add_answers(self, found: Iterable[tuple[str, str, int]]) -> None:
        """The scan's answers (code, part, spaces): new ones added, a changed count of spaces updated."""
        with self._transaction() as db:
            db.executemany("INSERT INTO answers (code, part, spaces) VALUES (?, ?, ?) ON CONFLICT (code, part) "
                           "DO UPDATE SET spaces = excluded.spaces WHERE spaces != excluded.spaces", list(found))

    def answer(self, answer_id: int) -> Answer | None:
        with self._reading() as db:
            row = db.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return _answer(row) if row else None

    def next_answer(self, part: str, grader: str, skipped: int | None = None) -> Answer | None:
        """The next answer of the part for the grader, leased to them: the one they hold already, else
        the first still to mark that no one else holds; after ``skipped`` (an answer set aside), the
        next such one after it, round to the start, and it again only where no other is left.
        Another grader's lease lapses after LEASE_SECONDS."""
        now = time.time()
        free = "part = ? AND todo = 1 AND (lease_grader IS NULL OR lease_until <= ? OR lease_grader = ?)"
        choices: list[tuple[str, tuple[object, ...]]] = [
            ("part = ? AND todo = 1 AND lease_grader = ? AND lease_until > ?", (part, grader, now))]
        if skipped is not None:
            choices = [(f"{free} AND id > ?", (part, now, grader, skipped)),
                       (f"{free} AND id != ?", (part, now, grader, skipped))]
        choices.append((free, (part, now, grader)))
        with self._transaction() as db:
            row = None
            for condition, values in choices:
                row = row or db.execute(f"SELECT * FROM answers WHERE {condition} ORDER BY id LIMIT 1",
                                        values).fetchone()
            if row is None:
                return None
            db.execute("UPDATE answers SET lease_grader = NULL, lease_until = NULL WHERE lease_grader = ? AND id != ?",
                       (grader, row["id"]))
            db.execute("UPDATE answers SET lease_grader = ?, lease_until = ? WHERE id = ?",
                       (grader, now + LEASE_SECONDS, row["id"]))
        return replace(_answer(row), lease_grader=grader, lease_until=now + LEASE_SECONDS)

    def save(self, answer_id: int, grader: str, version: int, given: Given) -> Answer | Conflict:
        """Save a mark made on version ``version`` of the answer; a conflict where someone saved it since.
        The change goes into the audit log with the mark before and after."""
        with self._transaction(durable=True) as db:
            row = db.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
            old = _answer(row)
            if old.version != version:
                return Conflict(old)
            marked = _utc()
            todo = int(given.points is None and not given.flag)
            db.execute("UPDATE answers SET points = ?, notes = ?, comment = ?, annotations = ?, flag = ?, grader = ?, "
                       "marked = ?, version = version + 1, reopened = 0, todo = ?, lease_grader = NULL, "
                       "lease_until = NULL WHERE id = ?",
                       (given.points, json.dumps(list(given.notes)), given.comment,
                        annotations_json(given.annotations), given.flag, grader, marked, todo, answer_id))
            new = _answer(db.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone())
            self._audit(db, grader, old, "mark", _shown(old) if old.version else None, _shown(new))
        return new

    def reopen(self, part: str, examiner: str) -> int:
        """Hand every marked answer of the part out again (their marks kept as the starting point)."""
        with self._transaction(durable=True) as db:
            rows = db.execute("SELECT * FROM answers WHERE part = ? AND reopened = 0 AND version > 0",
                              (part,)).fetchall()
            db.execute("UPDATE answers SET reopened = 1, todo = 1 WHERE part = ? AND version > 0", (part,))
            for row in rows:
                self._audit(db, examiner, _answer(row), "reopen", None, None)
        return len(rows)

    def _audit(self, db: sqlite3.Connection, grader: str, answer: Answer, action: str, old: dict | None,
               new: dict | None) -> None:
        db.execute("INSERT INTO audit (at, grader, answer, code, part, action, old, new) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (_utc(), grader, answer.id, answer.code, answer.part, action,
                    None if old is None else json.dumps(old), None if new is None else json.dumps(new)))

    # what graders and the examiner see

    def answers(self, part: str | None = None, grader: str | None = None, marked_only: bool = False,
                flagged_only: bool = False, latest: int | None = None) -> list[Answer]:
        """Answers in the order of the parts and their ids; ``latest``: only the last N saved."""
        query, wanted = "SELECT * FROM answers WHERE 1", []
        if flagged_only:
            query += " AND flag != ''"
        for column, value in (("part", part), ("grader", grader)):
            if value is not None:
                query += f" AND {column} = ?"
                wanted.append(value)
        if marked_only:
            query += " AND version > 0"
        if latest is not None:
            query = f"SELECT * FROM ({query} ORDER BY marked DESC, id DESC LIMIT {int(latest)})"
        with self._reading() as db:
            return [_answer(row) for row in db.execute(query + " ORDER BY part, id", wanted)]

    def progress(self, part: str | None = None) -> dict[str, Progress]:
        """Every part's progress (or one part's)."""
        where, wanted = ("WHERE part = ?", (part,)) if part is not None else ("", ())
        with self._reading() as db:
            totals = db.execute(
                "SELECT part, count(*) AS answers, sum(points IS NOT NULL AND reopened = 0) AS marked, "
                f"sum(flag != '') AS flagged, sum(reopened) AS reopened FROM answers {where} GROUP BY part",
                wanted).fetchall()
            mine = db.execute(f"SELECT part, grader, count(*) AS marked FROM answers {where} "
                                    f"{'AND' if where else 'WHERE'} points IS NOT NULL GROUP BY part, grader",
                                    wanted).fetchall()
        found = {row["part"]: Progress(row["part"], row["answers"], row["marked"], row["flagged"], row["reopened"], {})
                 for row in totals}
        for row in mine:
            found[row["part"]].by_grader[row["grader"]] = row["marked"]
        return found

    def audit(self, answer_id: int | None = None) -> list[sqlite3.Row]:
        with self._reading() as db:
            if answer_id is None:
                return db.execute("SELECT * FROM audit ORDER BY id").fetchall()
            return db.execute("SELECT * FROM audit WHERE answer = ? ORDER BY id", (answer_id,)).fetchall()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT under the store's lock; ROLLBACK on any exception. A durable one
    syncs the WAL to the disk at its commit (synchronous=FULL)."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock, durable: bool):
        self.db, self.lock, self.durable = db, lock, durable

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        if self.durable:
            self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, *exc) -> None:
        try:
            self.db.execute("ROLLBACK" if kind else "COMMIT")
            if self.durable:
                self.db.execute("PRAGMA synchronous=NORMAL")
        finally:
            self.lock.release()


def _shown(answer: Answer) -> dict:
    """An answer's mark as the audit log keeps it."""
    return {"points": answer.points, "notes": list(answer.notes), "comment": answer.comment, "flag": answer.flag,
            "annotations": json.loads(annotations_json(answer.annotations)), "version": answer.version}


def _answer(row: sqlite3.Row) -> Answer:
    return Answer(row["id"], row["code"], row["part"], row["spaces"], row["points"], tuple(json.loads(row["notes"])),
                row["comment"], annotations_of(row["annotations"]), row["flag"], row["grader"], row["marked"],
                row["version"], bool(row["reopened"]), row["lease_grader"], row["lease_until"])


def part_marks(store: Path) -> list[PartMark]:
    """Every part of every copy marked on screen, as it stands now (re-opened parts with their last
    marks); empty where there is no store. Read-only: `examgen return` calls it while marking may go on."""
    if not store.is_file():
        return []
    db = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        rows = db.execute("SELECT * FROM answers WHERE points IS NOT NULL ORDER BY code, part").fetchall()
    except sqlite3.DatabaseError as exc:
        raise MarkingError(f"is not a marking store examgen can read ({exc})", Loc(store)) from None
    finally:
        db.close()
    return [PartMark(row["code"], row["part"], row["points"], tuple(json.loads(row["notes"])), row["comment"],
                     annotations_of(row["annotations"]), row["grader"]) for row in rows]


def open_store(path: Path, answers: Sequence[tuple[str, str, int]] = ()) -> Store:
    """The store at ``path``, made or brought to this examgen's schema, with the scan's answers added."""
    store = Store(path)
    if answers:
        store.add_answers(answers)
    return store
