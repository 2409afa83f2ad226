"""Scheduling inside the database (pg_cron jobs by name) and `zorina-db status`."""

import json
import time
from datetime import timedelta

import psycopg
import pytest
from click.testing import CliRunner

from builder import SourceData, ts
from conftest import CRON_DATABASE, load, refresh
from deployer.cli import main


def cli(*args):
    return CliRunner().invoke(main, list(args))


def jobs_of(cluster, dbname):
    with psycopg.connect(cluster.dsn(CRON_DATABASE)) as conn:
        return {name.split("@")[0]: (schedule, active, command) for name, schedule, active, command in conn.execute(
            "SELECT jobname, schedule, active, command FROM cron.job WHERE database = %s", [dbname])}


@pytest.fixture
def scheduled(cluster, new_database):
    dsn = new_database(template=True)
    result = cli("apply", "--dsn", dsn)
    assert result.exit_code == 0, result.output
    return dsn, dsn.rsplit("/", 1)[1]


def test_apply_installs_the_four_jobs(cluster, scheduled):
    dsn, dbname = scheduled
    jobs = jobs_of(cluster, dbname)
    assert {name: spec[0] for name, spec in jobs.items()} == {
        "zorina_incremental": "*/5 * * * *", "zorina_recent": "0 * * * *",
        "zorina_full": "30 3 * * *", "zorina_cleanup": "15 4 * * *"}
    assert all(active for _, active, _ in jobs.values())
    assert "refresh_customer_analytics('incremental')" in jobs["zorina_incremental"][2]
    assert "zorina.cleanup_history(14)" in jobs["zorina_cleanup"][2]


def test_jobs_are_configurable_and_reapply_keeps_the_changes(cluster, scheduled):
    dsn, dbname = scheduled
    assert cli("schedule", "--dsn", dsn, "--job", "incremental", "--every", "*/10 * * * *").exit_code == 0
    assert cli("schedule", "--dsn", dsn, "--job", "recent", "--disable").exit_code == 0
    assert cli("schedule", "--dsn", dsn, "--job", "cleanup", "--retention-days", "30").exit_code == 0
    again = cli("apply", "--dsn", dsn, "--json")
    assert json.loads(again.stdout)["changed"] is False
    jobs = jobs_of(cluster, dbname)
    assert jobs["zorina_incremental"][0] == "*/10 * * * *"
    assert jobs["zorina_recent"][1] is False
    assert "cleanup_history(30)" in jobs["zorina_cleanup"][2]
    assert cli("schedule", "--dsn", dsn, "--job", "recent", "--enable").exit_code == 0
    assert jobs_of(cluster, dbname)["zorina_recent"][1] is True


def test_bad_schedule_requests_are_one_line_errors(scheduled):
    dsn, _ = scheduled
    unknown = cli("schedule", "--dsn", dsn, "--job", "weekly")
    assert unknown.exit_code == 1 and "'weekly'" in unknown.output and "incremental, recent, full, cleanup" in unknown.output
    wrong = cli("schedule", "--dsn", dsn, "--job", "full", "--retention-days", "3")
    assert wrong.exit_code == 1 and "cleanup job only" in wrong.output
    orphan = cli("schedule", "--dsn", dsn, "--every", "* * * * *")
    assert orphan.exit_code == 2 and "need --job" in orphan.output
    bad_cron = cli("schedule", "--dsn", dsn, "--job", "full", "--every", "every day")
    assert bad_cron.exit_code == 1 and "Traceback" not in bad_cron.output


def test_unschedule_removes_all_jobs(cluster, scheduled):
    dsn, dbname = scheduled
    result = cli("unschedule", "--dsn", dsn, "--yes", "--json")
    assert sorted(json.loads(result.stdout)["removed"]) == sorted(
        f"zorina_{name}@{dbname}" for name in ("incremental", "recent", "full", "cleanup"))
    assert jobs_of(cluster, dbname) == {}
    assert cli("schedule", "--dsn", dsn).exit_code == 0      # and back
    assert len(jobs_of(cluster, dbname)) == 4


