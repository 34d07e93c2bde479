"""Stand-alone performance measurements; run as scripts (`python -m benchmarks.<name>`), not tests.

They live outside `tests/` because they take minutes, need a real PostgreSQL, and report figures
for `docs/benchmarks.md` rather than pass/fail on a noisy machine.
"""
