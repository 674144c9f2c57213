"""The sandbox of template expressions: exam texts, numeric answers and the theme's templates
render in it, inside examgen's own process.

Jinja's immutable sandbox refuses Python's internals (``figure.__globals__``) and changing
lists and mappings in place. What it leaves open, this module closes:

- One step that builds something huge or computes for ever: every string, list or mapping
  an operation makes is measured, before it is made where it can be (``*``, ``**``, ``+``,
  ``%``, ``~``, a range, the filters that widen their input, printing a value), else right
  after (literals, calls, other filters): at most MAX_SIZE characters or items, counted through
  nested lists as printing them would (a list holding one long string twice counts it twice);
  integers stay below MAX_INT_BITS. Methods of strings, numbers, lists and mappings are limited
  to those that cannot widen (no ``ljust``, ``to_bytes``, ``format``). A filter whose arguments
  set how long one step in C runs (``round``'s precision) has them bounded before it runs: the
  watchdog below cannot interrupt C.
- What one rendering outputs: at most MAX_SIZE characters.
- Many small steps: a watchdog thread stops a rendering past SECONDS or past MEMORY_BYTES of
  growth of examgen's memory, by raising an exception in the rendering thread
  (PyThreadState_SetAsyncExc). The orchestrator renders in worker threads, where SIGALRM
  (the main thread's only) could not reach.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from jinja2 import Undefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

MAX_ITEMS = 100_000  # a range: what a text may loop over
MAX_SIZE = 10_000_000  # characters (or items) one operation may build, and one rendering output
MAX_INT_BITS = 100_000  # integers of about 30,000 digits
MAX_ROUND_DIGITS = 30_000  # round's precision: past the digits of any number a template holds, it rounds nothing
SECONDS = 5  # one text, answer or document; texts render in milliseconds
MEMORY_BYTES = 512 * 1024 * 1024  # growth of examgen's memory while one rendering runs
POLL_SECONDS = 0.02
REFIRE_SECONDS = 1.0  # a stopped rendering that carries on is stopped again

T = TypeVar("T")

# The methods of plain data a template may use, by kind (subclasses too); none widens its input.
SAFE_METHODS: tuple[tuple[tuple[type, ...], frozenset[str]], ...] = (
    ((str,), frozenset({
        "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha", "isdecimal",
        "isdigit", "islower", "isnumeric", "isspace", "istitle", "isupper", "lower", "lstrip", "partition",
        "removeprefix", "removesuffix", "rfind", "rindex", "rpartition", "rsplit", "rstrip", "split",
        "splitlines", "startswith", "strip", "swapcase", "title", "upper"})),
    ((int, bool, float), frozenset({"real", "imag", "numerator", "denominator", "conjugate", "is_integer",
                                    "bit_length"})),
    ((list, tuple), frozenset({"count", "index"})),
    ((Mapping,), frozenset({"get", "items", "keys", "values"})),
)
SCALARS = frozenset({float, bool, type(None)})  # each prints as a few characters
PRINTED_AS_MADE = SCALARS | {str, int}
FORMAT_FIELD = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d*)(?:\.(\*|\d*))?")


class TemplateLimit(Exception):
    """A template went past a limit of the sandbox; the message says which."""


def size(value: Any, budget: int = MAX_SIZE) -> int:
    """About how many characters ``value`` prints as, nested lists and mappings counted through
    (as often as they occur); counting stops once past ``budget``."""
    return _count(value, budget, set())


def _count(value: Any, budget: int, open_: set[int]) -> int:
    kind = type(value)
    if kind is str:
        return len(value)
    if kind is int:
        return value.bit_length() // 3 + 1
    if kind in SCALARS:
        return 1
    if kind is not list and kind is not tuple and kind is not dict:  # rarer kinds, by the slower isinstance
        if isinstance(value, str):
            return len(value)
        if isinstance(value, int):
            return value.bit_length() // 3 + 1
        if isinstance(value, Namespace):
            value = value._Namespace__attrs  # Jinja reads it so, too
        elif isinstance(value, (range, Undefined)) or not isinstance(value, Collection):
            return 1  # an undefined value fails where it is used (``|default`` may use it)
    if id(value) in open_:  # inside itself: printed as "[...]"
        return 5
    total = 1 + len(value)
    open_.add(id(value))
    try:
        for item in itertools.chain(value.keys(), value.values()) if isinstance(value, Mapping) else value:
            kind = type(item)
            total += len(item) if kind is str else 1 if kind in SCALARS else _count(item, budget - total, open_)
            if total > budget:
                break
    finally:
        open_.discard(id(value))
    return total


def _refuse_past(amount: int, what: str) -> None:
    if amount > MAX_SIZE:
        raise TemplateLimit(f"{what} would make {amount:,} characters or items, more than the {MAX_SIZE:,} a "
                            "template may make at once")


def checked(value: T, what: str = "the value") -> T:
    """The value, if it is not too large."""
    _refuse_past(size(value), what)
    return value


def _formatted_size(form: str, values: Any) -> int:
    """An upper bound of ``form % values``: its text, the values and every width and precision."""
    widths = 0
    for width, precision in FORMAT_FIELD.findall(form):
        if "*" in (width, precision):
            raise TemplateLimit("a '*' width in a '%' format is not allowed in templates: write the number")
        widths += int(width[:9] or 0) + int(precision[:9] or 0)  # nine digits are more than enough to refuse
    return len(form) + size(values) + widths


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too large, before it runs."""
    if operator == "**" and _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
        bits = right * abs(left).bit_length()
        if bits > MAX_INT_BITS:
            raise TemplateLimit(f"{left} ** {right} would have about {bits:,} bits, more than the {MAX_INT_BITS:,} "
                                "a template's numbers may have")
    elif operator == "*":
        if _is_int(left) and _is_int(right):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise TemplateLimit(f"the product would have more than the {MAX_INT_BITS:,} bits a template's "
                                    "numbers may have")
        elif _is_int(right) and isinstance(left, (str, list, tuple)):
            _refuse_past(right * size(left), f"repeating a value {right:,} times")
        elif _is_int(left) and isinstance(right, (str, list, tuple)):
            _refuse_past(left * size(right), f"repeating a value {left:,} times")
    elif operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
        _refuse_past(size(left) + size(right), "joining the two values")
    elif operator == "%" and isinstance(left, str):
        _refuse_past(_formatted_size(left, right), "the '%' format")


