"""The zorina-db benchmark: `python -m bench --scale S|M|L` or `zorina-db bench` (on demand, never in CI).

Creates a fresh database on the embedded cluster, seeds it with the pack's generator, applies
the pack, VACUUM ANALYZE, then times every case several times in one run and records the
median and min-max, plus ratios computed within the run (machines are noisy: compare ratios).
Results go to bench/results/<scale>.json; docs/benchmarks.md is regenerated from every scale
measured so far. `--keep` also keeps a copy of the seeded data that `--reuse` starts from, and
`--only GROUP,...` times some cases only (printed, not written: ratios come from whole runs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import psycopg.sql

from deployer import apply as apply_mod
from deployer.connection import connect
from deployer.embedded import EmbeddedCluster

from .report import write_report

SCALES = {  # organizations, customers
    "S": (10, 100_000),
    "M": (10, 300_000),
    "L": (20, 1_000_000),
}
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, dsn: str, repeats: int):
        self.dsn = dsn
        self.repeats = repeats
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.results: dict[str, dict] = {}

    def timed(self, sql: str, params=None, new_session: bool = False) -> tuple[float, object]:
        """`sql` timed on the benchmark's session, or on a session opened for it (untimed), as
        pg_cron runs every job: plans, catalog caches and compiled functions start cold."""
        session = psycopg.connect(self.dsn, autocommit=True) if new_session else self.conn
        try:
            started = time.perf_counter()
            cur = session.execute(sql, params)
            row = cur.fetchone() if cur.description else None
            return time.perf_counter() - started, row
        finally:
            if new_session:
                session.close()

    def case(self, name: str, sql: str, params=None, before=None, repeats=None, note=None,
             new_session: bool = False, after=None):
        """Run `before`, then `sql` (timed), then `after`, `repeats` times; only `sql` counts in
        this case's timings."""
        seconds, rows = [], []
        for _ in range(repeats or self.repeats):
            if before:
                before()
            elapsed, row = self.timed(sql, params, new_session)
            seconds.append(elapsed)
            rows.append(row)
            if after:
                after()
        self.record(name, seconds, note, rows[-1])
        return rows

    def paired(self, name: str, statements: dict[str, tuple[str, object]], ratios: dict[str, tuple[str, str]],
               before=None, note=None) -> None:
        """The statements one after another, repeat after repeat, the order rotating (each goes
        first in turn: evenly when the repeats are a multiple of the statements, as the default
        three are of three), and each ratio computed within a repeat: `ratios` names a ratio
        (numerator, denominator) of two statements. Statements are (sql, params); `before` runs
        untimed ahead of each statement. Records, under `name`, the seconds of each statement
        and the median and min-max of each ratio over the repeats: a ratio of two medians
        measured minutes apart carries whatever the machine did in between (the same full
        refresh took 7.1 s one hour and 8.9 s the next on this kind of machine, against a peer
        that did not move)."""
        order = list(statements)
        seconds: dict[str, list[float]] = {label: [] for label in order}
        for repeat in range(self.repeats):
            shift = repeat % len(order)
            for label in order[shift:] + order[:shift]:
                if before:
                    before(label)
                sql, params = statements[label]
                seconds[label].append(self.timed(sql, params)[0])
        self.record_paired(name, seconds, ratios, note)

    def record_paired(self, name: str, seconds: dict[str, list[float]], ratios: dict[str, tuple[str, str]],
                      note=None, **extra) -> dict:
        """Records, under `name`, timings taken repeat by repeat (`seconds`: per label, one per
        repeat) and each named ratio (numerator, denominator) of two labels, computed within
        each repeat and summarized over them. Returns the ratios' summaries."""
        summaries = {ratio: {**ratio_summary(pair_ratios(seconds[top], seconds[bottom])), "of": [top, bottom]}
                     for ratio, (top, bottom) in ratios.items()}
        runs = len(next(iter(seconds.values())))
        self.results[name] = {"seconds": seconds, "runs": runs, "note": note, **extra, "ratios": summaries}
        log(f"{name}: " + ", ".join(f"{ratio} median {summary['median']:.3f} "
                                    f"(min {summary['min']:.3f}, max {summary['max']:.3f})"
                                    for ratio, summary in summaries.items()))
        return summaries

    def record(self, name: str, seconds: list[float], note=None, last_row=None) -> None:
        self.results[name] = {
            "median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds),
            "runs": len(seconds), "seconds": seconds, "note": note,
            "last_row": {k: str(v) for k, v in last_row.items()} if isinstance(last_row, dict) else None,
        }
        log(f"{name}: median {statistics.median(seconds):.3f}s (min {min(seconds):.3f}, max {max(seconds):.3f})")

    def refresh_row(self, mode):
        cur = self.conn.cursor(row_factory=psycopg.rows.dict_row)
        return cur.execute("SELECT * FROM refresh_customer_analytics(%s)", [mode]).fetchone()


