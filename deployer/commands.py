"""Commands that run the engine: refresh, seed, summary, demo, bench, schedule, status."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import click

from .cli import EXIT_USAGE, Failure, Spinner, database_errors, dsn_option, emit_json, json_option, main, progress
from .connection import connect, resolve_dsn

REFRESH_MODES = ("full", "org", "recent", "incremental")


@main.command()
@dsn_option
@click.option("--mode", default="full", show_default=True,
              help=f"Refresh mode: {', '.join(REFRESH_MODES)}.")
@click.option("--org", "organization_id", default=None, help="Organization id (required for --mode org).")
@click.option("--as-of", "as_of", default=None,
              help="Instant to compute for (timestamptz literal, e.g. '2026-06-15 12:00+00'); default now().")
@json_option
@database_errors
def refresh(dsn, mode, organization_id, as_of, as_json):
    """Run refresh_customer_analytics(mode, organization_id, as_of) and print its result row."""
    # The function validates everything (mode, organization, as_of) and names the valid values;
    # the CLI only passes the arguments through.
    dsn = resolve_dsn(dsn)
    with connect(dsn, autocommit=True) as conn:
        with Spinner(f"refreshing customer_analytics (mode {mode})"):
            cur = conn.execute(
                "SELECT * FROM refresh_customer_analytics(%s, organization_id => %s::uuid,"
                " as_of => coalesce(%s::timestamptz, now()))",
                [mode, organization_id, as_of])
            row = dict(zip([col.name for col in cur.description], cur.fetchone()))
    if as_json:
        emit_json(row)
        return
    if row["skipped"]:
        click.echo("skipped: another refresh of this scope is running")
        return
    click.echo(f"mode={row['mode']} organization={row['organization_id'] or 'all'} as_of={row['as_of']}")
    click.echo(f"customers recomputed {row['customers_recomputed']}, inserted {row['rows_inserted']}, "
               f"updated {row['rows_updated']}, deleted {row['rows_deleted']} in {row['duration_ms']} ms")


@main.command()
@dsn_option
@click.option("--orgs", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("--customers", default=3000, show_default=True, type=click.IntRange(min=0),
              help="Customers in total, split evenly over the organizations.")
@click.option("--years", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--jobs", default=2, show_default=True, type=click.IntRange(min=1, max=16),
              help="Organizations generated in parallel (one connection each).")
@click.option("--as-of", "as_of", default=None,
              help="Instant the generated history ends at (timestamptz literal); default now(). "
                   "The same --seed and --as-of give the same rows.")
@json_option
@database_errors
def seed(dsn, orgs, customers, years, seed, jobs, as_of, as_json):
    """Fill the reference source tables with synthetic salon data (needs apply --with-source-schema)."""
    dsn = resolve_dsn(dsn)
    started = time.monotonic()
    totals = {"organizations": 0, "customers": 0, "bookings": 0, "payments": 0}
    with connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT to_regproc('public.zorina_seed_demo') IS NULL"
                        " OR to_regproc('public.zorina_seed_defer_indexes') IS NULL").fetchone()[0]:
            raise Failure("the demo generator is not installed (or is older than this zorina-db); "
                          "run `zorina-db apply --with-source-schema` first")
        # history is generated back from this instant: without --as-of the same seed gives the
        # same customers, but bookings near now() fall on the other side of it run to run
        as_of = conn.execute("SELECT coalesce(%s::timestamptz, now())", [as_of]).fetchone()[0]
        # into empty bookings and payments: without their indexes but the primary keys, built after
        deferred = conn.execute("SELECT zorina_seed_defer_indexes()").fetchone()[0]
    if deferred:
        progress(f"loading without {deferred} indexes of the empty bookings and payments tables (built after)")

    one_failed = threading.Event()

    def seed_one(org: int) -> str | None:
        if one_failed.is_set():  # no organization starts after one failed
            return None
        try:
            with connect(dsn, autocommit=True) as worker:
                return worker.execute("SELECT zorina_seed_demo(%s, %s, %s, %s, %s, %s, %s)",
                                      [orgs, customers, years, seed, as_of, org, org]).fetchone()[0]
        except BaseException:
            one_failed.set()
            raise

    # one organization per call, `jobs` at a time: a progress line each, small transactions
    from concurrent.futures import ThreadPoolExecutor

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            # in order: a failed organization raises here before any skipped after it is read
            for done, summary in enumerate(pool.map(seed_one, range(1, orgs + 1)), start=1):
                counts = [int(word) for word in summary.replace(",", "").split() if word.isdigit()]
                for key, count in zip(totals, counts):
                    totals[key] += count
                progress(f"seeded organization {done}/{orgs}: {totals['customers']} customers, "
                         f"{totals['bookings']} bookings, {totals['payments']} payments "
                         f"({time.monotonic() - started:.0f}s)")
    finally:  # a failed seeding too: the tables get their indexes back (and an earlier one's)
        _build_deferred_indexes(dsn, started)
    with connect(dsn, autocommit=True) as conn:
        progress("ANALYZE")
        conn.execute("ANALYZE")
    totals["seconds"] = round(time.monotonic() - started, 1)
    if as_json:
        emit_json(totals)
    else:
        click.echo("seeded: {organizations} organizations, {customers} customers, {bookings} bookings, "
                   "{payments} payments in {seconds}s".format(**totals))


def _build_deferred_indexes(dsn: str, started: float) -> None:
    """Builds what zorina_seed_defer_indexes dropped, one index per statement (a progress line
    each: at a million customers each takes seconds)."""
    with connect(dsn, autocommit=True) as conn:
        names = [row[0] for row in conn.execute(
            "SELECT index_name FROM zorina_seed_deferred_indexes ORDER BY table_name, index_name")]
        for built, name in enumerate(names, start=1):
            conn.execute("SELECT zorina_seed_restore_index(%s)", [name])
            progress(f"built index {built}/{len(names)}: {name} ({time.monotonic() - started:.0f}s)")


SUMMARY_QUERIES = {
    "segments": """
        SELECT o.name AS organization, ca.customer_segment AS segment, count(*) AS customers
          FROM customer_analytics ca JOIN organizations o ON o.id = ca.organization_id
         GROUP BY 1, 2 ORDER BY 1, 2""",
    "new_last_30_days": """
        SELECT o.name AS organization, l.name AS location, count(ca.*) AS new_customers
          FROM locations l
          JOIN organizations o ON o.id = l.organization_id
          LEFT JOIN zorina.refresh_state rs ON rs.organization_id = l.organization_id
          LEFT JOIN customer_analytics ca
                 ON ca.organization_id = l.organization_id
                AND ca.first_visit_location_id = l.id
                AND ca.first_booking_at > rs.as_of - interval '30 days'
         GROUP BY 1, 2 ORDER BY 1, 2""",
    "top_customers": """
        SELECT o.name AS organization, ca.square_customer_id AS customer,
               concat_ws(' ', ca.given_name, ca.family_name) AS name,
               ca.total_revenue_cents AS revenue_cents, ca.total_accepted_bookings AS visits,
               ca.customer_segment AS segment
          FROM customer_analytics ca JOIN organizations o ON o.id = ca.organization_id
         ORDER BY ca.total_revenue_cents DESC, ca.square_customer_id COLLATE "C" LIMIT 5""",
    "last_refresh": """
        SELECT payload->>'mode' AS mode, status::text AS status,
               (payload->>'duration_ms')::bigint AS duration_ms,
               (payload->>'customers_recomputed')::bigint AS customers, created_at
          FROM application_logs WHERE log_type = 'customer_analytics_refresh'
         ORDER BY created_at DESC LIMIT 1""",
}


def _rows(conn, query):
    cur = conn.execute(query)
    names = [col.name for col in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _table(rows) -> str:
    if not rows:
        return "  (none)"
    names = list(rows[0])
    cells = [[("" if row[n] is None else str(row[n])) for n in names] for row in rows]
    widths = [max(len(n), *(len(c[i]) for c in cells)) for i, n in enumerate(names)]
    lines = ["  " + "  ".join(n.ljust(w) for n, w in zip(names, widths))]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(cell, widths)) for cell in cells]
    return "\n".join(lines)


@main.command()
@dsn_option
@json_option
@database_errors
def summary(dsn, as_json):
    """Print a KPI summary of customer_analytics: segments, new customers, top customers, last refresh."""
    dsn = resolve_dsn(dsn)
    with connect(dsn, autocommit=True) as conn:
        report = {name: _rows(conn, query) for name, query in SUMMARY_QUERIES.items()}
    if as_json:
        emit_json(report)
        return
    titles = {"segments": "Customers per segment",
              "new_last_30_days": "New customers in the last 30 days per location (first visit there)",
              "top_customers": "Top 5 customers by revenue",
              "last_refresh": "Last refresh"}
    for name, rows in report.items():
        click.echo(f"\n{titles[name]}\n{_table(rows)}")


@main.command()
@click.option("--customers", default=3000, show_default=True, type=click.IntRange(min=0))
@click.option("--orgs", default=3, show_default=True, type=click.IntRange(min=1))
@click.pass_context
def demo(ctx, customers, orgs):
    """The main job end to end on a fresh embedded database: source schema, demo data, apply, refresh, summary."""
    from .embedded import EmbeddedCluster

    cluster = EmbeddedCluster()
    cluster.start()
    with connect(cluster.dsn("postgres"), autocommit=True) as conn:
        progress("recreating database zorina_demo on the embedded cluster")
        conn.execute("DROP DATABASE IF EXISTS zorina_demo WITH (FORCE)")
        conn.execute("CREATE DATABASE zorina_demo")
    dsn = cluster.dsn("zorina_demo")
    click.echo(f"== demo database: {dsn}")
    ctx.invoke(main.commands["apply"], dsn=dsn, with_source_schema=True, dry_run=False,
               no_schedule=False, as_json=False)
    ctx.invoke(seed, dsn=dsn, orgs=orgs, customers=customers, years=3, seed=42, jobs=2, as_json=False)
    ctx.invoke(refresh, dsn=dsn, mode="full", organization_id=None, as_of=None, as_json=False)
    ctx.invoke(summary, dsn=dsn, as_json=False)
    click.echo(f"\nexplore it: psql '{dsn}'")


def _checkout_with_bench(start: Path) -> Path | None:
    """The repository checkout at or above `start` (the benchmark harness is not installed with
    the package: it writes its results into the checkout's bench/results and docs/)."""
    for folder in (start, *start.parents):
        if (folder / "bench" / "__main__.py").is_file() and (folder / "deployer" / "__init__.py").is_file():
            return folder
    return None


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                "help_option_names": []})
@click.argument("harness_args", nargs=-1, type=click.UNPROCESSED)
def bench(harness_args):
    """The benchmark harness (python -m bench), run from a checkout: zorina-db bench --scale S|M|L.

    Every option goes to the harness; `zorina-db bench --help` lists them.
    """
    checkout = _checkout_with_bench(Path.cwd())
    if checkout is None:
        raise Failure(f"zorina-db bench: no checkout of zorina-db at or above {Path.cwd()} (the benchmark "
                      "harness, bench/, is not installed with the package): run it from the repository",
                      EXIT_USAGE)
    # the harness runs from the repository root, as `python -m bench` does: its embedded cluster
    # is the checkout's (./.zorina unless $ZORINA_HOME), wherever in the checkout this was typed
    os.chdir(checkout)
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    from bench.__main__ import main as harness_main  # noqa: PLC0415 (found at run time)

    harness_main(list(harness_args), prog="zorina-db bench")


