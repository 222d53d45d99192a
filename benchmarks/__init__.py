"""Benchmarks of the observatory's pipeline (``python -m benchmarks.run``, ``make bench``)."""
