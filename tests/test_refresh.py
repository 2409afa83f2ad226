"""refresh_customer_analytics / _for_customer: modes, writes only what changed, deletes, single
flight, one transaction, run log, input errors (contract sections 4 and 6)."""

import json
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.rows import dict_row

from builder import SourceData, ts
from conftest import capture_plans, customer_row, load, refresh, segment_counts, table_rows
from deployer.cli import main
from randomdata import generate

AS_OF = ts("2026-06-15 12:00+00")


def small_world(conn):
    d = SourceData()
    org_a = d.org(timezone="America/New_York"); loc_a = d.location(org_a)
    org_b = d.org(); loc_b = d.location(org_b)
    for org, loc in ((org_a, loc_a), (org_b, loc_b)):
        for i in range(5):
            d.customer(org, f"C{i}")
            for v in range(i):
                d.booking(org, f"C{i}", loc, AS_OF - timedelta(days=7 * v + i))
            d.payment(org, f"C{i}", loc, 1000 + i)
    load(conn, d.tables)
    return org_a, org_b, loc_a


def physical_versions(conn):
    return {(r["organization_id"], r["square_customer_id"]): r["xmin"] for r in conn.execute(
        "SELECT organization_id, square_customer_id, xmin::text FROM customer_analytics")}


def test_second_full_refresh_writes_nothing(conn):
    load(conn, generate(11, AS_OF, n_orgs=2, customers_per_org=200))
    first = refresh(conn, as_of=AS_OF)
    assert first["rows_inserted"] == 400 and first["rows_updated"] == 0
    versions = physical_versions(conn)
    second = refresh(conn, as_of=AS_OF)
    assert (second["rows_inserted"], second["rows_updated"], second["rows_deleted"]) == (0, 0, 0)
    assert second["customers_recomputed"] == 400
    assert physical_versions(conn) == versions          # not one row rewritten, RFM included


def test_a_first_load_leaves_statistics_that_know_the_rows(conn):
    """A first load tells the planner the table is no longer empty: the refresh's later joins
    would go quadratic otherwise. (Which columns it analyzes is a matter of speed: the
    benchmark's first load; the rows inserted still count for autovacuum's ANALYZE.)"""
    def reltuples():
        return conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'customer_analytics'::regclass"
                            ).fetchone()["reltuples"]
    load(conn, generate(12, AS_OF, n_orgs=3, customers_per_org=500))
    assert reltuples() <= 0                             # never analyzed: the planner assumes empty
    assert refresh(conn, as_of=AS_OF)["rows_inserted"] == 1500
    assert reltuples() == 1500
    analyzed = {row["attname"] for row in conn.execute(
        "SELECT attname FROM pg_stats WHERE schemaname = 'public' AND tablename = 'customer_analytics'")}
    assert {"organization_id", "square_customer_id", "customer_segment"} <= analyzed


def test_only_changed_rows_are_written_and_vanished_profiles_deleted(conn):
    org_a, org_b, loc_a = small_world(conn)
    refresh(conn, as_of=AS_OF)
    versions = physical_versions(conn)
    conn.execute("DELETE FROM square_existing_clients WHERE organization_id = %s AND square_customer_id = 'C0'", [org_a])
    conn.execute("UPDATE square_existing_clients SET given_name = 'Renamed' WHERE organization_id = %s AND square_customer_id = 'C1'", [org_a])
    result = refresh(conn, as_of=AS_OF)
    assert result["rows_deleted"] == 1 and result["rows_updated"] == 1 and result["rows_inserted"] == 0
    after = physical_versions(conn)
    assert (org_a, "C0") not in after
    changed = {key for key in after if after[key] != versions[key]}
    assert changed == {(org_a, "C1")}


def test_org_mode_refreshes_one_organization_and_records_state(conn):
    org_a, org_b, _ = small_world(conn)
    result = refresh(conn, "org", organization_id=org_a, as_of=AS_OF)
    assert result["mode"] == "org" and result["organization_id"] == org_a
    assert {key[0] for key in table_rows(conn)} == {org_a}
    state = conn.execute("SELECT organization_id, as_of, mode FROM zorina.refresh_state").fetchall()
    assert state == [{"organization_id": org_a, "as_of": AS_OF, "mode": "org"}]
    # `full` with an organization_id is the same scope
    refresh(conn, "full", organization_id=org_b, as_of=AS_OF)
    assert {key[0] for key in table_rows(conn)} == {org_a, org_b}


