"""pg_cron: create the extension where it can live and schedule the pack's jobs by name.

pg_cron lives in exactly one database per cluster (`cron.database_name`). When the pack's
database is that one, jobs are scheduled with cron.schedule; otherwise we connect to the cron
database and use cron.schedule_in_database, naming each job after the target database too
(`zorina_incremental@shop`) so two packs in one cluster never overwrite each other's jobs.

A job that already exists is left as it is by `apply`: a DBA's changed schedule survives a
re-apply. `zorina-db schedule` changes jobs on purpose; `zorina-db unschedule` removes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .connection import connect, with_dbname


@dataclass(frozen=True)
class Job:
    name: str          # without the zorina_ prefix
    schedule: str
    command: str


DEFAULT_RETENTION_DAYS = 14


def cleanup_command(retention_days: int) -> str:
    return f"SELECT * FROM zorina.cleanup_history({int(retention_days)})"


# The pack's jobs: cheap and frequent, a safety net hourly, a full recompute nightly, cleanup.
JOBS: tuple[Job, ...] = (
    Job("incremental", "*/5 * * * *", "SELECT * FROM public.refresh_customer_analytics('incremental')"),
    Job("recent", "0 * * * *", "SELECT * FROM public.refresh_customer_analytics('recent')"),
    Job("full", "30 3 * * *", "SELECT * FROM public.refresh_customer_analytics('full')"),
    Job("cleanup", "15 4 * * *", cleanup_command(DEFAULT_RETENTION_DAYS)),
)
JOB_NAMES = tuple(job.name for job in JOBS)

ENABLE_HINT = ("to enable it, set shared_preload_libraries = 'pg_cron' and "
               "cron.database_name = '{db}' in postgresql.conf, restart PostgreSQL "
               "(apt-get install postgresql-15-cron if missing), then run `zorina-db apply` again")


class ScheduleError(RuntimeError):
    """pg_cron is not usable for this database; the message says how to fix it."""


@dataclass
class CronTarget:
    preloaded: bool
    cron_database: str | None
    target_database: str

    @property
    def same_database(self) -> bool:
        return self.cron_database == self.target_database

    def job_name(self, name: str) -> str:
        base = f"zorina_{name}"
        return base if self.same_database else f"{base}@{self.target_database}"

    def short_name(self, job_name: str) -> str:
        return job_name.removeprefix("zorina_").split("@", 1)[0]


def cron_target(conn) -> CronTarget:
    preload, cron_db, current_db = conn.execute(
        """SELECT current_setting('shared_preload_libraries'),
                  coalesce(current_setting('cron.database_name', true), 'postgres'),
                  current_database()""").fetchone()
    preloaded = "pg_cron" in [lib.strip() for lib in preload.split(",")]
    return CronTarget(preloaded, cron_db if preloaded else None, current_db)


def _target(dsn: str) -> tuple[CronTarget, str]:
    with connect(dsn, autocommit=True) as conn:
        target = cron_target(conn)
    cron_dsn = dsn if target.same_database else with_dbname(dsn, target.cron_database or "postgres")
    return target, cron_dsn


def _existing_jobs(conn, target: CronTarget) -> dict[str, dict]:
    cur = conn.execute(
        """SELECT jobid, jobname, schedule, command, active FROM cron.job
            WHERE jobname LIKE 'zorina\\_%%' AND database = %s ORDER BY jobname""",
        [target.target_database])
    names = [col.name for col in cur.description]
    return {row[1]: dict(zip(names, row)) for row in cur.fetchall()}


def _create(conn, target: CronTarget, job: Job) -> None:
    name = target.job_name(job.name)
    if target.same_database:
        conn.execute("SELECT cron.schedule(%s, %s, %s)", [name, job.schedule, job.command])
    else:
        conn.execute("SELECT cron.schedule_in_database(%s, %s, %s, %s)",
                     [name, job.schedule, job.command, target.target_database])


def ensure_jobs(dsn: str, *, dry_run: bool = False):
    """apply's step: the extension and every missing job; existing jobs are kept as they are."""
    from .apply import StepReport  # circular at import time only

    report = StepReport("pg_cron")
    target, cron_dsn = _target(dsn)
    if not target.preloaded:
        report.note = ("scheduling skipped: pg_cron is not preloaded on this server; "
                       + ENABLE_HINT.format(db=target.target_database))
        return report

    with connect(cron_dsn, autocommit=True) as conn:
        has_extension = conn.execute(
            "SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'").fetchone() is not None
        if not has_extension:
            report.changed.append("extension pg_cron")
            if dry_run:
                report.changed += [target.job_name(job.name) for job in JOBS]
                return report
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_cron")
        existing = _existing_jobs(conn, target)
        for job in JOBS:
            if target.job_name(job.name) in existing:
                report.unchanged += 1
                continue
            report.changed.append(target.job_name(job.name))
            if not dry_run:
                _create(conn, target, job)
    where = "" if target.same_database else f" (pg_cron lives in database {target.cron_database})"
    report.note = f"{len(JOBS)} job(s) for database {target.target_database}{where}"
    return report


