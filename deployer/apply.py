"""`zorina-db apply`: source contract check, migrations, functions, views, pg_cron jobs.

Order matters and each step is safe to repeat:
  1. (optional) reference source schema   - demo/tests only, re-runnable DDL
  2. source contract check                  - nothing has changed yet if it fails
  3. migrations (yoyo, under its lock)      - history, applied once each
  4. functions, then views                  - one transaction; a file is re-run only when its hash changed
  5. pg_cron extension and the pack's jobs  - skipped with a clear message where pg_cron is not preloaded
The whole apply holds a session advisory lock, so two applies never interleave.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

from psycopg import sql
from yoyo import get_backend, read_migrations

from . import contract, schedule, sqlfiles
from .connection import connect, yoyo_uri

APPLY_LOCK_KEY = 0x5A0B1A  # pg_advisory_lock key shared by every `zorina-db apply`


class ContractError(RuntimeError):
    def __init__(self, missing: list[str]):
        super().__init__("source contract not met; missing columns: " + ", ".join(missing))
        self.missing = missing


@dataclass
class StepReport:
    step: str
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    note: str | None = None


@dataclass
class ApplyReport:
    dry_run: bool
    steps: list[StepReport] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(step.changed for step in self.steps)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "changed": self.changed, "steps": [asdict(s) for s in self.steps]}


Progress = Callable[[str], None]


def _installed_hashes(conn) -> dict[tuple[str, str], str]:
    if conn.execute("SELECT to_regclass('zorina.installed_sql')").fetchone()[0] is None:
        return {}
    return {(kind, name): digest for kind, name, digest in
            conn.execute("SELECT kind, name, sha256 FROM zorina.installed_sql")}


def install_source_schema(conn, dry_run: bool) -> StepReport:
    """The reference source schema files are re-runnable; report them changed only when a
    contract table or the demo generator is missing."""
    report = StepReport("source schema", note="reference source tables and demo generator (demo/tests only)")
    names = [f"public.{table}" for table in contract.SOURCE_COLUMNS]
    missing = conn.execute(
        "SELECT count(*) FILTER (WHERE to_regclass(name) IS NULL) + (to_regproc('public.zorina_seed_demo') IS NULL)::int"
        " FROM unnest(%s::text[]) AS name", [names]).fetchone()[0]
    for file in sqlfiles.files("source"):
        if missing:
            report.changed.append(file.name)
        else:
            report.unchanged += 1
        if not dry_run:
            conn.execute(file.text)
    return report


def check_contract(conn) -> StepReport:
    missing = contract.missing_columns(conn)
    if missing:
        raise ContractError(missing)
    count = sum(len(columns) for columns in contract.SOURCE_COLUMNS.values())
    return StepReport("source contract", unchanged=count, note=f"{count} columns present")


def _applied_migration_ids(dsn: str) -> set[str] | None:
    """What yoyo recorded, read without yoyo (which creates its tables on first contact)."""
    with connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('_yoyo_migration')").fetchone()[0] is None:
            return set()
        return {row[0] for row in conn.execute("SELECT migration_id FROM _yoyo_migration")}


def run_migrations(dsn: str, dry_run: bool) -> StepReport:
    report = StepReport("migrations")
    if dry_run:
        applied = _applied_migration_ids(dsn)
        migrations = read_migrations(str(sqlfiles.migrations_dir()))
        report.changed = [m.id for m in migrations if m.id not in applied]
        report.unchanged = len(migrations) - len(report.changed)
        return report
    backend = get_backend(yoyo_uri(dsn))
    try:
        migrations = read_migrations(str(sqlfiles.migrations_dir()))
        with backend.lock():
            pending = backend.to_apply(migrations)
            report.changed = [m.id for m in pending]
            report.unchanged = len(migrations) - len(pending)
            if pending:
                backend.apply_migrations(pending)
    finally:
        backend.connection.close()
    return report


def install_objects(conn, dry_run: bool) -> list[StepReport]:
    """Functions then views, each file only when its content changed since it was installed."""
    installed = _installed_hashes(conn)
    reports = []
    # Like pg_dump: function bodies may reference each other in any file order.
    conn.execute("SET LOCAL check_function_bodies = off")
    for kind, label in (("function", "functions"), ("view", "views")):
        report = StepReport(label)
        for file in sqlfiles.files(kind):
            if installed.get((kind, file.name)) == file.sha256:
                report.unchanged += 1
                continue
            report.changed.append(file.name)
            if not dry_run:
                conn.execute(file.text)
                conn.execute(
                    """INSERT INTO zorina.installed_sql (kind, name, sha256) VALUES (%s, %s, %s)
                       ON CONFLICT (kind, name) DO UPDATE SET sha256 = excluded.sha256, installed_at = now()""",
                    [kind, file.name, file.sha256])
        reports.append(report)
    return reports


def apply(dsn: str, *, with_source_schema: bool = False, dry_run: bool = False,
          schedule_jobs: bool = True, progress: Progress = lambda message: None) -> ApplyReport:
    report = ApplyReport(dry_run=dry_run)
    with connect(dsn, autocommit=True) as lock_conn:
        lock_conn.execute("SET lock_timeout = '10min'")
        progress("waiting for the apply lock" if _lock_busy(lock_conn) else "apply lock taken")
        lock_conn.execute("SELECT pg_advisory_lock(%s)", [APPLY_LOCK_KEY])
        try:
            # 1 + 2: source schema and contract check in one transaction: a failed check undoes it.
            with connect(dsn) as conn:
                if with_source_schema:
                    progress("installing the reference source schema")
                    report.steps.append(install_source_schema(conn, dry_run))
                progress("checking the source contract")
                report.steps.append(check_contract(conn))
                if dry_run:
                    conn.rollback()
            # 3: migrations
            progress("running migrations")
            report.steps.append(run_migrations(dsn, dry_run))
            # 4: functions and views, all or nothing
            progress("installing functions and views")
            with connect(dsn) as conn:
                report.steps.extend(install_objects(conn, dry_run))
                if dry_run:
                    conn.rollback()
            # 5: pg_cron
            if schedule_jobs:
                progress("scheduling pg_cron jobs")
                report.steps.append(schedule.ensure_jobs(dsn, dry_run=dry_run))
            else:
                report.steps.append(StepReport("pg_cron", note="skipped (--no-schedule)"))
        finally:
            lock_conn.execute("SELECT pg_advisory_unlock(%s)", [APPLY_LOCK_KEY])
    return report


def _lock_busy(conn) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted",
        [APPLY_LOCK_KEY]).fetchone()
    return row[0] > 0


def rollback(dsn: str, *, dry_run: bool = False) -> StepReport:
    """Roll back the most recently applied migration."""
    report = StepReport("rollback")
    backend = get_backend(yoyo_uri(dsn))
    try:
        migrations = read_migrations(str(sqlfiles.migrations_dir()))
        with backend.lock():
            applied = backend.to_rollback(migrations)
            if not applied:
                report.note = "no applied migration to roll back"
                return report
            last = applied[:1]
            report.changed = [m.id for m in last]
            if not dry_run:
                backend.rollback_migrations(last)
                # the objects depending on the rolled-back tables are gone: forget their hashes
                with connect(dsn, autocommit=True) as conn:
                    if conn.execute("SELECT to_regclass('zorina.installed_sql')").fetchone()[0]:
                        conn.execute(sql.SQL("DELETE FROM zorina.installed_sql"))
    finally:
        backend.connection.close()
    return report