def pair_ratios(tops: list[float], bottoms: list[float]) -> list[float]:
    """top / bottom of each repeat (the two lists are one statement's timings each, repeat by
    repeat)."""
    if len(tops) != len(bottoms) or not tops:
        raise ValueError(f"paired timings need one of each per repeat, got {len(tops)} and {len(bottoms)}")
    return [top / bottom for top, bottom in zip(tops, bottoms)]


def ratio_summary(ratios: list[float]) -> dict:
    """What the report reads of the per-repeat ratios: their median (the verdict), range and values."""
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios), "per_repeat": ratios}


def change_customers(conn, permille: float, round_no) -> dict[str, int]:
    """A mix of source writes for `permille`/1000 of the customers (10 = 1%): a third get a new
    booking, a third a status update of their bookings, a third lose their payments. Returns how
    many customers were chosen and how many rows each kind of write touched."""
    threshold = int(permille * 10)  # out of 10000
    chosen, inserted, updated, deleted = conn.execute(
        """
        WITH chosen AS (
            SELECT organization_id, square_customer_id,
                   abs(hashtext(square_customer_id || %(round)s::text)) %% 3 AS kind
              FROM square_existing_clients
             WHERE abs(hashtext(square_customer_id || ':' || %(round)s::text || organization_id::text)) %% 10000 < %(threshold)s
        ),
        new_bookings AS (
            INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, start_at, status)
            SELECT c.organization_id, 'BENCH-' || %(round)s || '-' || c.square_customer_id, c.square_customer_id,
                   (SELECT l.id FROM locations l WHERE l.organization_id = c.organization_id LIMIT 1),
                   -- two to three days ago, at any minute of the day: the same instant for
                   -- every new booking would make them all tick over in one hour later on
                   -- (the "an hour later" case would measure the benchmark's own writes)
                   now() - interval '2 days'
                         - (abs(hashtext(c.square_customer_id || 'minute')) %% 1440) * interval '1 minute',
                   'ACCEPTED'
              FROM chosen c WHERE c.kind = 0
            RETURNING 1
        ),
        updated AS (
            UPDATE bookings b SET status = CASE WHEN b.status = 'ACCEPTED' THEN 'NO_SHOW' ELSE 'ACCEPTED' END
              FROM chosen c
             WHERE c.kind = 1 AND b.organization_id = c.organization_id AND b.customer_id = c.square_customer_id
            RETURNING 1
        ),
        deleted AS (
            DELETE FROM payments p USING chosen c
             WHERE c.kind = 2 AND p.organization_id = c.organization_id AND p.customer_id = c.square_customer_id
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM chosen), (SELECT count(*) FROM new_bookings),
               (SELECT count(*) FROM updated), (SELECT count(*) FROM deleted)
        """, {"round": round_no, "threshold": threshold}).fetchone()
    return {"customers": chosen, "bookings_inserted": inserted, "bookings_updated": updated,
            "payments_deleted": deleted}


def vacuum_if_autovacuum_would(conn, table: str = "customer_analytics") -> bool:
    """VACUUM `table` when autovacuum would by now, by its own rule (PostgreSQL 15's
    relation_needs_vacanalyze: dead rows, or rows inserted since the last vacuum, past
    threshold + scale factor x rows, the table's storage parameters first, then the server's).
    Run before each incremental case: between two 5-minute runs autovacuum has had minutes,
    the benchmark's back-to-back runs only seconds (and its 60 s nap may fall anywhere among
    them), so without this the visibility map the index-only scans rely on is in whatever state
    chance left it. Returns whether it vacuumed."""
    conn.execute("SELECT pg_stat_force_next_flush()")  # this session's own writes counted too
    rows, options, dead, inserted = conn.execute(
        """SELECT greatest(c.reltuples, 0), coalesce(c.reloptions, '{}'), s.n_dead_tup, s.n_ins_since_vacuum
             FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
            WHERE c.oid = %s::regclass""", [table]).fetchone()
    table_options = dict(option.split("=", 1) for option in options)

    def setting(name: str) -> float:
        return float(table_options.get(name) or conn.execute("SELECT current_setting(%s)", [name]).fetchone()[0])

    insert_threshold = setting("autovacuum_vacuum_insert_threshold")  # -1: inserts never trigger it
    due = (dead > setting("autovacuum_vacuum_threshold") + setting("autovacuum_vacuum_scale_factor") * rows
           or (insert_threshold >= 0
               and inserted > insert_threshold + setting("autovacuum_vacuum_insert_scale_factor") * rows))
    if due:
        conn.execute(psycopg.sql.SQL("VACUUM {}").format(psycopg.sql.Identifier(table)))
    return due