def test_per_customer_refresh_equals_full_refresh(conn):
    org_a, org_b, loc_a = small_world(conn)
    refresh(conn, as_of=AS_OF)
    # new source data for one customer, then the event-driven refresh
    d = SourceData(); d._ids = iter(range(10_000, 20_000))
    d.booking(org_a, "C0", loc_a, AS_OF - timedelta(days=1), booking_id="NEWBOOKING")
    d.payment(org_a, "C0", loc_a, 99999)
    load(conn, d.tables)
    result = conn.execute("SELECT * FROM refresh_customer_analytics_for_customer(%s, 'C0', as_of => %s)",
                          [org_a, AS_OF]).fetchone()
    assert result["mode"] == "customer" and result["rows_updated"] >= 1
    after_event = table_rows(conn)
    assert after_event[(org_a, "C0")]["total_accepted_bookings"] == 1
    refresh(conn, as_of=AS_OF)
    assert table_rows(conn) == after_event              # including everyone's RFM scores


def test_per_customer_refresh_of_a_deleted_profile_removes_its_row(conn):
    org_a, _, _ = small_world(conn)
    refresh(conn, as_of=AS_OF)
    conn.execute("DELETE FROM square_existing_clients WHERE organization_id = %s AND square_customer_id = 'C3'", [org_a])
    result = conn.execute("SELECT * FROM refresh_customer_analytics_for_customer(%s, 'C3')", [org_a]).fetchone()
    assert result["rows_deleted"] == 1
    assert customer_row(conn, org_a, "C3") is None
    stored, counted = segment_counts(conn)
    assert stored == counted                 # the summary followed the deleted row


@pytest.mark.parametrize("call, sqlstate", [
    ("SELECT * FROM refresh_customer_analytics('weekly')", "22023"),
    ("SELECT * FROM refresh_customer_analytics(NULL)", "22004"),
    ("SELECT * FROM refresh_customer_analytics('org')", "22023"),
    ("SELECT * FROM refresh_customer_analytics('org', organization_id => '00000000-0000-0000-0000-000000000001')", "22023"),
    ("SELECT * FROM refresh_customer_analytics('full', as_of => now() + interval '1 day')", "22023"),
    ("SELECT * FROM refresh_customer_analytics('full', as_of => NULL)", "22004"),
])
def test_bad_input_is_refused_precisely_and_changes_nothing(conn, call, sqlstate):
    small_world(conn)
    with pytest.raises(psycopg.Error) as error:
        conn.execute(call)
    assert error.value.diag.sqlstate == sqlstate
    assert error.value.diag.message_hint                  # always says what to do instead
    assert conn.execute("SELECT count(*) AS n FROM customer_analytics").fetchone()["n"] == 0
    assert conn.execute("SELECT count(*) AS n FROM application_logs").fetchone()["n"] == 0


def test_unknown_mode_message_names_the_valid_modes(conn):
    with pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT * FROM refresh_customer_analytics('hourly')")
    assert "hourly" in error.value.diag.message_primary
    assert "full, org, recent, incremental" in error.value.diag.message_hint


def test_a_busy_scope_is_skipped_not_waited_for(conn, dsn):
    org_a, org_b, _ = small_world(conn)
    with psycopg.connect(dsn, row_factory=dict_row) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(23051, 0)")     # as a running full refresh holds it
        result = refresh(conn, as_of=AS_OF)
        assert result["skipped"] is True and result["rows_inserted"] == 0
        org_result = refresh(conn, "org", organization_id=org_a, as_of=AS_OF)
        assert org_result["skipped"] is True
        holder.rollback()
    with psycopg.connect(dsn, row_factory=dict_row) as holder:
        # as a running refresh of org_a holds them: the global key shared, its own exclusively
        holder.execute("SELECT pg_advisory_xact_lock_shared(23051, 0), pg_advisory_xact_lock(23051, hashtext(%s::text))",
                       [str(org_a)])
        assert refresh(conn, "org", organization_id=org_a, as_of=AS_OF)["skipped"] is True
        assert refresh(conn, "org", organization_id=org_b, as_of=AS_OF)["skipped"] is False
        assert refresh(conn, "full", as_of=AS_OF)["skipped"] is True     # covers org_a too
    assert conn.execute("SELECT count(*) AS n FROM customer_analytics").fetchone()["n"] == 5