def bounded_range(*args: int) -> range:
    """``range`` for templates: at most MAX_ITEMS numbers."""
    numbers = range(*args)
    try:
        count = len(numbers)
    except OverflowError:  # more than the machine counts
        count = MAX_SIZE * MAX_SIZE
    if count > MAX_ITEMS:
        shown = ", ".join(map(str, args))
        raise TemplateLimit(f"range({shown}) has {count:,} numbers; a template may count to {MAX_ITEMS:,}")
    return numbers


def _lines(text: Any) -> int:
    return str(text).count("\n") + 1


def _replaced_size(s: Any, old: Any, new: Any, count: int | None = None) -> int:
    text, old = str(s), str(old)
    found = text.count(old) if old else len(text) + 1
    if count is not None and count >= 0:
        found = min(found, count)
    return len(text) + found * max(0, size(new) - len(old))


# Filters that can make more than they are given, each with the most it makes; each takes the
# filter's own parameters, so Python binds the template's arguments to them as the filter would.
WIDENING: dict[str, Callable[..., int]] = {
    "center": lambda value, width=80: size(value) + width,
    "indent": lambda s, width=4, first=False, blank=False: (
        size(s) + _lines(s) * (width if _is_int(width) else size(width))),
    "format": lambda value, *args, **kwargs: _formatted_size(str(value), kwargs or args),
    "replace": _replaced_size,
    "join": lambda value, d="", attribute=None: size(value) + len(value) * size(d),
    "batch": lambda value, linecount, fill_with=None: size(value) + linecount * size(fill_with),
    "slice": lambda value, slices, fill_with=None: size(value) + slices * size(fill_with),
    "wordwrap": lambda s, width=79, break_long_words=True, wrapstring=None, break_on_hyphens=True: (
        size(s) * (1 + size(wrapstring or ""))),
    "sum": lambda iterable, attribute=None, start=0: (  # adding lists copies them again at every step
        0 if isinstance(start, (int, float)) else len(iterable) * size(iterable)),
}