GROUPS = ("floor", "peers", "full", "incremental", "writes", "reads")
# 1. the floor: one bare GROUP BY per source table, result discarded
FLOOR_SQL = """
    SELECT (SELECT count(sub.*) FROM (SELECT organization_id, customer_id, count(*), min(start_at), max(start_at)
                                        FROM bookings GROUP BY 1, 2) sub),
           (SELECT count(sub.*) FROM (SELECT organization_id, customer_id, count(*), sum(total_money_amount)
                                        FROM payments GROUP BY 1, 2) sub)"""
# 2. the peer people actually run: the non-blocking refresh of the 35-column materialized view
PEER_CONCURRENTLY_SQL = "REFRESH MATERIALIZED VIEW CONCURRENTLY peer_customer_metrics"
# 4. ours: a full refresh at the moment it runs (the full cases themselves run at one fixed as_of)
FULL_NOW_SQL = "SELECT * FROM refresh_customer_analytics('full')"
# the incremental cases: label -> permille of the customers whose sources change before each run
INCREMENTAL_CHANGES = {"0.1pct": 1, "1pct": 10, "10pct": 100}
# change capture's overhead: repeats at least (each one statement of 200 insert batches and
# one of 200 update batches, half of them with the trigger)
WRITE_REPEATS = 3


def database_name(scale: str) -> str:
    return f"zorina_bench_{scale.lower()}"


def seeded_copy_name(scale: str) -> str:
    return f"{database_name(scale)}_seeded"


SEED_KEYS = ("organizations", "customers", "bookings", "payments", "seed_seconds")


def _drop_database(admin: psycopg.Connection, name: str) -> None:
    admin.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))


def _copy_database(admin: psycopg.Connection, source: str, target: str) -> None:
    """A file copy (not WAL-logged block by block, PostgreSQL 15's default): seconds, not minutes."""
    admin.execute(psycopg.sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY = FILE_COPY").format(
        psycopg.sql.Identifier(target), psycopg.sql.Identifier(source)))


def _rows_written(rows) -> list[int]:
    """rows_inserted + rows_updated + rows_deleted of each refresh_customer_analytics row."""
    return [row[4] + row[5] + row[6] for row in rows]


def seeded_copy_counts(admin: psycopg.Connection, seeded_copy: str, scale: str) -> dict:
    """The seed's counts and duration a --keep run stored on its seeded copy; a one-line exit
    when there is no usable copy (before anything is dropped or created)."""
    row = admin.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                        [seeded_copy]).fetchone()
    if row is None:
        raise SystemExit(f"bench: no seeded copy {seeded_copy} to reuse; run "
                         f"`python -m bench --scale {scale} --keep` once first")
    try:
        counts = json.loads(row[0] or "")
        if not all(key in counts for key in SEED_KEYS):
            raise ValueError(f"missing {', '.join(key for key in SEED_KEYS if key not in counts)}")
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise SystemExit(f"bench: {seeded_copy} does not say how it was seeded ({error}); run "
                         f"`python -m bench --scale {scale} --keep` again to replace it") from None
    return counts