def small_org(dsn):
    d = SourceData(); org = d.org(); loc = d.location(org)
    d.customer(org, "A"); d.booking(org, "A", loc, "2026-01-01 10:00+00")
    with psycopg.connect(dsn, autocommit=True) as conn:
        load(conn, d.tables)
    return org


def test_a_scheduled_job_really_runs_and_status_reports_it(cluster, scheduled):
    dsn, dbname = scheduled
    small_org(dsn)
    assert cli("refresh", "--dsn", dsn, "--mode", "full").exit_code == 0
    assert cli("schedule", "--dsn", dsn, "--job", "incremental", "--every", "* * * * *").exit_code == 0
    deadline = time.monotonic() + 150
    run = None
    with psycopg.connect(cluster.dsn(CRON_DATABASE), autocommit=True) as conn:
        while time.monotonic() < deadline:
            run = conn.execute(
                """SELECT d.status FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                    WHERE j.jobname = %s AND d.status IN ('succeeded', 'failed')""",
                [f"zorina_incremental@{dbname}"]).fetchone()
            if run:
                break
            time.sleep(1)
    assert run == ("succeeded",), "pg_cron did not run the job within 150 s"
    status = cli("status", "--dsn", dsn, "--json")
    report = json.loads(status.stdout)
    job = next(j for j in report["jobs"] if j["job"].startswith("zorina_incremental"))
    assert job["last_status"] == "succeeded" and job["next_run"] is not None
    assert report["recent_runs"][0]["mode"] == "incremental"
    assert report["recent_runs"][0]["status"] == "completed"
    assert status.exit_code == 0 and report["healthy"] is True


def test_status_exits_1_when_stale_or_failed(cluster, new_database):
    dsn = new_database(template=True)
    org = small_org(dsn)
    never = cli("status", "--dsn", dsn, "--json")
    assert never.exit_code == 1 and "never refreshed" in json.loads(never.stdout)["problems"][0]
    assert cli("refresh", "--dsn", dsn, "--mode", "full", "--as-of", "2026-06-01 00:00+00").exit_code == 0
    stale = cli("status", "--dsn", dsn)
    assert stale.exit_code == 1 and "stale" in stale.stdout
    assert cli("refresh", "--dsn", dsn, "--mode", "full").exit_code == 0
    fresh = cli("status", "--dsn", dsn, "--json")
    assert fresh.exit_code == 0, fresh.output
    assert json.loads(fresh.stdout)["jobs"] == []            # applied without jobs (template)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("""UPDATE organizations SET settings = '{"segment_new_days": 0}' WHERE id = %s""", [org])
    assert cli("refresh", "--dsn", dsn, "--mode", "full").exit_code == 1
    failed = cli("status", "--dsn", dsn, "--json")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["problems"][0].startswith("latest refresh failed: 22023")
    lenient = cli("status", "--dsn", dsn, "--max-age-minutes", "100000")
    assert lenient.exit_code == 1   # still failed


def test_cleanup_deletes_old_history_only(conn):
    conn.execute("""INSERT INTO application_logs (id, log_type, log_id, status, payload, created_at, updated_at)
                    VALUES ('old', 'customer_analytics_refresh', 'old', 'completed', '{}', now() - interval '20 days', now()),
                           ('new', 'customer_analytics_refresh', 'new', 'completed', '{}', now() - interval '2 days', now()),
                           ('other', 'someone_elses_log', 'other', 'completed', '{}', now() - interval '90 days', now())""")
    result = conn.execute("SELECT * FROM zorina.cleanup_history(14)").fetchone()
    assert result["application_logs_deleted"] == 1
    assert sorted(r["id"] for r in conn.execute("SELECT id FROM application_logs")) == ["new", "other"]
    with pytest.raises(psycopg.Error) as error:
        conn.execute("SELECT * FROM zorina.cleanup_history(0)")
    assert error.value.diag.sqlstate == "22023"
