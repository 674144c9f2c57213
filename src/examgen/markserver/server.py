"""Running the marking application: uvicorn on one socket examgen binds itself (so port 0 gives a free
port to announce), 127.0.0.1 unless ``--host`` names another address. It serves only where accounts
exist, and answers only requests whose Host header names its address."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable

from ..commands.mark import Marking
from ..errors import Loc, MarkingError

LOCAL = "127.0.0.1"
WILDCARDS = ("", "0.0.0.0", "::", "[::]")


def serve(marking: Marking, host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve until stopped (Ctrl-C or SIGTERM)."""
    import uvicorn

    from .app import make_app

    if host in WILDCARDS:
        raise MarkingError(f"--host {host} names no one address, and the server answers only requests for the address "
                           "it was given: give the address (or name) graders' browsers use, such as --host 10.0.3.17")
    if not marking.store.graders():  # on a shared machine too: anyone on it could reach 127.0.0.1
        raise MarkingError(f"marking needs accounts, and {Loc(marking.store.path)} has none: add them with "
                           f"`examgen mark {marking.exam} --add-grader NAME [--examiner]` first")
    try:
        listening = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be served ({exc.strerror})"
        raise MarkingError(f"{host} port {port} {why}: give another --port (0 for any free one)") from None
    bound = listening.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    hosts = [host, "localhost"] if host == LOCAL else [host]
    config = uvicorn.Config(make_app(marking, hosts), log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    announce(f"http://{shown}:{bound}/")
    try:
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        listening.close()
        marking.store.close()
