"""Benchmarks. Run ``python -m bench.run`` (or ``make bench``); figures go to the README's table."""