def prepare_database(cluster: EmbeddedCluster, scale: str, keep: bool, reuse: bool) -> tuple[str, dict, float]:
    """A database with the scale's source data, analyzed, and the pack not yet applied.

    Seeds it, or with `reuse` copies the seeded copy a `keep` run left (same data, no seeding:
    re-measuring after an SQL change then costs the cases only). Returns the dsn, the seed's
    row counts and how long seeding took (in the run that seeded, when reused)."""
    orgs, customers = SCALES[scale]
    dbname, seeded_copy = database_name(scale), seeded_copy_name(scale)
    with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as admin:
        if reuse:
            counts = seeded_copy_counts(admin, seeded_copy, scale)
            _drop_database(admin, dbname)
            log(f"database {dbname}: copying {seeded_copy} (seeded by an earlier --keep run)")
            _copy_database(admin, seeded_copy, dbname)
            seed_seconds = counts.pop("seed_seconds")
            return cluster.dsn(dbname), counts, seed_seconds
        _drop_database(admin, dbname)
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(dbname)))
    dsn = cluster.dsn(dbname)
    log(f"database {dbname}: seeding {customers} customers in {orgs} organizations")
    with connect(dsn, autocommit=True) as conn:
        apply_mod.install_source_schema(conn, dry_run=False)
    from click.testing import CliRunner

    from deployer.cli import main as cli_main
    started = time.perf_counter()
    seeded = CliRunner().invoke(cli_main, ["seed", "--dsn", dsn, "--orgs", str(orgs), "--customers",
                                           str(customers), "--years", "3", "--seed", "42", "--json"])
    if seeded.exit_code != 0:
        raise SystemExit(seeded.output)
    seed_seconds = time.perf_counter() - started
    counts = json.loads(seeded.stdout)
    log(f"seeded in {seed_seconds:.0f}s: {counts}")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # in the copy too: a reuse starts analyzed, as a seeding does
    if keep:  # the earlier copy goes only now, once a new one can replace it
        log(f"keeping a copy of the seeded data as {seeded_copy} (for --reuse)")
        with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as admin:
            _drop_database(admin, seeded_copy)
            _copy_database(admin, dbname, seeded_copy)
            admin.execute(psycopg.sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                psycopg.sql.Identifier(seeded_copy),
                psycopg.sql.Literal(json.dumps({**counts, "seed_seconds": round(seed_seconds, 1)}))))
    return dsn, counts, seed_seconds


