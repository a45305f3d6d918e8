"""Benchmarks. Run ``python -m bench.run`` (or ``make bench``); the current figures, each with the
command that measures it, are on the documentation's performance page (``docs/performance.md``)."""
