"""``tradecrew serve``: run the desk as a service (scheduler, risk watch, metrics, health)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tradecrew.cli.common import fail, live_requested, user_errors
from tradecrew.errors import EXIT_BAD_INPUT, EXIT_NOT_DONE

if TYPE_CHECKING:
    from tradecrew.config import Settings
    from tradecrew.serve import HomeLock


def serve(
    http: Annotated[
        str | None,
        typer.Option("--http", help="serve /healthz, /readyz and /metrics on HOST:PORT"),
    ] = None,
    watchlist: Annotated[
        str | None,
        typer.Option("--watchlist", help="comma-separated symbols (default: the symbols setting)"),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="run every job once and exit (1 if one failed)")
    ] = False,
) -> None:
    """Run the desk 24/7: crew cycles, data, paper matching, risk watch; one per home.

    The risk watch moves the desk to REDUCING or HALTED by itself; only a person resumes.
    Reconciles with the broker; --http serves /healthz, /readyz and /metrics.
    """
    from tradecrew.config import get_settings
    from tradecrew.instruments import normalize_symbol
    from tradecrew.serve import AlreadyRunning, HomeLock
    from tradecrew.serve.http import HttpRefused, parse_bind
    from tradecrew.serve.lock import LockUnusable
    from tradecrew.serve.logs import configure, get_logger
    from tradecrew.serve.scheduler import crew_timeframes

    with user_errors(HttpRefused):
        settings = get_settings()
        symbols = (
            [normalize_symbol(s) for s in watchlist.split(",") if s.strip()]
            if watchlist is not None
            else [normalize_symbol(s) for s in settings.symbols]
        )
        if not symbols:
            raise ValueError("--watchlist names no symbol: give e.g. --watchlist XAUUSD,EURUSD")
        bind = parse_bind(http, settings.serve) if http is not None else None
        crew_timeframes(settings.serve)
        home = settings.ensure_home()
    configure(settings)
    log = get_logger()
    lock = HomeLock(home)
    try:
        lock.acquire()
    except (AlreadyRunning, LockUnusable) as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    from tradecrew.serve.daemon import signals_stop

    with signals_stop() as stop:
        _run(lock, settings, symbols, bind, once, http, stop, log)


def _run(
    lock: HomeLock,
    settings: Settings,
    symbols: list[str],
    bind: tuple[str, int] | None,
    once: bool,
    http: str | None,
    stop: threading.Event,
    log: Any,
) -> None:
    from tradecrew.serve import Daemon, Options

    try:
        from tradecrew.desk import Desk

        with user_errors():
            desk = Desk.from_settings(settings, live=live_requested())
        try:
            with user_errors():
                for symbol in symbols:
                    desk.instrument(symbol)  # an unknown symbol is refused before anything runs
            daemon = Daemon(desk, lock, Options(symbols, bind, once), log, stop)
            try:
                daemon.open_http()
            except OSError as exc:
                fail(f"--http {http}: cannot listen there: {exc.strerror or exc}")
            if once:
                ok = daemon.run_once()
                if daemon.http is not None:
                    daemon.http.close()
                if not ok:
                    raise typer.Exit(EXIT_NOT_DONE)
                return
            daemon.run()
        finally:
            desk.close()
    finally:
        lock.release()


def register(app: typer.Typer) -> None:
    app.command()(serve)
