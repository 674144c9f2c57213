"""One module per command: what it reads, what it runs and what it writes, as one readable page.

cli.py parses a command line and prints; the command's module does the work through the
orchestrator (orchestrate.py), which runs the stages and the writers and owns the threads.
A new command is a module here and its entry in cli.py.
"""
