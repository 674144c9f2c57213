"""``examgen serve`` and ``examgen watch``: the exam rebuilt on every save, its pages in a browser
(serve) or its build lines in the terminal (watch).

The builds run in the main thread, through the orchestrator (which owns a build's threads),
so SIGINT reaches them as it reaches ``examgen build``. The preview's server needs threads of
its own, kept here: one answers HTTP requests (``serve_forever``), and each request is a
thread (``ThreadingHTTPServer``), because a page's event stream stays open for as long as the
page does and must not hold up the images another request asks for.
"""