def run(scale: str, repeats: int, keep: bool, reuse: bool = False, only: tuple[str, ...] = GROUPS) -> dict:
    """Times the cases of `only` (every group by default). Only a run of every group writes
    bench/results/<scale>.json: the report's ratios must come from one run."""
    cluster = EmbeddedCluster()
    cluster.start()
    dsn, counts, seed_seconds = prepare_database(cluster, scale, keep, reuse)
    apply_mod.apply(dsn, schedule_jobs=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute((HERE / "peers.sql").read_text())
        conn.execute("VACUUM ANALYZE")

    bench = Bench(dsn, repeats)
    c = bench.conn
    # The floor and the peers at their best: JIT off (PostgreSQL's default compiles their big
    # scans for 0.3-1 s). The pack's cases run at the server's setting: its refresh functions
    # set jit = off for themselves, so what is measured is what a default server runs.
    c.execute("SET jit = off")
    if "floor" in only:  # 1. floor
        bench.case("floor", FLOOR_SQL)
    if "peers" in only:
        # 2. peer: materialized view
        bench.case("peer_mv_refresh", "REFRESH MATERIALIZED VIEW peer_customer_metrics")
        bench.case("peer_mv_refresh_concurrently", PEER_CONCURRENTLY_SQL)
        # 3. peer: the seed's 90-day CTE upsert of every row
        bench.case("peer_seed_upsert", "SELECT peer_seed_upsert()")
    c.execute("RESET jit")
    # 4. ours
    def empty_table():
        c.execute("TRUNCATE customer_analytics; DELETE FROM zorina.refresh_state; DELETE FROM zorina.dirty_keys")
    # The full refreshes run at one fixed as_of: "nothing changed" must include the clock. At
    # now() a repeat that crosses a time of day many visits started at (bookings start on the
    # hour) legitimately rewrites every customer whose days-since-last-visit ticked over then.
    full_as_of = c.execute("SELECT now()").fetchone()[0]
    full_sql = "SELECT * FROM refresh_customer_analytics('full', as_of => %s)"
    if "full" in only:
        pid = c.execute("SELECT pg_backend_pid()").fetchone()[0]
        sampler = MemorySampler(pid)
        sampler.start()
        bench.case("ours_full_first_load", full_sql, [full_as_of], before=empty_table)
        temp_before = temp_bytes_written(c)
        rows = bench.case("ours_full_unchanged", full_sql, [full_as_of])
        bench.results["full_unchanged_temp_bytes"] = {
            "value": (temp_bytes_written(c) - temp_before) // len(rows),
            "note": "temporary files written per full refresh with nothing changed (pg_stat_database.temp_bytes, "
                    "the backend and its parallel workers): what did not fit in work_mem"}
        bench.results["full_refresh_private_memory_kb"] = {
            "value": sampler.stop(),
            "note": "peak RssAnon during the full refreshes, sampled every 50 ms: the backend, "
                    "and the backend plus its parallel workers at one instant"}
        bench.results["ours_full_unchanged"]["writes"] = _rows_written(rows)
        bench.results["backend_vm_hwm_kb"] = {"value": _status_kb(pid, "VmHWM:"),
                                              "note": "VmHWM of the backend after full refreshes (includes shared buffers it touched)"}
        if {"floor", "peers"} <= set(only):
            # the two ratio targets again, measured within each repeat (the cases above ran
            # minutes apart): the floor and the peer at their best (JIT off), the pack at the
            # server's setting, as above
            bench.paired(
                "paired_full_unchanged",
                {"floor": (FLOOR_SQL, None), "peer_mv_refresh_concurrently": (PEER_CONCURRENTLY_SQL, None),
                 "ours_full_unchanged": (full_sql, [full_as_of])},
                {"full_over_peer_concurrently": ("ours_full_unchanged", "peer_mv_refresh_concurrently"),
                 "full_over_floor": ("ours_full_unchanged", "floor")},
                before=lambda label: c.execute("RESET jit" if label.startswith("ours") else "SET jit = off"),
                note="floor, peer REFRESH CONCURRENTLY and full (nothing changed) one after another, "
                     "repeat by repeat, the order rotating; ratios within each repeat")
            c.execute("RESET jit")  # the cases below run at the server's setting, whichever ran last
    elif {"incremental", "writes", "reads"} & set(only):
        log("filling customer_analytics (untimed full refresh: the cases chosen read it)")
        c.execute(full_sql, [full_as_of])
    if "incremental" in only:
        # the full cases ran at one fixed as_of, minutes ago: catch up on the clock since then
        # first, untimed, or the first "nothing changed" run measures it (at L, 20.5 s and
        # 51,933 rows once, when the full cases' as_of and the run lay either side of midnight)
        log("bringing customer_analytics to now (untimed incremental: the full cases ran at a fixed as_of)")
        c.execute("SELECT * FROM refresh_customer_analytics('incremental')")
        # before each run, what autovacuum does in the minutes between two scheduled runs
        # (vacuum_if_autovacuum_would); which runs it vacuumed before is recorded
        def incremental_case(name, mode="incremental", before=None, note=None, new_session=False, after=None):
            vacuumed = []
            def prepare():
                if before:
                    before()
                vacuumed.append(vacuum_if_autovacuum_would(c))
            rows = bench.case(name, f"SELECT * FROM refresh_customer_analytics('{mode}')", before=prepare,
                              note=note, new_session=new_session, after=after)
            bench.results[name]["vacuumed"] = vacuumed
            return rows

        def after_changes_case(name, permille, round_prefix, note=None, new_session=False, after=None):
            counter = iter(range(1000))
            changed = []
            rows = incremental_case(name, note=note, new_session=new_session, after=after,
                                    before=lambda: changed.append(change_customers(c, permille, f"{round_prefix}-{next(counter)}")))
            bench.results[name]["changed"] = changed
            bench.results[name]["recomputed"] = [r[3] for r in rows]

        # the 1% target, like the other ratio targets, also within each repeat: a full refresh
        # right after each 1% run (the same state: it finds nothing to write but what the
        # seconds between moved), against the full refreshes measured minutes earlier
        full_after_1pct = []
        incremental_case("ours_incremental_unchanged")
        for label, permille in INCREMENTAL_CHANGES.items():
            after_changes_case(f"ours_incremental_{label}", permille, str(permille),
                               after=(lambda: full_after_1pct.append(bench.timed(FULL_NOW_SQL)[0]))
                               if label == "1pct" else None)
        bench.record_paired(
            "paired_incremental_1pct",
            {"ours_incremental_1pct": bench.results["ours_incremental_1pct"]["seconds"],
             "ours_full_after_incremental_1pct": full_after_1pct},
            {"incremental_1pct_over_full": ("ours_incremental_1pct", "ours_full_after_incremental_1pct")},
            note="a full refresh right after each 1% incremental run")
        # the 1% case as pg_cron runs it, each run in a session of its own (not a target: the
        # targets compare runs of one session, like the peers')
        after_changes_case("ours_incremental_1pct_new_session", INCREMENTAL_CHANGES["1pct"], "new-session",
                           note="each run in a new session, as pg_cron runs every job", new_session=True)
        # an hour of clock and no write: what the time-relative pass costs between hourly runs
        # (days counters ticking over, upcoming bookings becoming visits, RFM recency moving);
        # after the cases above, so that the rows it rewrites do not change what they measure
        rows = incremental_case(
            "ours_incremental_hour_later",
            before=lambda: c.execute("SELECT * FROM refresh_customer_analytics('full', as_of => now() - interval '1 hour')"),
            note="after a full refresh an hour earlier, no source write in between")
        bench.results["ours_incremental_hour_later"]["writes"] = _rows_written(rows)
        bench.results["ours_incremental_hour_later"]["recomputed"] = [r[3] for r in rows]
        incremental_case("ours_recent", mode="recent")
    if "writes" in only:  # 5. change-capture overhead on source writes
        write_overhead(bench)
    if "reads" in only:  # 6. reads
        reads(bench)
    bench.results["sizes"] = {"value": c.execute(
        """SELECT json_build_object('customer_analytics_table', pg_size_pretty(pg_table_size('customer_analytics')),
                                    'customer_analytics_indexes', pg_size_pretty(pg_indexes_size('customer_analytics')),
                                    'bookings_total', pg_size_pretty(pg_total_relation_size('bookings')),
                                    'payments_total', pg_size_pretty(pg_total_relation_size('payments')))""").fetchone()[0]}
    settings = dict(c.execute(
        """SELECT name, current_setting(name) FROM pg_settings
            WHERE name IN ('shared_buffers', 'work_mem', 'maintenance_work_mem', 'max_wal_size', 'jit',
                           'max_parallel_workers_per_gather', 'effective_cache_size', 'server_version',
                           'synchronous_commit', 'fsync', 'max_worker_processes', 'max_parallel_workers',
                           'full_page_writes', 'wal_compression', 'checkpoint_timeout')""").fetchall())
    result = {
        "scale": scale, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "ram_gib": round(_ram_gib(), 1), "platform": platform.platform()},
        "postgres": settings, "data": counts,
        "seed_seconds": round(seed_seconds, 1),
        "seeded_in_this_run": not reuse,
        "repeats": repeats, "cases": bench.results,
    }
    bench.conn.close()
    if set(only) == set(GROUPS):
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{scale}.json").write_text(json.dumps(result, indent=2, default=str))
    if not keep:
        with psycopg.connect(cluster.dsn("postgres"), autocommit=True) as admin:
            _drop_database(admin, database_name(scale))
    return result


