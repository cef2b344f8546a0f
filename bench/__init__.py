"""Benchmarks of the Victim Contact Scheme engine, each against a floor on the same server.

Run `.venv/bin/python bench/run.py --help`; results are appended to bench/RESULTS.md.
"""
