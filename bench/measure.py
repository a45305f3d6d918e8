"""Measuring helpers: a command's wall time and the peak RSS of its whole process tree, and the
service running in its own process for the HTTP benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _each_process(name: str) -> Iterator[tuple[int, str]]:
    """(pid, text of /proc/PID/``name``) of every process whose file can be read."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            yield int(entry.name), (entry / name).read_text()
        except OSError:
            continue


def _cpu_seconds(stat: str) -> float:
    """CPU seconds (user and system) in the text of a /proc/PID/stat file."""
    rest = stat[stat.rindex(")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")  # utime and stime, fields 14 and 15


def _cpu_by_pid(command: str) -> dict[int, float]:
    """CPU seconds used so far by each process named ``command``."""
    return {
        pid: _cpu_seconds(stat)
        for pid, stat in _each_process("stat")
        if stat[stat.index("(") + 1 : stat.rindex(")")] == command
    }


def _tree(root: int) -> tuple[int, dict[int, float]]:
    """(RSS in kB of ``root`` and its descendants, CPU seconds used so far by each of them)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for pid, status in _each_process("status"):
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        children.setdefault(int(fields.get("PPid", "0").strip()), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, cpu, stack = 0, {}, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        with suppress(OSError, ValueError, IndexError):  # ended since, or its file cut short
            cpu[pid] = _cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
        stack.extend(children.get(pid, []))
    return total, cpu


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    returncode: int
    server_cpu_seconds: float = 0.0
    # CPU seconds of the command's own process and of all the processes it started (sampled every
    # 0.1 s: a child that ends between two samples loses at most its last 0.1 s)
    cpu_seconds: float = 0.0
    children_cpu_seconds: float = 0.0


def run(
    args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None, server: str | None = None
) -> Run:
    """Run a command, sampling the RSS and CPU time of it and its children every 0.1 s; with
    ``server``, the CPU time its processes of that name (a database server's) used meanwhile, those
    the command started and ended included (a connection's process ends with it: sampled, it is
    counted to within 0.1 s)."""
    peak = 0
    before = _cpu_by_pid(server) if server else {}
    latest = dict(before)
    start = time.perf_counter()
    proc = subprocess.Popen(
        args,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    done = threading.Event()
    tree_cpu: dict[int, float] = {}

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            rss, cpu = _tree(proc.pid)
            peak = max(peak, rss)
            tree_cpu.update(cpu)
            if server:
                latest.update(_cpu_by_pid(server))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if server:
        latest.update(_cpu_by_pid(server))
    server_cpu = sum(used - before.get(pid, 0.0) for pid, used in latest.items())
    own = tree_cpu.pop(proc.pid, 0.0)
    return Run(seconds, peak / 1024, out, err, proc.returncode, server_cpu, own, sum(tree_cpu.values()))


@contextmanager
def app_served(app: Any) -> Iterator[str]:
    """``app`` served by a real uvicorn server in a thread on a free port of 127.0.0.1; yields its URL."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def serving(settings: dict[str, str]) -> Iterator[str]:
    """``unioncat serve`` in its own process on a free loopback port, with these ``UNIONCAT_``
    settings (the embedded search engine, no harvest schedule); yields its base URL once it answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "UNIONCAT_MEILI_URL"}
    env.update({"UNIONCAT_HARVEST_CHECK_MINUTES": "0", **settings})
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "unioncat"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("'unioncat serve' did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