def write_overhead(bench: Bench) -> None:
    """Change capture's cost on batched source writes: 100k booking inserts and 100k updates in
    batches of 1,000, with the pack's trigger and without it. The two variants alternate batch
    by batch within one statement (each pair of adjacent batches has one of each, the order
    alternating from pair to pair) and each batch is timed on its own: the machine drifts over
    seconds by more than the overhead (the same 100k inserts took 2.7-4.9 s within one run; a
    block with the triggers against a block without measured -26% to +65% at S), while two
    adjacent batches see the same machine. A repeat's ratio is the with-trigger batches' time
    over the others'; the verdict is the median over the repeats. Every batch's captured keys
    are counted: a batch with the trigger must have queued one row, one without none."""
    c = bench.conn
    org, location = c.execute("SELECT organization_id, id FROM locations ORDER BY id LIMIT 1").fetchone()
    writes = {
        "insert": """
            INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, start_at, status)
            SELECT '{org}', 'OVERHEAD-' || batch || '-' || g, 'C' || lpad(((batch * 1000 + g) % 5000 + 1)::text, 7, '0'),
                   '{loc}', now() - g * interval '1 minute', 'ACCEPTED'
              FROM generate_series(1, 1000) AS g""".format(org=org, loc=location),
        "update": """
            UPDATE bookings b SET duration_minutes = coalesce(b.duration_minutes, 0) + 1
              FROM overhead_rows o
             WHERE o.id = b.id AND o.row_number > (batch - 1) * 1000 AND o.row_number <= batch * 1000""",
    }
    interleaved = """
        DO $$
        DECLARE
            batch integer;
            with_trigger boolean;
            started timestamptz;
            elapsed float8;
            queued_before bigint;
        BEGIN
            FOR batch IN 1 .. 200 LOOP
                -- pairs of batches (1, 2), (3, 4), ...: the one with the trigger goes second in
                -- odd pairs, first in even ones
                with_trigger := ((batch + (batch - 1) / 2) % 2 = 0);
                EXECUTE format('ALTER TABLE bookings %s TRIGGER zorina_capture___KIND__',
                               CASE WHEN with_trigger THEN 'ENABLE' ELSE 'DISABLE' END);
                queued_before := (SELECT count(*) FROM zorina.dirty_keys);
                started := clock_timestamp();
                __WRITE__;
                elapsed := extract(epoch FROM clock_timestamp() - started);
                INSERT INTO overhead_batches (kind, batch, with_trigger, seconds, queued)
                VALUES ('__KIND__', batch, with_trigger, elapsed,
                        (SELECT count(*) FROM zorina.dirty_keys) - queued_before);
            END LOOP;
            ALTER TABLE bookings ENABLE TRIGGER zorina_capture___KIND__;
        END $$"""

    def cleanup():
        c.execute("DELETE FROM bookings WHERE booking_id LIKE 'OVERHEAD-%'")
        c.execute("VACUUM bookings")
        # each repeat starts as after a refresh took the captured keys: none
        c.execute("DELETE FROM zorina.dirty_keys")
        c.execute("VACUUM zorina.dirty_keys")

    repeats = max(WRITE_REPEATS, bench.repeats)
    seconds = {(kind, enabled): [] for kind in writes for enabled in (False, True)}
    c.execute("CREATE TEMP TABLE overhead_batches (kind text, batch integer, with_trigger boolean, "
              "seconds float8, queued bigint)")
    try:
        for _ in range(repeats):
            cleanup()
            c.execute("TRUNCATE overhead_batches")
            for kind, write in writes.items():
                if kind == "update":  # the 200k rows the inserts added, numbered
                    c.execute("""DROP TABLE IF EXISTS overhead_rows;
                                 CREATE TEMP TABLE overhead_rows AS
                                 SELECT id, row_number() OVER (ORDER BY id) AS row_number
                                   FROM bookings WHERE booking_id LIKE 'OVERHEAD-%';
                                 CREATE INDEX ON overhead_rows (row_number); ANALYZE overhead_rows""")
                bench.timed(interleaved.replace("__KIND__", kind).replace("__WRITE__", write))
            for kind, enabled, total, batches, queued in c.execute(
                    "SELECT kind, with_trigger, sum(seconds), count(*), array_agg(DISTINCT queued) "
                    "FROM overhead_batches GROUP BY 1, 2 ORDER BY 1, 2").fetchall():
                if batches != 100 or queued != [1 if enabled else 0]:
                    raise RuntimeError(f"change capture: {kind} batches {'with' if enabled else 'without'} the trigger "
                                       f"numbered {batches} and queued {queued} keys each; expected 100 and "
                                       f"{1 if enabled else 0}")
                seconds[(kind, enabled)].append(total)
    finally:
        cleanup()
        c.execute("DROP TABLE overhead_batches")
    for (kind, enabled), timings in seconds.items():
        bench.record(f"writes_{kind}_100k_{'with_triggers' if enabled else 'without_triggers'}", timings,
                     note="each run: 100 batches, alternating with the other variant's batch by batch")
    summaries = bench.record_paired(
        "writes_paired",
        {f"{kind}_{'with' if enabled else 'without'}_triggers": timings for (kind, enabled), timings in seconds.items()},
        {kind: (f"{kind}_with_triggers", f"{kind}_without_triggers") for kind in writes},
        note="with / without the capture trigger, batches alternating", method="alternate batches")
    for kind, summary in summaries.items():
        log(f"change capture on {kind}s, batches alternating: median {summary['median'] - 1:+.1%} "
            f"({summary['min'] - 1:+.1%} to {summary['max'] - 1:+.1%})")


