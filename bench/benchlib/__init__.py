"""The benchmark harness behind bench/run.py (see README.md, "Benchmarks")."""
