"""`examgen mark`'s web application: the graders' marking screen and the examiner's views."""
