"""The suite's fixtures (tests/support.py) for both tests/ and the exams' own tests under exams/."""

pytest_plugins = ["support"]