def require_preloaded(dsn: str) -> tuple[CronTarget, str]:
    """The cron target; ScheduleError (with how to enable it) where pg_cron is not preloaded."""
    target, cron_dsn = _target(dsn)
    if not target.preloaded:
        raise ScheduleError("pg_cron is not preloaded on this server; " + ENABLE_HINT.format(db=target.target_database))
    return target, cron_dsn


def _require_cron(dsn: str) -> tuple[CronTarget, str]:
    target, cron_dsn = require_preloaded(dsn)
    with connect(cron_dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'").fetchone() is None:
            raise ScheduleError(f"pg_cron is not created in database {target.cron_database}; run `zorina-db apply` first")
    return target, cron_dsn


def set_job(dsn: str, name: str, *, every: str | None = None, active: bool | None = None,
            retention_days: int | None = None) -> dict:
    """Change (creating it if missing) one of the pack's jobs; return its new definition."""
    if name not in JOB_NAMES:
        raise ScheduleError(f"unknown job {name!r}; the pack's jobs are: {', '.join(JOB_NAMES)}")
    if retention_days is not None and name != "cleanup":
        raise ScheduleError("--retention-days applies to the cleanup job only")
    target, cron_dsn = _require_cron(dsn)
    default = next(job for job in JOBS if job.name == name)
    with connect(cron_dsn, autocommit=True) as conn:
        existing = _existing_jobs(conn, target).get(target.job_name(name))
        if existing is None:
            _create(conn, target, default)
            existing = _existing_jobs(conn, target)[target.job_name(name)]
        command = cleanup_command(retention_days) if retention_days is not None else None
        conn.execute("SELECT cron.alter_job(%s, schedule => %s, command => %s, active => %s)",
                     [existing["jobid"], every, command, active])
        return _existing_jobs(conn, target)[target.job_name(name)]


def unschedule(dsn: str) -> list[str]:
    target, cron_dsn = _require_cron(dsn)
    with connect(cron_dsn, autocommit=True) as conn:
        jobs = _existing_jobs(conn, target)
        for job in jobs.values():
            conn.execute("SELECT cron.unschedule(%s::bigint)", [job["jobid"]])
    return sorted(jobs)


def job_status(dsn: str) -> list[dict] | None:
    """The pack's jobs with their latest run; None where pg_cron is not usable."""
    from datetime import datetime, timezone

    from croniter import croniter

    try:
        target, cron_dsn = _require_cron(dsn)
    except ScheduleError:
        return None
    with connect(cron_dsn, autocommit=True) as conn:
        cur = conn.execute(
            """SELECT j.jobname AS job, j.schedule, j.active, j.command,
                      r.status AS last_status, r.start_time AS last_start,
                      round(extract(epoch FROM r.end_time - r.start_time) * 1000)::bigint AS last_duration_ms,
                      r.return_message AS last_message
                 FROM cron.job j
                 LEFT JOIN LATERAL (SELECT * FROM cron.job_run_details d WHERE d.jobid = j.jobid
                                     ORDER BY d.start_time DESC NULLS LAST LIMIT 1) r ON true
                WHERE j.jobname LIKE 'zorina\\_%%' AND j.database = %s
                ORDER BY j.jobname""", [target.target_database])
        names = [col.name for col in cur.description]
        jobs = [dict(zip(names, row)) for row in cur.fetchall()]
    now = datetime.now(timezone.utc)
    for job in jobs:
        job["next_run"] = None
        if job["active"] and croniter.is_valid(job["schedule"]):
            job["next_run"] = croniter(job["schedule"], now).get_next(datetime)  # pg_cron runs in GMT
    return jobs
