"""Reading scanned copies back (`examgen scan`, docs/scanning.md): each page identified by its QR
code and placed on its printed page (identify.py), the check boxes and grading boxes read
(marks.py), the answer spaces cut out, and what a person must decide gathered for review."""
