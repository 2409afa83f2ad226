"""`zorina-db apply` / `rollback` against real databases (issue: foundation)."""

import json

import psycopg
import pytest
from click.testing import CliRunner

from deployer import apply as apply_mod
from deployer.cli import main


def run_cli(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def schema_fingerprint(dsn) -> list:
    """Every relation, column and function of the database: what 'changes nothing' compares."""
    with psycopg.connect(dsn) as conn:
        return conn.execute("""
            SELECT 'column', table_schema || '.' || table_name || '.' || column_name
              FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
            UNION ALL
            SELECT 'function', p.oid::regprocedure::text FROM pg_proc p
              JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
            UNION ALL
            SELECT 'extension', extname FROM pg_extension
            ORDER BY 1, 2""").fetchall()


def test_apply_on_empty_database_installs_everything(new_database):
    dsn = new_database()
    result = run_cli("apply", "--dsn", dsn, "--with-source-schema", "--no-schedule", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    steps = {s["step"]: s for s in report["steps"]}
    assert report["changed"] is True
    assert steps["migrations"]["changed"] == ["0001-customer-analytics", "0002-change-capture",
                                              "0003-segment-counts", "0004-referral-code-indexes",
                                              "0005-rfm-rank-indexes", "0006-dirty-keys-per-statement",
                                              "0007-inlinable-next-day-boundary",
                                              "0008-customer-analytics-autovacuum",
                                              "0009-rfm-boundaries"]
    assert "refresh_customer_analytics" in steps["functions"]["changed"]
    assert "customer_analytics_compute" in steps["functions"]["changed"]
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass('public.customer_analytics')").fetchone()[0] is not None
        assert conn.execute("SELECT to_regprocedure('refresh_customer_analytics(text,uuid,timestamptz)')"
                            ).fetchone()[0] is not None


def test_apply_twice_is_a_no_op(new_database):
    dsn = new_database()
    assert run_cli("apply", "--dsn", dsn, "--with-source-schema", "--no-schedule").exit_code == 0
    before = schema_fingerprint(dsn)
    second = run_cli("apply", "--dsn", dsn, "--with-source-schema", "--no-schedule", "--json")
    assert second.exit_code == 0
    report = json.loads(second.stdout)
    assert report["changed"] is False
    assert all(not step["changed"] for step in report["steps"])
    assert schema_fingerprint(dsn) == before
    human = run_cli("apply", "--dsn", dsn, "--no-schedule")
    assert "nothing to do" in human.stdout


def test_dry_run_lists_changes_and_changes_nothing(new_database):
    dsn = new_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute((apply_mod.sqlfiles.files("source")[0]).text)
    before = schema_fingerprint(dsn)
    result = run_cli("apply", "--dsn", dsn, "--dry-run", "--no-schedule", "--json")
    assert result.exit_code == 0, result.output
    steps = {s["step"]: s for s in json.loads(result.stdout)["steps"]}
    assert steps["migrations"]["changed"] == ["0001-customer-analytics", "0002-change-capture",
                                              "0003-segment-counts", "0004-referral-code-indexes",
                                              "0005-rfm-rank-indexes", "0006-dirty-keys-per-statement",
                                              "0007-inlinable-next-day-boundary",
                                              "0008-customer-analytics-autovacuum",
                                              "0009-rfm-boundaries"]
    assert steps["functions"]["changed"]
    assert schema_fingerprint(dsn) == before


def test_missing_source_column_fails_with_the_list_and_changes_nothing(new_database):
    dsn = new_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute((apply_mod.sqlfiles.files("source")[0]).text)
        conn.execute("ALTER TABLE bookings DROP COLUMN seller_note")
        conn.execute("ALTER TABLE payments DROP COLUMN tip_money_amount")
        conn.execute("DROP TABLE referral_rewards")
    before = schema_fingerprint(dsn)
    result = run_cli("apply", "--dsn", dsn, "--no-schedule")
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    for missing in ("bookings.seller_note", "payments.tip_money_amount", "referral_rewards.id",
                    "referral_rewards.status"):
        assert missing in result.output
    assert schema_fingerprint(dsn) == before  # no migration table, no function, nothing


def test_rollback_undoes_the_last_migration_and_apply_restores_it(new_database):
    dsn = new_database()
    assert run_cli("apply", "--dsn", dsn, "--with-source-schema", "--no-schedule").exit_code == 0
    refused = CliRunner().invoke(main, ["rollback", "--dsn", dsn], input="")
    assert refused.exit_code != 0
    # last in, first out: the RFM bucket boundaries go first (refreshes keep working without
    # them: they rank organizations whole), then the autovacuum thresholds (fillfactor stays),
    # then the inlinable next_day_boundary (0002's body back), then the dirty keys per statement
    # (pending keys carried back to one row per customer, and forward again), then the RFM
    # ranking indexes, then the referral-code indexes, then the segment summary (its view with
    # it), then change capture
    def boundary_body():
        with psycopg.connect(dsn) as conn:
            return conn.execute("SELECT prosrc FROM pg_proc WHERE oid = "
                                "'zorina.next_day_boundary(timestamptz,timestamptz,integer,integer)'::regprocedure"
                                ).fetchone()[0]
    def table_options():
        with psycopg.connect(dsn) as conn:
            return sorted(conn.execute("SELECT reloptions FROM pg_class WHERE oid = 'customer_analytics'::regclass"
                                       ).fetchone()[0] or [])
    assert table_options() == ["autovacuum_vacuum_insert_scale_factor=0.01",
                               "autovacuum_vacuum_scale_factor=0.01", "fillfactor=90"]
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert result.exit_code == 0 and "0009-rfm-boundaries" in result.stdout, result.output
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass('zorina.rfm_boundaries')").fetchone()[0] is None
        # an organization with a visitor, refreshed whole and then incrementally after a change
        org = conn.execute("INSERT INTO organizations (name) VALUES ('Rolled back') RETURNING id").fetchone()[0]
        location = conn.execute("INSERT INTO locations (organization_id, name) VALUES (%s, 'Main') RETURNING id",
                                [org]).fetchone()[0]
        conn.execute("INSERT INTO square_existing_clients (organization_id, square_customer_id) VALUES (%s, 'C1')",
                     [org])
        conn.execute("""INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, start_at, status)
                        VALUES (%s, 'B1', 'C1', %s, now() - interval '3 days', 'ACCEPTED')""", [org, location])
        conn.execute("SELECT refresh_customer_analytics('full')")
        conn.execute("""INSERT INTO bookings (organization_id, booking_id, customer_id, location_id, start_at, status)
                        VALUES (%s, 'B2', 'C1', %s, now() - interval '2 days', 'ACCEPTED')""", [org, location])
        conn.execute("SELECT refresh_customer_analytics('incremental')")
        assert conn.execute("SELECT total_accepted_bookings, rfm_frequency_score FROM customer_analytics"
                            ).fetchone() == (2, 1)
        conn.execute("DELETE FROM organizations WHERE id = %s", [org])
        conn.execute("SELECT refresh_customer_analytics('full')")  # its rows and captured changes go
        assert conn.execute("SELECT count(*) FROM zorina.dirty_keys").fetchone()[0] == 0
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert result.exit_code == 0 and "0008-customer-analytics-autovacuum" in result.stdout, result.output
    assert table_options() == ["fillfactor=90"]
    assert "timestamptz 'epoch'" in boundary_body()
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert result.exit_code == 0 and "0007-inlinable-next-day-boundary" in result.stdout, result.output
    assert "timestamptz 'epoch'" not in boundary_body() and "extract(epoch FROM last_booking_at)" in boundary_body()
    def pending_keys(column):
        with psycopg.connect(dsn) as conn:
            return sorted((str(k), str(v)) for k, v in conn.execute(
                f"SELECT organization_id, {column} FROM zorina.dirty_keys"))
    with psycopg.connect(dsn) as conn:
        conn.execute("""INSERT INTO zorina.dirty_keys (organization_id, square_customer_ids)
                        VALUES ('00000000-0000-0000-0000-00000000000a', ARRAY['A', 'B']),
                               ('00000000-0000-0000-0000-00000000000b', NULL)""")
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert result.exit_code == 0 and "0006-dirty-keys-per-statement" in result.stdout, result.output
    org_a, org_b = "00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b"
    assert pending_keys("square_customer_id") == [(org_a, "A"), (org_a, "B"), (org_b, "None")]
    assert run_cli("apply", "--dsn", dsn, "--no-schedule").exit_code == 0
    assert pending_keys("square_customer_ids") == [(org_a, "['A']"), (org_a, "['B']"), (org_b, "None")]
    assert "timestamptz 'epoch'" in boundary_body()
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert result.exit_code == 0 and "0009-rfm-boundaries" in result.stdout, result.output
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert result.exit_code == 0 and "0008-customer-analytics-autovacuum" in result.stdout, result.output
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert result.exit_code == 0 and "0007-inlinable-next-day-boundary" in result.stdout, result.output
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert result.exit_code == 0 and "0006-dirty-keys-per-statement" in result.stdout, result.output
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert result.exit_code == 0 and "0005-rfm-rank-indexes" in result.stdout, result.output
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass('public.customer_analytics_rfm_recency_idx')").fetchone()[0] is None
        assert conn.execute("SELECT reloptions FROM pg_class WHERE oid = 'customer_analytics'::regclass").fetchone()[0] is None
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert result.exit_code == 0 and "0004-referral-code-indexes" in result.stdout, result.output
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass('public.zorina_clients_personal_code_idx')").fetchone()[0] is None
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert result.exit_code == 0, result.output
    assert "0003-segment-counts" in result.stdout
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass('zorina.segment_counts')").fetchone()[0] is None
        assert conn.execute("SELECT to_regclass('public.analytics_segment_counts')").fetchone()[0] is None
        assert conn.execute("SELECT to_regclass('zorina.dirty_keys')").fetchone()[0] is not None
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert result.exit_code == 0, result.output
    assert "0002-change-capture" in result.stdout
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass('zorina.dirty_keys')").fetchone()[0] is None
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'zorina\\_%'").fetchone()[0] == 0
        assert conn.execute("SELECT to_regclass('public.customer_analytics')").fetchone()[0] is not None
    result = run_cli("rollback", "--dsn", dsn, "--yes")
    assert "0001-customer-analytics" in result.stdout
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass('public.customer_analytics')").fetchone()[0] is None
        assert conn.execute("SELECT to_regprocedure('refresh_customer_analytics(text,uuid,timestamptz)')"
                            ).fetchone()[0] is None
        assert conn.execute("SELECT to_regclass('public.bookings')").fetchone()[0] is not None  # not ours
    nothing = run_cli("rollback", "--dsn", dsn, "--yes")
    assert nothing.exit_code == 0 and "no applied migration" in nothing.stdout
    again = run_cli("apply", "--dsn", dsn, "--no-schedule", "--json")
    assert json.loads(again.stdout)["changed"] is True
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regprocedure('refresh_customer_analytics(text,uuid,timestamptz)')"
                            ).fetchone()[0] is not None
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'zorina\\_%'").fetchone()[0] == 16


def test_bad_dsn_is_one_line_error(tmp_path):
    result = run_cli("apply", "--dsn", "postgresql://nobody@127.0.0.1:1/nothing")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.output.strip().startswith("Error:")
