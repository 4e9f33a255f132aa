"""The benchmark harness of issue 8 (`make bench`, `make bench-quick`): see __main__.py.

Layout: sizes.py (how big), data.py (generated data), warehouses.py (data sets
and sandboxes), measure.py (one timed process), trials.py (contenders side by
side, results checked), scenarios/ (the five scenarios), contenders/ (the
scripts of the contenders that are not this project's commands), project/ (the
benchmark's dbt project), report.py and document.py (tables, BENCHMARKS.md).
"""
