"""Benchmarks for faktoora-async: ``python -m benchmarks`` (full) or ``python -m benchmarks --smoke``.

Each benchmark starts the sandbox in its own process (so server cost is never counted as client cost),
runs every contestant on the same work in the same run, alternating, and prints markdown tables with
medians over repeats and ratios against our SDK.  See ``BENCHMARKS.md`` for the latest full results.
"""
