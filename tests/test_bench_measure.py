"""The benchmarks' measuring helper: what it reports of a real command and the processes it starts."""

from __future__ import annotations

import sys

from bench import measure

# The parent waits for a child that spins for about half a second of CPU, then spins for less itself.
_SPIN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"
_PARENT = (
    "import subprocess, sys\n"
    f"subprocess.run([sys.executable, '-c', {_SPIN.format(seconds=0.6)!r}], check=True)\n"
    + _SPIN.format(seconds=0.2)
)


def test_cpu_time_of_the_command_and_of_its_children() -> None:
    result = measure.run([sys.executable, "-c", _PARENT])
    assert result.returncode == 0, result.stderr
    assert 0.15 <= result.cpu_seconds < 0.5
    assert 0.45 <= result.children_cpu_seconds < 1.0
    assert result.peak_rss_mb > 1