def _explain_analyze(conn, sql: str, params) -> tuple[float, dict]:
    """Execution time in seconds (EXPLAIN ANALYZE) and the plan of one run of `sql`."""
    plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()[0][0]
    return plan["Execution Time"] / 1000, plan


def reads(bench: Bench) -> None:
    c = bench.conn
    org, customer = c.execute(
        "SELECT organization_id, square_customer_id FROM customer_analytics ORDER BY organization_id LIMIT 1").fetchone()
    queries = {
        # what a dashboard reads: the summary every refresh keeps (analytics_segment_counts) ...
        "read_segment_counts_one_org": ("SELECT customer_segment, customers FROM analytics_segment_counts "
                                        "WHERE organization_id = %s", [org]),
        # ... and, for comparison, counting the organization's rows at read time
        "read_segment_counts_one_org_counted": ("SELECT customer_segment, count(*) FROM customer_analytics "
                                                "WHERE organization_id = %s GROUP BY 1", [org]),
        "read_customer_by_key": ("SELECT * FROM customer_analytics WHERE organization_id = %s AND square_customer_id = %s",
                                 [org, customer]),
        # the daily appointments for 90 business days: the range function (index on start_at) ...
        "read_daily_view_one_org_90d": ("SELECT * FROM analytics_appointments_by_location_daily_between("
                                        "%s, current_date - 89, current_date)", [org]),
        # ... and the same days filtered from the view (every day of the organization computed)
        "read_daily_view_one_org_90d_view": ("SELECT * FROM analytics_appointments_by_location_daily "
                                             "WHERE organization_id = %s AND date BETWEEN current_date - 89 "
                                             "AND current_date", [org]),
    }
    for name, (sql, params) in queries.items():
        timings, plan = [], None
        for _ in range(max(3, bench.repeats)):
            seconds, plan = _explain_analyze(c, sql, params)
            timings.append(seconds)
        top = plan["Plan"]
        shape = [top["Node Type"]] + [child["Node Type"] for child in top.get("Plans", [])][:3]
        bench.results[name] = {"median_s": statistics.median(timings), "min_s": min(timings), "max_s": max(timings),
                               "runs": len(timings), "note": "EXPLAIN ANALYZE execution time; plan: " + " > ".join(shape)}
        log(f"{name}: {statistics.median(timings) * 1000:.2f} ms ({' > '.join(shape)})")
    # the 90-day read for every organization, not only the first: organizations differ in size
    daily_90d = queries["read_daily_view_one_org_90d"][0]
    per_org = []
    for (other_org,) in c.execute("SELECT id FROM organizations ORDER BY id").fetchall():
        _explain_analyze(c, daily_90d, [other_org])  # warm
        per_org.append(min(_explain_analyze(c, daily_90d, [other_org])[0] for _ in range(2)))
    bench.results["read_daily_view_90d_every_org"] = {
        "median_s": statistics.median(per_org), "min_s": min(per_org), "max_s": max(per_org), "runs": len(per_org),
        "note": f"the range function for each of the {len(per_org)} organizations (best of two each); "
                "median, fastest and slowest organization"}
    log(f"read_daily_view_90d_every_org: median {statistics.median(per_org) * 1000:.2f} ms, "
        f"slowest {max(per_org) * 1000:.2f} ms")