def test_successful_run_logs_one_row(conn):
    small_world(conn)
    result = refresh(conn, as_of=AS_OF)
    logs = conn.execute("SELECT status::text, log_type, payload FROM application_logs").fetchall()
    assert len(logs) == 1
    log = logs[0]
    assert (log["status"], log["log_type"]) == ("completed", "customer_analytics_refresh")
    assert log["payload"]["mode"] == "full" and log["payload"]["rows_upserted"] == 10
    assert log["payload"]["customers_recomputed"] == result["customers_recomputed"] == 10
    assert datetime.fromisoformat(log["payload"]["as_of"]) == AS_OF


def test_failed_run_leaves_the_table_and_keeps_its_error_log(conn):
    org_a, org_b, _ = small_world(conn)
    refresh(conn, as_of=AS_OF)
    before = table_rows(conn)
    state_before = conn.execute("SELECT * FROM zorina.refresh_state ORDER BY 1").fetchall()
    conn.execute("DELETE FROM square_existing_clients WHERE square_customer_id = 'C4'")
    # a bad setting in the second organization fails the run halfway
    conn.execute("""UPDATE organizations SET settings = '{"segment_new_days": "soon"}' WHERE id = %s""",
                 [max(org_a, org_b, key=lambda u: str(u))])
    with pytest.raises(psycopg.Error) as error:
        refresh(conn, as_of=AS_OF + timedelta(minutes=1))
    assert error.value.diag.sqlstate == "22023"
    assert "segment_new_days" in error.value.diag.message_primary
    assert table_rows(conn) == before
    assert conn.execute("SELECT * FROM zorina.refresh_state ORDER BY 1").fetchall() == state_before
    logs = conn.execute("SELECT status::text, payload FROM application_logs ORDER BY created_at").fetchall()
    assert [log["status"] for log in logs] == ["completed", "error"]
    assert logs[1]["payload"]["sqlstate"] == "22023" and "soon" in logs[1]["payload"]["message"]