def _round_precision(value: Any, precision: Any = 0, method: Any = "common") -> None:
    """``round`` makes 10 ** precision in C, where no time limit can stop it: a precision of
    30,000,000 digits took minutes."""
    if _is_int(precision) and abs(precision) > MAX_ROUND_DIGITS:
        raise TemplateLimit(f"round({precision:,}): a precision of more than {MAX_ROUND_DIGITS:,} digits either "
                            "way is refused (no number of a template has that many): round to fewer places")


# Filters whose arguments decide how long one step in C takes, each with its check of them (taking
# the filter's own parameters, as WIDENING's do).
SLOW_ARGUMENTS: dict[str, Callable[..., None]] = {"round": _round_precision}


def _bounded_filter(name: str, function: Callable) -> Callable:
    """A filter whose input is made a list if it was an iterator (counted while it is read), and
    which refuses to make more than MAX_SIZE: before it runs where it may widen, else after; and
    arguments that would make one step run for minutes (SLOW_ARGUMENTS)."""
    passes_argument = getattr(function, "jinja_pass_arg", None) is not None
    widening = WIDENING.get(name)
    slow_arguments = SLOW_ARGUMENTS.get(name)

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        at = 1 if passes_argument else 0
        if isinstance(args[at], Iterator):
            args = (*args[:at], _read(args[at]), *args[at + 1:])
        for argument in (*args[at:], *kwargs.values()):
            checked(argument, f"the input of the filter '{name}'")
        if widening:
            _refuse_past(widening(*args[at:], **kwargs), f"the filter '{name}'")
        if slow_arguments:
            slow_arguments(*args[at:], **kwargs)
        result = function(*args, **kwargs)
        return result if isinstance(result, Iterator) else checked(result, f"the filter '{name}'")

    return bounded


def _read(items: Iterator) -> list:
    """An iterator's items as a list, refused as soon as they are too many or too large."""
    read, total = [], 0
    for item in items:
        total += 1 + size(item)
        _refuse_past(total, "the list")
        read.append(item)
    return read


class _Generator(CodeGenerator):
    """Template code that measures what a literal (``[a, a]``) or a ``~`` builds."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.joined((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")

    def _measured(self, visit: Callable[[Any, Frame], None], node: nodes.Expr, frame: Frame) -> None:
        self.write("environment.checked(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self._measured(super().visit_List, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self._measured(super().visit_Dict, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx == "load":  # not the targets of ``for a, b in``
            self._measured(super().visit_Tuple, node, frame)
        else:
            super().visit_Tuple(node, frame)


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with the bounds above; ``filters`` join Jinja's own, bounded too."""

    code_generator_class = _Generator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, filters: dict[str, Callable], finalize: Callable[[Any], Any] = lambda value: value,
                 **options: Any):
        super().__init__(finalize=lambda value: finalize(self._printable(value)), **options)
        self.filters.update(filters)
        self.filters = {name: _bounded_filter(name, function) for name, function in self.filters.items()}
        self.globals["range"] = bounded_range
        self._allowed: dict[tuple[type, str], bool] = {}
        del self.globals["lipsum"]  # lorem ipsum of any length: nothing an exam needs

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Jinja's rule, but only the SAFE_METHODS of plain data; remembered by type and name (what
        the rule depends on), as templates ask for the same attributes of records again and again."""
        key = (type(obj), attr)
        allowed = self._allowed.get(key)
        if allowed is None:
            methods = next((methods for kinds, methods in SAFE_METHODS if isinstance(obj, kinds)), None)
            allowed = attr in methods if methods is not None else super().is_safe_attribute(obj, attr, value)
            self._allowed[key] = allowed
        return allowed

    def wrap_str_format(self, value: Any) -> None:
        """No ``str.format`` (its widths are unbounded): is_safe_attribute refuses it."""
        return None

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _check_binop(operator, left, right)
        return checked(super().call_binop(context, operator, left, right), f"'{operator}'")

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # Jinja's names: no keyword
        return checked(super().call(__context, __obj, *args, **kwargs), "the call")

    @staticmethod
    def checked(value: T) -> T:
        return checked(value, "the literal")

    @staticmethod
    def joined(values: tuple) -> str:
        """``a ~ b``: measured before the values become text."""
        _refuse_past(sum(size(value) for value in values), "'~'")
        return "".join(map(str, values))

    @staticmethod
    def _printable(value: T) -> T:
        """What ``<< value >>`` prints, measured before it becomes text (text and numbers are
        measured when they are made)."""
        return value if type(value) in PRINTED_AS_MADE else checked(value, "printing the value")

    @staticmethod
    def concat(pieces: Iterable[str]) -> str:  # Jinja's is "".join
        """A rendering's output (of a template, macro, block): at most MAX_SIZE characters.
        Reading the pieces runs the template, which the watchdog stops if they pile up."""
        pieces = list(pieces)
        _refuse_past(sum(map(len, pieces)), "the output")
        return "".join(pieces)


class _Stopped(Exception):
    """Raised in a rendering thread by the watchdog, nowhere else."""


_set_async_exception = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))
_clear_async_exception = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))


def _resident_bytes() -> int:
    """examgen's memory in use (its resident set)."""
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class _Watch:
    """One rendering under watch: its limits and, once it went past one, which."""

    deadline: float
    memory_ceiling: int
    reason: str | None = None
    next_shot: float = 0.0

    def exceeded(self, now: float, resident: int) -> str | None:
        if now > self.deadline:
            return f"took longer than {SECONDS} s (an endless or very long loop?)"
        if resident > self.memory_ceiling:
            return f"used more than {MEMORY_BYTES // 2**20} MB of memory"
        return None


