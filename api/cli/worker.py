"""``unioncat worker``: run the queued jobs (uploads, harvests, reindex, dedup-rebuild) until stopped.

Any number of workers run beside the service, on any number of machines sharing a PostgreSQL
catalogue and the uploads folder; ``unioncat serve`` starts one itself on the embedded default
(``UNIONCAT_SERVE_WORKER``). SIGTERM or Ctrl-C stop a worker once its job has ended; a second one
stops it at once (the job is marked interrupted; what it had not committed is rolled back).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from catalog.settings import Settings

from .common import app, err, load_settings, open_catalogue, search_for

# How serve starts its worker: the same Python, the same command line, whatever the script's name.
WORKER_COMMAND = [sys.executable, "-c", "from api.entry import main; main()", "worker"]


@app.command("worker")
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run the jobs queued now, then stop (no polling).")
    ] = False,
) -> None:
    """Run queued jobs: uploads, harvests (and the harvests due), reindex and dedup-rebuild."""
    from harvest.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = load_settings()
    engine = open_catalogue(migrate="empty")
    runner = Worker(engine, settings, search_for(engine))
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set() or not runner.busy:
            raise KeyboardInterrupt
        stop.set()
        err.print(f"worker {runner.name}: stopping once job ends (again to stop now)")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    err.print(
        f"worker {runner.name}: running the queued jobs of {settings.resolved_database_url.split('@')[-1]}"
    )
    try:
        if once:
            while not stop.is_set() and runner.run_once() is not None:
                pass
        else:
            runner.run(stop)
    except KeyboardInterrupt:
        pass
    err.print(f"worker {runner.name}: stopped")


def start_worker_process(settings: Settings) -> subprocess.Popen[bytes]:
    """A ``unioncat worker`` process on the catalogue and data folder of ``settings``."""
    env = dict(os.environ)
    env["UNIONCAT_DATA_DIR"] = str(Path(settings.data_dir).resolve())
    env["UNIONCAT_DATABASE_URL"] = settings.resolved_database_url
    return subprocess.Popen(WORKER_COMMAND, env=env, preexec_fn=_beside_the_server)


# The worker beside the server yields the processor to it: a search waits for no ingest batch.
WORKER_NICENESS = 10


def _beside_the_server() -> None:
    """The worker runs at a lower priority than the server; on Linux it is sent SIGTERM when the
    server that started it ends, even by kill -9."""
    os.nice(WORKER_NICENESS)
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_worker_process(process: subprocess.Popen[bytes], wait_seconds: float = 30) -> None:
    """Ask the worker to stop once its job has ended; kill it when that takes too long (what its job
    had not committed is rolled back, and the next worker runs the job again)."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(wait_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
