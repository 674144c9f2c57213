"""After the exam (`examgen grade`, docs/grading.md): the graders' marks sheet and a scanner's
crosses in (``sheets``), points per copy and part from them and each copy's key (``score``),
grades from the exam's thresholds (``scale``), the item analysis (``analysis``), and
results.csv, grades.csv and report.html out (``report``, its plots drawn by ``plots``)."""
