"""``unioncat serve`` and ``unioncat demo``: the HTTP service."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from catalog.settings import Settings

from .common import JsonOption, app, err, load_settings, open_catalogue, print_json, search_for
from .worker import start_worker_process, stop_worker_process


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
) -> None:
    """Start the HTTP service (API and web pages), and a job worker beside it (UNIONCAT_SERVE_WORKER)."""
    from ..app import create_app

    settings = load_settings()
    engine = open_catalogue(migrate="always")
    search_for(engine)  # a PostgreSQL catalogue without Meilisearch is refused here, before serving
    err.print(f"unioncat serving on http://{host}:{port}/  (API docs: http://{host}:{port}/api/v1/docs)")
    _serve(create_app(engine, settings, start_worker=False), settings, host, port)


def _serve(application: Any, settings: Settings, host: str, port: int) -> None:
    """Serve ``application``; with ``serve_worker``, one ``unioncat worker`` process runs the jobs
    beside it and is stopped with it (production runs its workers apart)."""
    import uvicorn

    def stopped(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    # uvicorn raises the signal that stopped it once it has shut down: as an exception, so that the
    # worker is stopped too (the default action would end this process at once).
    signal.signal(signal.SIGTERM, stopped)
    process = start_worker_process(settings) if settings.serve_worker else None
    if process is not None:
        err.print(
            f"job worker started (pid {process.pid}); set UNIONCAT_SERVE_WORKER=false to run workers apart"
        )
    try:
        uvicorn.run(application, host=host, port=port, log_level="warning")
    finally:
        if process is not None:
            stop_worker_process(process)


@app.command("demo")
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo catalogue is created (replaced).")] = Path(
        "data/demo"
    ),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the demo catalogue and stop.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a fresh demo catalogue with demo member libraries and their records, and serve it."""
    from ..demo import build_demo

    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{(data_dir / 'unioncat.db').resolve()}")
    engine, summaries = build_demo(settings, log=err.print)
    if as_json:
        print_json({"database": settings.resolved_database_url, "jobs": summaries})
    if no_serve:
        return
    from ..app import create_app

    err.print(f"demo catalogue ready: http://{host}:{port}/  (health: http://{host}:{port}/health)")
    _serve(create_app(engine, settings, start_worker=False), settings, host, port)