class _Watchdog:
    """One thread that watches every rendering under way, in whichever thread it runs. It ends once
    none is, so that a process forked between renderings copies no thread of examgen's (``idle``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # taken in C: an exception raised in a thread can't interrupt it
        self._watched: dict[int, _Watch] = {}
        self._thread: threading.Thread | None = None

    def run(self, render: Callable[[], T]) -> T:
        """``render()`` under the limits; past one, a TemplateLimit with the rendering's traceback."""
        ident = threading.get_ident()
        with self._lock:
            nested = ident in self._watched  # the outer rendering's limits hold
            if not nested:
                watch = self._watched[ident] = _Watch(time.monotonic() + SECONDS, _resident_bytes() + MEMORY_BYTES)
                if self._thread is None:
                    self._thread = threading.Thread(target=self._patrol, name="examgen-template-watchdog",
                                                    daemon=True)
                    self._thread.start()
        if nested:
            return render()
        try:
            try:
                return render()
            finally:
                # No bytecode here checks for a pending exception before the entry is gone; once it
                # is, the watchdog shoots no more, and one it shot but not yet delivered is cleared.
                with self._lock:
                    del self._watched[ident]
                    if watch.reason:
                        _clear_async_exception(ident, None)
        except _Stopped as stopped:
            raise TemplateLimit(watch.reason).with_traceback(stopped.__traceback__) from None

    def _patrol(self) -> None:
        while True:
            time.sleep(POLL_SECONDS)
            now, resident = time.monotonic(), _resident_bytes()
            with self._lock:
                for ident, watch in self._watched.items():
                    reason = watch.exceeded(now, resident)
                    if reason and now >= watch.next_shot:
                        watch.reason = watch.reason or reason
                        watch.next_shot = now + REFIRE_SECONDS
                        _set_async_exception(ident, _Stopped)
                if not self._watched:
                    self._thread = None  # the next rendering starts another
                    return

    def idle(self) -> None:
        """Wait until no rendering is watched and the thread has ended."""
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return
            thread.join()


_WATCHDOG = _Watchdog()


def idle() -> None:
    """No rendering under way and no thread of the limits' left (a fork copies no running thread)."""
    _WATCHDOG.idle()


def run_limited(render: Callable[[], T]) -> T:
    """Run a rendering under the time and memory limits (one at a time per thread: a rendering
    started inside another one counts towards the outer one's limits)."""
    return _WATCHDOG.run(render)
