"""The drift report of `nox -s drift` (see report.py)."""
