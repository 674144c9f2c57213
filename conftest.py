"""The suite's fixtures (tests/support.py) and its enforced marks (tests/markers.py) for both tests/ and the
exams' own tests under exams/."""

pytest_plugins = ["support", "markers"]