# -- scheduling and monitoring ------------------------------------------------------------------

@main.command()
@dsn_option
@click.option("--job", "job_name", default=None, help="incremental, recent, full or cleanup.")
@click.option("--every", default=None, help="New cron schedule for --job, e.g. '*/10 * * * *' (GMT).")
@click.option("--disable", "active", flag_value=False, default=None, help="Deactivate --job.")
@click.option("--enable", "active", flag_value=True, help="Activate --job.")
@click.option("--retention-days", type=click.IntRange(min=1), default=None,
              help="Days of refresh logs and pg_cron run history the cleanup job keeps.")
@json_option
@database_errors
def schedule(dsn, job_name, every, active, retention_days, as_json):
    """Create the pack's pg_cron jobs, or change one (--job with --every / --disable / --enable)."""
    from . import schedule as schedule_mod

    dsn = resolve_dsn(dsn)
    if job_name is None:
        if every is not None or active is not None or retention_days is not None:
            raise Failure(f"--every, --enable, --disable and --retention-days need --job "
                          f"({', '.join(schedule_mod.JOB_NAMES)})", 2)
        schedule_mod.require_preloaded(dsn)
        schedule_mod.ensure_jobs(dsn)
    else:
        schedule_mod.set_job(dsn, job_name, every=every, active=active, retention_days=retention_days)
    jobs = schedule_mod.job_status(dsn) or []
    if as_json:
        emit_json({"jobs": jobs})
        return
    for job in jobs:
        click.echo(f"{job['job']:32} {job['schedule']:14} {'active' if job['active'] else 'disabled':9} {job['command']}")


