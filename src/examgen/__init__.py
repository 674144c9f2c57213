"""examgen: university exams from YAML sources to student and sample-solution PDFs."""

__version__ = "0.1.0"