class MemorySampler(threading.Thread):
    """The peak private memory (RssAnon: heap, hash tables, sorts; not the shared buffers a
    process touched, which VmHWM counts) of one backend and of the parallel workers it starts,
    sampled from /proc every 50 ms while it works."""

    def __init__(self, leader_pid: int):
        super().__init__(daemon=True)
        self.leader_pid = leader_pid
        self.done = threading.Event()
        self.peak_leader_kb = 0
        self.peak_together_kb = 0

    def run(self) -> None:
        marker = f"parallel worker for PID {self.leader_pid}".encode()
        while not self.done.is_set():
            workers = []
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        if marker in (entry / "cmdline").read_bytes():
                            workers.append(int(entry.name))
                    except OSError:
                        pass  # gone meanwhile
            leader = _status_kb(self.leader_pid, "RssAnon:") or 0
            together = leader + sum(_status_kb(pid, "RssAnon:") or 0 for pid in workers)
            self.peak_leader_kb = max(self.peak_leader_kb, leader)
            self.peak_together_kb = max(self.peak_together_kb, together)
            self.done.wait(0.05)

    def stop(self) -> dict:
        self.done.set()
        self.join()
        return {"backend_kb": self.peak_leader_kb, "backend_and_workers_kb": self.peak_together_kb}


def temp_bytes_written(conn) -> int:
    """The database's temp_bytes so far, this session's own counts included: a backend reports
    them when it goes idle, at most once a second unless told to (pg_stat_force_next_flush);
    parallel workers report theirs when they exit, before the statement that started them ends."""
    conn.execute("SELECT pg_stat_force_next_flush()")
    return conn.execute("SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def _status_kb(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _ram_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _groups(value: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(g.strip() for g in value.split(",") if g.strip()))
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown case group {', '.join(unknown) or repr(value)}; choose from {', '.join(GROUPS)}")
    return chosen


def main(argv=None, prog: str = "python -m bench") -> None:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="S")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case (default 3)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the benchmark database and a copy of the seeded data (for --reuse)")
    parser.add_argument("--reuse", action="store_true",
                        help="start from the seeded copy an earlier --keep run left instead of seeding")
    parser.add_argument("--only", type=_groups, default=GROUPS, metavar="GROUP[,GROUP]",
                        help=f"run only these case groups ({', '.join(GROUPS)}); prints the timings, "
                             "writes no results (ratios must come from one whole run)")
    parser.add_argument("--report-only", action="store_true", help="only regenerate docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    if args.report_only and (args.reuse or args.keep or args.only != GROUPS):
        parser.error("--report-only measures nothing: it takes no --keep, --reuse or --only")
    if args.report_only:
        log(f"wrote {write_report(RESULTS, HERE.parent / 'docs' / 'benchmarks.md')}")
        return
    result = run(args.scale, args.repeats, args.keep, args.reuse, args.only)
    if set(args.only) != set(GROUPS):
        json.dump({name: case for name, case in result["cases"].items()}, sys.stdout, indent=2, default=str)
        print()
        return
    log(f"wrote {write_report(RESULTS, HERE.parent / 'docs' / 'benchmarks.md')}")


if __name__ == "__main__":
    main()