@main.command()
@dsn_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@database_errors
def unschedule(dsn, yes, as_json):
    """Remove every pg_cron job of the pack for this database."""
    import sys

    from . import schedule as schedule_mod

    dsn = resolve_dsn(dsn)
    if not yes:
        if not sys.stdin.isatty():
            raise Failure("refusing to remove jobs without confirmation; pass --yes", 2)
        click.confirm("Remove all zorina pg_cron jobs of this database?", abort=True)
    removed = schedule_mod.unschedule(dsn)
    if as_json:
        emit_json({"removed": removed})
    else:
        click.echo(f"removed: {', '.join(removed)}" if removed else "no zorina jobs were scheduled")


STATUS_QUERIES = {
    "organizations": """
        SELECT o.id AS organization_id, o.name, s.as_of, s.mode,
               round(extract(epoch FROM now() - s.as_of))::bigint AS age_seconds
          FROM organizations o LEFT JOIN zorina.refresh_state s ON s.organization_id = o.id
         ORDER BY o.name, o.id""",
    "backlog": """
        SELECT coalesce(sum(coalesce(cardinality(square_customer_ids), 1)), 0) AS dirty_keys,
               count(DISTINCT organization_id) AS organizations, min(marked_at) AS oldest_marked_at
          FROM zorina.dirty_keys  -- a row per source statement: its customers, or 1 for a whole organization""",
    "recent_runs": """
        SELECT created_at, status::text AS status, payload->>'mode' AS mode, organization_id,
               (payload->>'duration_ms')::bigint AS duration_ms,
               (payload->>'customers_recomputed')::bigint AS customers_recomputed,
               (payload->>'rows_upserted')::bigint AS rows_upserted,
               (payload->>'rows_deleted')::bigint AS rows_deleted,
               payload->>'sqlstate' AS sqlstate, payload->>'message' AS error
          FROM application_logs WHERE log_type = 'customer_analytics_refresh'
         ORDER BY created_at DESC LIMIT 10""",
}


