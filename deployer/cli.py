"""The `zorina-db` command line. Thin: parse, connect, call SQL, print.

Errors reach the user as one line (with SQLSTATE and hint for database errors) and a non-zero
exit code; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import functools
import itertools
import json
import sys
import threading
import time
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import click
import psycopg

from . import __version__
from . import apply as apply_mod
from .connection import connect, describe, resolve_dsn
from .embedded import EmbeddedCluster, EmbeddedError
from .schedule import ScheduleError

EXIT_USAGE = 2
EXIT_CONTRACT = 3


class Failure(click.ClickException):
    """A one-line error with its own exit code."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def emit_json(payload) -> None:
    click.echo(json.dumps(payload, default=_json_default, indent=2))


def progress(message: str) -> None:
    click.echo(f"-- {message}", err=True)


def database_errors(command):
    """Turn database, cluster and pg_cron errors into one-line failures."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        try:
            return command(*args, **kwargs)
        except psycopg.Error as exc:
            if ctx.obj.get("debug"):
                raise
            diag = exc.diag
            parts = [f"ERROR {diag.sqlstate or ''}: {diag.message_primary or str(exc).strip()}".replace("  ", " ")]
            if diag.message_detail:
                parts.append(f"DETAIL: {diag.message_detail}")
            if diag.message_hint:
                parts.append(f"HINT: {diag.message_hint}")
            raise Failure(" | ".join(parts)) from None
        except (EmbeddedError, ScheduleError) as exc:
            if ctx.obj.get("debug"):
                raise
            raise Failure(str(exc)) from None

    return wrapper


class Spinner:
    """A progress line on stderr while a long SQL call runs (only on a terminal)."""

    def __init__(self, label: str):
        self.label = label
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)

    def _spin(self):
        started = time.monotonic()
        for frame in itertools.cycle("|/-\\"):
            if self._stop.wait(0.2):
                break
            sys.stderr.write(f"\r{frame} {self.label} ({time.monotonic() - started:.1f}s)")
            sys.stderr.flush()
        sys.stderr.write("\r\033[K")

    def __enter__(self):
        if sys.stderr.isatty():
            self._thread.start()
        else:
            progress(self.label)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


dsn_option = click.option("--dsn", envvar="DATABASE_URL", default=None,
                          help="libpq DSN or URL; default $DATABASE_URL, else the embedded cluster.")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(__version__, prog_name="zorina-db")
@click.pass_context
def main(ctx, debug):
    """zorina-db: customer analytics for Square salons, computed inside PostgreSQL."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


# -- apply / rollback ---------------------------------------------------------------------------

@main.command()
@dsn_option
@click.option("--with-source-schema", is_flag=True,
              help="Also create the reference source tables (demo, tests; never production).")
@click.option("--dry-run", is_flag=True, help="List what would change; change nothing.")
@click.option("--no-schedule", is_flag=True, help="Do not create pg_cron jobs.")
@json_option
@database_errors
def apply(dsn, with_source_schema, dry_run, no_schedule, as_json):
    """Check the source contract, run migrations, install functions and views, schedule jobs."""
    dsn = resolve_dsn(dsn)
    try:
        report = apply_mod.apply(dsn, with_source_schema=with_source_schema, dry_run=dry_run,
                                 schedule_jobs=not no_schedule, progress=progress)
    except apply_mod.ContractError as exc:
        if as_json:
            emit_json({"ok": False, "error": "source contract not met", "missing": exc.missing})
        raise Failure(f"source contract not met; nothing was changed. Missing: {', '.join(exc.missing)}",
                      EXIT_CONTRACT) from None
    if as_json:
        emit_json({"ok": True, "database": describe(dsn), **report.as_dict()})
        return
    verb = "would change" if dry_run else "changed"
    for step in report.steps:
        line = f"{step.step:16} {verb}: {', '.join(step.changed)}" if step.changed else \
            f"{step.step:16} up to date ({step.unchanged})"
        click.echo(line + (f" -- {step.note}" if step.note else ""))
    if not report.changed:
        click.echo("nothing to do: the database is up to date")
    elif dry_run:
        click.echo("dry run: nothing was changed")


@main.command()
@dsn_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Show which migration would be rolled back.")
@json_option
@database_errors
def rollback(dsn, yes, dry_run, as_json):
    """Roll back the most recently applied migration."""
    dsn = resolve_dsn(dsn)
    preview = apply_mod.rollback(dsn, dry_run=True)
    if not preview.changed:
        if as_json:
            emit_json({"rolled_back": [], "note": preview.note})
        else:
            click.echo(preview.note)
        return
    if dry_run:
        click.echo(f"would roll back: {', '.join(preview.changed)}")
        return
    if not yes:
        if not sys.stdin.isatty():
            raise Failure("refusing to roll back without confirmation; pass --yes", EXIT_USAGE)
        click.confirm(f"Roll back migration {', '.join(preview.changed)} on {describe(dsn)}?", abort=True)
    report = apply_mod.rollback(dsn)
    if as_json:
        emit_json({"rolled_back": report.changed})
    else:
        click.echo(f"rolled back: {', '.join(report.changed)}")


# -- embedded cluster ---------------------------------------------------------------------------

@main.group()
def embedded():
    """Manage the local throwaway cluster used when no --dsn / DATABASE_URL is given."""


@embedded.command("start")
@database_errors
def embedded_start():
    """Start (and on first use create) the embedded cluster; print its DSN."""
    cluster = EmbeddedCluster()
    click.echo(cluster.start())


@embedded.command("stop")
@database_errors
def embedded_stop():
    """Stop the embedded cluster (its data stays)."""
    cluster = EmbeddedCluster()
    click.echo("stopped" if cluster.stop() else "not running")


@embedded.command("status")
@json_option
@database_errors
def embedded_status(as_json):
    """Show whether the embedded cluster exists and runs; exit 1 when it does not run."""
    status = EmbeddedCluster().status()
    if as_json:
        emit_json(status.__dict__)
    else:
        state = "running" if status.running else ("stopped" if status.initialized else "not created")
        click.echo(f"{state}  home={status.home}  port={status.port}  pg_cron={'yes' if status.pg_cron else 'no'}")
    if not status.running:
        sys.exit(1)


@embedded.command("url")
@database_errors
def embedded_url():
    """Print the embedded cluster's DSN (for psql "$(zorina-db embedded url)")."""
    cluster = EmbeddedCluster()
    if not cluster.running():
        raise Failure("embedded cluster is not running; start it with `zorina-db embedded start`")
    click.echo(cluster.dsn())


from . import commands  # noqa: E402,F401  (registers refresh, seed, demo on `main`)