def test_cli_refresh_prints_the_row_and_json(dsn, conn):
    small_world(conn)
    result = CliRunner().invoke(main, ["refresh", "--dsn", dsn, "--mode", "full", "--as-of", "2026-06-15 12:00+00", "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert row["rows_inserted"] == 10 and row["skipped"] is False and row["mode"] == "full"
    human = CliRunner().invoke(main, ["refresh", "--dsn", dsn])
    assert "customers recomputed 10" in human.stdout
    bad = CliRunner().invoke(main, ["refresh", "--dsn", dsn, "--mode", "weekly"])
    assert bad.exit_code == 1
    assert "22023" in bad.output and "weekly" in bad.output and "valid modes" in bad.output
    assert "Traceback" not in bad.output


def test_full_refresh_in_parallel_workers_equals_a_serial_one(conn):
    """Whole organizations are computed one per parallel worker (zorina.compute_organizations);
    with parallelism off the leader computes them one after another: same table either way."""
    load(conn, generate(12, AS_OF, n_orgs=4, customers_per_org=150))   # one batch of four
    plans = capture_plans(conn)

    refresh(conn, as_of=AS_OF)
    computed_in_parallel = table_rows(conn)
    batch_plans = [p for p in plans if "CREATE TEMP TABLE zorina_computed" in p]
    assert len(batch_plans) == 1 and "Parallel Append" in batch_plans[0], batch_plans
    assert "Workers Launched: 2" in batch_plans[0]

    conn.execute("DELETE FROM customer_analytics")
    plans.clear()
    conn.execute("SET max_parallel_workers_per_gather = 0")
    refresh(conn, as_of=AS_OF)
    batch_plans = [p for p in plans if "CREATE TEMP TABLE zorina_computed" in p]
    assert batch_plans and not any("Gather" in p for p in batch_plans)
    assert table_rows(conn) == computed_in_parallel
    assert len(computed_in_parallel) == 600


def test_no_statement_the_pack_runs_is_jit_compiled(conn):
    """At PostgreSQL's default (jit = on) the statement that calls the compute for an
    incremental run's listed customers (the compute's COST marks it expensive) was compiled every
    run, at more cost than running it: every entry point switches JIT off for all it runs, its
    parallel workers included. Here jit_above_cost = 0 would compile every statement left
    uncovered."""
    if not conn.execute("SELECT pg_jit_available() AS available").fetchone()["available"]:
        pytest.skip("this server has no JIT provider (llvmjit)")
    org_a, org_b, loc_a = small_world(conn)
    plans = capture_plans(conn)
    conn.execute("SET jit = on")
    conn.execute("SET jit_above_cost = 0")
    top_level = "/* the test's own call */ "
    conn.execute(top_level + "SELECT count(*) FROM bookings")
    assert any("JIT:" in p for p in plans), plans  # the check can see a compiled statement

    plans.clear()
    conn.execute(top_level + "SELECT * FROM refresh_customer_analytics('full', as_of => %s)", [AS_OF])
    # a source write for the incremental run (its change-capture trigger at the default threshold)
    conn.execute("RESET jit_above_cost")
    conn.execute("UPDATE bookings SET status = 'NO_SHOW' WHERE organization_id = %s AND customer_id = 'C3'", [org_a])
    conn.execute("SET jit_above_cost = 0")
    for mode, hours in (("incremental", 1), ("recent", 2)):
        conn.execute(top_level + "SELECT * FROM refresh_customer_analytics(%s, as_of => %s)",
                     [mode, AS_OF + timedelta(hours=hours)])
    conn.execute(top_level + "SELECT * FROM refresh_customer_analytics_for_customer(%s, 'C2', %s)",
                 [org_b, AS_OF + timedelta(hours=3)])
    conn.execute(top_level + "SELECT count(*) FROM customer_analytics_compute(%s)", [org_a])
    conn.execute(top_level + "SELECT count(*) FROM analytics_appointments_by_location_daily_between(%s)", [org_a])
    nested = [p for p in plans if top_level not in p]
    assert len(nested) > 20, len(nested)  # the refreshes' own statements were seen
    assert not [p for p in nested if "JIT:" in p], [p[:300] for p in nested if "JIT:" in p]


def test_segment_counts_follow_every_kind_of_refresh(conn):
    org_a, org_b, loc_a = small_world(conn)
    refresh(conn, as_of=AS_OF)
    stored, counted = segment_counts(conn)
    assert stored == counted and stored[(org_a, "PROSPECT")] == 1      # C0 never visited
    # C0's first visit, seen by the per-customer refresh: PROSPECT -> NEW
    d = SourceData(); d._ids = iter(range(10_000, 20_000))
    d.booking(org_a, "C0", loc_a, AS_OF - timedelta(days=1), booking_id="FIRSTVISIT")
    load(conn, d.tables)
    conn.execute("SELECT refresh_customer_analytics_for_customer(%s, 'C0', as_of => %s)", [org_a, AS_OF])
    stored, counted = segment_counts(conn)
    assert stored == counted and (org_a, "PROSPECT") not in stored   # the last PROSPECT's row went
    # a new profile arrives through a webhook: a PROSPECT again
    d = SourceData(); d._ids = iter(range(20_000, 30_000))
    d.customer(org_a, "NEWCOMER")
    load(conn, d.tables)
    conn.execute("SELECT refresh_customer_analytics_for_customer(%s, 'NEWCOMER', as_of => %s)", [org_a, AS_OF])
    stored, counted = segment_counts(conn)
    assert stored == counted and stored[(org_a, "PROSPECT")] == 1
    # five months later everyone has lapsed (the time-relative pass of an incremental run)
    refresh(conn, "incremental", as_of=AS_OF + timedelta(days=150))
    stored, counted = segment_counts(conn)
    assert stored == counted and {segment for _, segment in stored} == {"LOST", "PROSPECT"}
    # an organization that is gone leaves no counts behind
    conn.execute("DELETE FROM organizations WHERE id = %s", [org_b])
    refresh(conn, as_of=AS_OF + timedelta(days=150))
    stored, counted = segment_counts(conn)
    assert stored == counted and {org for org, _ in stored} == {org_a}


def test_segment_counts_recount_when_the_stored_counts_are_off(conn):
    # an incremental refresh shifts the counts by what moved; a count that would go negative
    # says the stored counts were off (written around the pack), and the organization is recounted
    org_a, org_b, loc_a = small_world(conn)
    refresh(conn, as_of=AS_OF)
    stored, _ = segment_counts(conn)
    assert stored[(org_a, "NEW")] == 4 and stored[(org_a, "PROSPECT")] == 1   # C1-C4, C0
    conn.execute("DELETE FROM zorina.segment_counts WHERE organization_id = %s AND customer_segment = 'NEW'",
                 [org_a])
    conn.execute("UPDATE bookings SET status = 'CANCELLED_BY_CUSTOMER' WHERE organization_id = %s "
                 "AND customer_id = 'C1'", [org_a])                                  # NEW -> PROSPECT
    refresh(conn, "incremental", as_of=AS_OF + timedelta(minutes=5))
    stored, counted = segment_counts(conn)
    assert stored == counted
    assert stored[(org_a, "NEW")] == 3 and stored[(org_a, "PROSPECT")] == 2