@main.command()
@dsn_option
@click.option("--max-age-minutes", default=120, show_default=True, type=click.IntRange(min=1),
              help="Data older than this counts as stale (exit code 1).")
@json_option
@database_errors
def status(dsn, max_age_minutes, as_json):
    """Jobs, freshness per organization, dirty-key backlog, last runs. Exit 1 when unhealthy."""
    from . import schedule as schedule_mod

    dsn = resolve_dsn(dsn)
    jobs = schedule_mod.job_status(dsn)
    with connect(dsn, autocommit=True) as conn:
        report = {name: _rows(conn, query) for name, query in STATUS_QUERIES.items()}
    report["backlog"] = report["backlog"][0]
    report["jobs"] = jobs
    problems = []
    runs = report["recent_runs"]
    if runs and runs[0]["status"] == "error":
        problems.append(f"latest refresh failed: {runs[0]['sqlstate']} {runs[0]['error']}")
    for org in report["organizations"]:
        if org["as_of"] is None:
            problems.append(f"organization {org['name']} ({org['organization_id']}) was never refreshed")
        elif org["age_seconds"] > max_age_minutes * 60:
            problems.append(f"organization {org['name']} is stale: data as of {org['as_of']} "
                            f"({org['age_seconds'] // 60} minutes old, limit {max_age_minutes})")
    for job in jobs or []:
        if job["last_status"] == "failed":
            problems.append(f"job {job['job']} failed at {job['last_start']}: {job['last_message']}")
    report["healthy"] = not problems
    report["problems"] = problems
    if as_json:
        emit_json(report)
    else:
        click.echo("Jobs")
        if jobs is None:
            click.echo("  pg_cron is not available for this database: nothing is scheduled")
        else:
            click.echo(_table([{k: j[k] for k in ("job", "schedule", "active", "last_status", "last_start",
                                                  "last_duration_ms", "next_run")} for j in jobs]))
        click.echo("\nFreshness per organization\n" + _table(report["organizations"]))
        backlog = report["backlog"]
        click.echo(f"\nDirty-key backlog: {backlog['dirty_keys']} keys in {backlog['organizations']} organizations"
                   + (f", oldest {backlog['oldest_marked_at']}" if backlog["oldest_marked_at"] else ""))
        click.echo("\nLast refresh runs\n" + _table(runs))
        click.echo("\n" + ("healthy" if not problems else "UNHEALTHY:\n  " + "\n  ".join(problems)))
    if problems:
        raise SystemExit(1)
