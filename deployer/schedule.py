"""pg_cron: create the extension where it can live and schedule the pack's jobs by name.

pg_cron lives in exactly one database per cluster (`cron.database_name`). When the pack's
database is that one, jobs are scheduled with cron.schedule; otherwise we connect to the cron
database and use cron.schedule_in_database, naming the job after the target database too so
two packs in one cluster never overwrite each other's jobs.

A job that already exists is left as it is: a DBA's changed schedule survives a re-apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from .connection import connect, with_dbname


@dataclass(frozen=True)
class Job:
    name: str          # without the zorina_ prefix
    schedule: str
    command: str


# The pack's jobs. The hourly full refresh stands in until incremental refresh exists.
JOBS: tuple[Job, ...] = (
    Job("full", "0 * * * *", "SELECT * FROM public.refresh_customer_analytics('full')"),
)

ENABLE_HINT = ("to enable it, set shared_preload_libraries = 'pg_cron' and "
               "cron.database_name = '{db}' in postgresql.conf, restart PostgreSQL "
               "(apt-get install postgresql-15-cron if missing), then run `zorina-db apply` again")


@dataclass
class CronTarget:
    preloaded: bool
    cron_database: str | None
    target_database: str

    @property
    def same_database(self) -> bool:
        return self.cron_database == self.target_database

    def job_name(self, job: Job) -> str:
        base = f"zorina_{job.name}"
        return base if self.same_database else f"{base}@{self.target_database}"


def cron_target(conn) -> CronTarget:
    preload, cron_db, current_db = conn.execute(
        """SELECT current_setting('shared_preload_libraries'),
                  coalesce(current_setting('cron.database_name', true), 'postgres'),
                  current_database()""").fetchone()
    preloaded = "pg_cron" in [lib.strip() for lib in preload.split(",")]
    return CronTarget(preloaded, cron_db if preloaded else None, current_db)


def ensure_jobs(dsn: str, *, dry_run: bool = False):
    from .apply import StepReport  # circular at import time only

    report = StepReport("pg_cron")
    with connect(dsn, autocommit=True) as conn:
        target = cron_target(conn)
    if not target.preloaded:
        report.note = ("scheduling skipped: pg_cron is not preloaded on this server; "
                       + ENABLE_HINT.format(db=target.target_database))
        return report

    cron_dsn = dsn if target.same_database else with_dbname(dsn, target.cron_database)
    with connect(cron_dsn, autocommit=True) as conn:
        has_extension = conn.execute(
            "SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'").fetchone() is not None
        if not has_extension:
            report.changed.append("extension pg_cron")
            if dry_run:
                report.changed += [target.job_name(job) for job in JOBS]
                return report
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        existing = {name for (name,) in conn.execute(
            "SELECT jobname FROM cron.job WHERE jobname LIKE 'zorina\\_%%' AND database = %s",
            [target.target_database])}
        for job in JOBS:
            name = target.job_name(job)
            if name in existing:
                report.unchanged += 1
                continue
            report.changed.append(name)
            if dry_run:
                continue
            if target.same_database:
                conn.execute("SELECT cron.schedule(%s, %s, %s)", [name, job.schedule, job.command])
            else:
                conn.execute("SELECT cron.schedule_in_database(%s, %s, %s, %s)",
                             [name, job.schedule, job.command, target.target_database])
    where = "" if target.same_database else f" (pg_cron lives in database {target.cron_database})"
    report.note = f"{len(JOBS)} job(s) for database {target.target_database}{where}"
    return report
